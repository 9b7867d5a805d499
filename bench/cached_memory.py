"""Peak memory of one training step: MultipleNegativesRankingLoss vs CachedMultipleNegativesRankingLoss.

    LOSSBOOK_DATA=/work/shared/data HF_HUB_OFFLINE=1 python bench/cached_memory.py
        [--batch-sizes 32,64,128,256,512] [--mini-batch-size 32] [--max-seq-length 128] [--tiny] [--device cpu]

For each library (lossbook, sentence-transformers), loss and batch size, a FRESH Python process loads
the model, builds one batch of qa-pairs rows (repeated when the set is smaller than the batch), and
runs one forward + backward pass (no optimiser step: its state is the same size for every batch). It
reports the memory the step added:

* on a CPU: the peak resident memory during the step (``resource.getrusage``, after resetting the
  process's high-water mark through ``/proc/self/clear_refs`` where Linux allows it) minus the resident
  memory just before the step;
* on CUDA: ``torch.cuda.max_memory_allocated`` minus the memory allocated before the step.

A process per measurement keeps one configuration's allocations from hiding in the next one's peak.
The gradient cache should keep CachedMNRL nearly flat in the batch size: the target is
CachedMNRL@512 / CachedMNRL@32 <= 1.3 for lossbook (the largest over the smallest batch size given).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

from _common import add_common_arguments, apply_common_arguments, header, model_path, print_rows, ratio_line

LOSSES = {"MNRL": "MultipleNegativesRankingLoss", "CachedMNRL": "CachedMultipleNegativesRankingLoss"}
LIBRARIES = ("lossbook", "sentence-transformers")
TARGET = 1.3


# -- the child: one configuration, one step ---------------------------------------------------------
def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> bool:
    """Set the peak resident memory back to the current one (Linux >= 4.0); False where not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def one_step(library: str, loss_name: str, rows: list[dict], args, device: str):
    """Build the model, the loss and the batch, then return a function that runs forward + backward."""
    path = model_path(args.tiny)
    kwargs = {"mini_batch_size": args.mini_batch_size} if loss_name == "CachedMNRL" else {}
    anchors, positives = [row["anchor"] for row in rows], [row["positive"] for row in rows]
    if library == "lossbook":
        import datasets

        import lossbook
        from lossbook import losses
        from lossbook.batching import TokenizedColumns
        from lossbook.step import step_loss

        model = lossbook.load_model(path, device=device, max_seq_length=args.max_seq_length).train()
        loss = getattr(losses, LOSSES[loss_name])(model, **kwargs)
        batch = datasets.Dataset.from_dict({"anchor": anchors, "positive": positives})
        tokens = TokenizedColumns.build(model, batch, ["anchor", "positive"], None, args.max_seq_length)
        pad_id = model.tokenizer.pad_token_id or 0
        return lambda: step_loss(model, loss, tokens, list(range(len(rows))), None, pad_id, model.device).backward()
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import losses

    model = SentenceTransformer(path, device=device)
    model.max_seq_length = args.max_seq_length
    model.train()
    loss = getattr(losses, LOSSES[loss_name])(model, **kwargs)
    features = [
        {k: v.to(device) if hasattr(v, "to") else v for k, v in model.preprocess(texts).items()}
        for texts in (anchors, positives)
    ]
    return lambda: loss(features, None).backward()


def child(args, device: str) -> None:
    import torch

    import lossbook

    data = lossbook.load_dataset("qa-pairs", verbose=False)
    rows = [data[i % len(data)] for i in range(args.batch_size)]
    step = one_step(args.library, args.loss, rows, args, device)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated() / 2**20
        step()
        torch.cuda.synchronize()
        peak, source = torch.cuda.max_memory_allocated() / 2**20, "CUDA allocator"
    else:
        was_reset = reset_peak()
        before = resident_mb()
        step()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        source = "peak RSS" + ("" if was_reset else " (high-water mark NOT reset: loading may hide the step's peak)")
    print(
        "RESULT "
        + json.dumps({"before_mb": before, "peak_mb": peak, "step_mb": max(peak - before, 0.0), "source": source})
    )


# -- the parent: one fresh process per configuration ---------------------------------------------------
def measure(library: str, loss: str, batch_size: int, args) -> dict | None:
    command = (
        [
            sys.executable,
            __file__,
            "--child",
            "--library",
            library,
            "--loss",
            loss,
            "--batch-size",
            str(batch_size),
            "--mini-batch-size",
            str(args.mini_batch_size),
            "--max-seq-length",
            str(args.max_seq_length),
            "--device",
            args.device,
        ]
        + (["--tiny"] if args.tiny else [])
        + (["--threads", str(args.threads)] if args.threads else [])
    )
    done = subprocess.run(command, capture_output=True, text=True)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line.removeprefix("RESULT "))
    tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
    print(f"  {library} {loss}@{batch_size} failed (exit {done.returncode}): {tail}", flush=True)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", default="32,64,128,256,512")
    parser.add_argument("--mini-batch-size", type=int, default=32, help="CachedMNRL's mini_batch_size (default 32)")
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument(
        "--libraries", default=",".join(LIBRARIES), help="comma-separated: lossbook, sentence-transformers"
    )
    add_common_arguments(parser)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--library", choices=LIBRARIES, help=argparse.SUPPRESS)
    parser.add_argument("--loss", choices=list(LOSSES), help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    device = apply_common_arguments(args)
    if args.child:
        return child(args, device)

    sizes = sorted(int(x) for x in args.batch_sizes.split(","))
    libraries = [x.strip() for x in args.libraries.split(",") if x.strip()]
    header("peak memory of one training step: MNRL vs CachedMNRL, one fresh process per configuration", device)
    print(
        f"model: {model_path(args.tiny)}; qa-pairs rows, max_seq_length {args.max_seq_length}, "
        f"CachedMNRL mini_batch_size {args.mini_batch_size}\n",
        flush=True,
    )
    results: dict[tuple[str, str, int], dict | None] = {}
    for size in sizes:
        for library in libraries:
            for loss in LOSSES:
                results[library, loss, size] = found = measure(library, loss, size, args)
                if found:
                    print(
                        f"  {library:>21} {loss:>10} @ {size:>4}: +{found['step_mb']:,.0f} MB "
                        f"(from {found['before_mb']:,.0f} MB; {found['source']})",
                        flush=True,
                    )
    print()
    cell = lambda r: f"{r['step_mb']:,.0f}" if r else "failed"  # noqa: E731
    head = ["batch size"] + [f"{library} {loss} (MB)" for library in libraries for loss in LOSSES]
    print_rows(
        [[str(size)] + [cell(results[lib, loss, size]) for lib in libraries for loss in LOSSES] for size in sizes], head
    )
    small, large = sizes[0], sizes[-1]
    for library in libraries:
        for loss in LOSSES:
            a, b = results[library, loss, small], results[library, loss, large]
            if a and b and a["step_mb"] > 0:
                ratio = b["step_mb"] / a["step_mb"]
                label = f"{library} {loss}@{large} / {loss}@{small}"
                if library == "lossbook" and loss == "CachedMNRL":
                    print(ratio_line(label, ratio, f"<= {TARGET}", ratio <= TARGET))
                else:
                    print(f"{label}: {ratio:.2f}")


if __name__ == "__main__":
    main()
