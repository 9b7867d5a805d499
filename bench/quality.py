"""STS-B quality after a brief fine-tune: lossbook's ``train()`` vs sentence-transformers' trainer, same recipe.

    LOSSBOOK_DATA=/work/shared/data HF_HUB_OFFLINE=1 python bench/quality.py [--steps 60] [--seeds 3]
        [--batch-size 16] [--max-seq-length 64] [--dims 384,256,128,64,32] [--device cpu]

all-MiniLM-L6-v2 is scored on STS-B validation (Spearman of cosine vs gold, ``lossbook.evaluate``)
before and after a brief fine-tune on STS-B train, once per seed, with each library's own class of
each loss (same data, steps, batch size, learning rate, warm-up, seeds; fp32):

1. CoSENTLoss, AnglELoss, CosineSimilarityLoss: Spearman mean +- std over the seeds, and the gain over
   the base model.
2. MatryoshkaLoss(CoSENTLoss, dims) vs plain CoSENTLoss vs the base model, at each dim of ``--dims``
   (embeddings cut to the first d components and re-normalised, ``evaluate_sts(..., dims=...)``).

The two libraries should land within noise of each other; Matryoshka should hold up better at the small
dims. Shrink everything for a smoke test: ``--steps 3 --seeds 1 --rows 64 --eval-rows 50 --tiny``.
"""

from __future__ import annotations

import argparse
import time

from _common import add_common_arguments, apply_common_arguments, header, mean_std, model_path, print_rows, st_train

LOSSES = {"CoSENT": "CoSENTLoss", "AnglE": "AnglELoss", "CosineSimilarity": "CosineSimilarityLoss"}
LIBRARIES = ("lossbook", "sentence-transformers")


def fresh_model(library: str, path: str, args, device: str):
    if library == "lossbook":
        import lossbook

        return lossbook.load_model(path, device=device, max_seq_length=args.max_seq_length)
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(path, device=device)
    model.max_seq_length = args.max_seq_length
    return model


def build_loss(library: str, model, name: str, dims: list[int] | None):
    if library == "lossbook":
        from lossbook import losses
    else:
        from sentence_transformers.sentence_transformer import losses
    loss = getattr(losses, LOSSES[name])(model)
    return losses.MatryoshkaLoss(model, loss, matryoshka_dims=dims) if dims else loss


def fine_tune(library: str, name: str, seed: int, data, args, path: str, device: str, dims=None):
    """A fresh base model trained with one loss and seed; returns the trained model."""
    model = fresh_model(library, path, args, device)
    loss = build_loss(library, model, name, dims)
    if library == "lossbook":
        from lossbook.train import train

        train(
            model,
            loss,
            data,
            steps=args.steps,
            batch_size=args.batch_size,
            lr=args.lr,
            max_seq_length=args.max_seq_length,
            device=device,
            seed=seed,
            progress=False,
            mixed_precision=False,
        )
    else:
        st_train(model, loss, data, steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=seed, device=device)
    return model


def spearman_by_dim(model, validation, dims: list[int]) -> dict[int, float]:
    from lossbook.evaluate import evaluate_sts

    grid = evaluate_sts(model, validation, dims=dims)
    return dict(zip(grid.dims, grid.values_of("spearman")[-1].tolist()))


def cell(values: list[float]) -> str:
    mean, std = mean_std(values)
    return f"{mean:.4f} ± {std:.4f}" if len(values) > 1 else f"{mean:.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-seq-length", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--dims", default="384,256,128,64,32", help="Matryoshka dims, largest first")
    parser.add_argument("--rows", type=int, default=None, help="train on the first N rows of STS-B train")
    parser.add_argument("--eval-rows", type=int, default=None, help="score on the first N pairs of STS-B validation")
    parser.add_argument("--losses", default=",".join(LOSSES), help=f"comma-separated, from {', '.join(LOSSES)}")
    parser.add_argument(
        "--libraries", default=",".join(LIBRARIES), help="comma-separated: lossbook, sentence-transformers"
    )
    parser.add_argument("--no-matryoshka", action="store_true", help="skip part 2")
    add_common_arguments(parser)
    args = parser.parse_args()
    device = apply_common_arguments(args)
    header("STS-B quality: before and after a brief fine-tune, lossbook vs sentence-transformers", device)

    import lossbook

    path = model_path(args.tiny)
    train_data = lossbook.load_dataset("stsb", "train")
    validation = lossbook.load_dataset("stsb", "validation")
    if args.rows:
        train_data = train_data.select(range(min(args.rows, len(train_data))))
    if args.eval_rows:
        validation = validation.select(range(min(args.eval_rows, len(validation))))
    width = fresh_model("lossbook", path, args, "cpu").embedding_dim
    dims = sorted({d for d in (int(x) for x in args.dims.split(",")) if d <= width} | {width}, reverse=True)
    losses = [x.strip() for x in args.losses.split(",") if x.strip()]
    libraries = [x.strip() for x in args.libraries.split(",") if x.strip()]
    seeds = list(range(args.seeds))
    print(
        f"model: {path}; {len(train_data):,} training pairs, {len(validation):,} validation pairs; {args.steps} steps, "
        f"batch {args.batch_size}, max_seq_length {args.max_seq_length}, lr {args.lr:g}, seeds {seeds}, dims {dims}\n",
        flush=True,
    )

    # scores[(library, run)] = list over seeds of {dim: spearman}; run is "base", a loss name or "Matryoshka"
    scores: dict[tuple[str, str], list[dict[int, float]]] = {}
    for library in libraries:
        scores[library, "base"] = [spearman_by_dim(fresh_model(library, path, args, device), validation, dims)]
        print(f"  {library:>21} base model: spearman {scores[library, 'base'][0][dims[0]]:.4f}", flush=True)
    runs = [(name, None) for name in losses] + ([] if args.no_matryoshka else [("Matryoshka", dims)])
    for seed in seeds:
        for name, run_dims in runs:
            order = libraries if seed % 2 == 0 else libraries[::-1]
            for library in order:
                start = time.perf_counter()
                model = fine_tune(
                    library, "CoSENT" if run_dims else name, seed, train_data, args, path, device, run_dims
                )
                result = spearman_by_dim(model, validation, dims)
                scores.setdefault((library, name), []).append(result)
                print(
                    f"  {library:>21} {name:>16} seed {seed}: spearman {result[dims[0]]:.4f}  "
                    f"({time.perf_counter() - start:.0f} s)",
                    flush=True,
                )

    print("\n1. Spearman on STS-B validation (full size), mean ± std over seeds\n")
    rows = []
    for name in losses:
        for library in libraries:
            after = [run[dims[0]] for run in scores[library, name]]
            base = scores[library, "base"][0][dims[0]]
            rows.append([name, library, f"{base:.4f}", cell(after), f"{mean_std(after)[0] - base:+.4f}"])
    print_rows(rows, ["loss", "library", "before", "after", "gain"])

    if not args.no_matryoshka:
        print("2. Spearman by embedding size: base vs CoSENT vs Matryoshka(CoSENT), mean ± std over seeds\n")
        head, rows = ["dim"], []
        for library in libraries:
            head += [f"{library} base", f"{library} CoSENT", f"{library} Matryoshka"]
        for dim in dims:
            row = [str(dim)]
            for library in libraries:
                row += [f"{scores[library, 'base'][0][dim]:.4f}"]
                row += [
                    cell([run[dim] for run in scores.get((library, key), [])]) if (library, key) in scores else "-"
                    for key in ("CoSENT", "Matryoshka")
                ]
            rows.append(row)
        print_rows(rows, head)


if __name__ == "__main__":
    main()
