"""Where a training step's time goes, and how close it runs to the machine's matrix-product peak.

    HF_HUB_OFFLINE=1 python bench/profile_step.py [--steps 12] [--device cpu] [--mixed-precision auto]

Two cases, all-MiniLM-L6-v2 with CoSENTLoss on STS-B train through lossbook's own ``train()`` step:
the brief step a learner makes (batch 16, max_seq_length 64) and a batch-32 step (max_seq_length 128).
For each it prints

* the median step time (after two warm-up steps),
* the share of that time spent in matrix products (torch profiler: self time of ``mm``, ``addmm``,
  ``bmm``, ``baddbmm`` and oneDNN's matmul kernels),
* the useful FLOP/s: ``6 x non-embedding parameters x real tokens per step / step time`` (forward 2,
  backward 4 FLOPs per weight and token; padding and attention scores not counted),

next to the machine's measured matrix-product peak in fp32 and bf16 (a 2048 x 2048 product, median of
five). The CPU model and flags are printed first: the machines change.
"""

from __future__ import annotations

import argparse
import statistics
import time

from _common import add_common_arguments, apply_common_arguments, header, model_path, print_rows

MATMUL_KERNELS = ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::_mkldnn_matmul", "mkldnn_matmul")
CASES = {"brief (batch 16, 64 tokens)": (16, 64), "batch 32 (128 tokens)": (32, 128)}


def matmul_peak(dtype, device: str, size: int = 2048, repeats: int = 5) -> float:
    """FLOP/s of a size x size matrix product on this device (median of ``repeats``)."""
    import torch

    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    a @ b  # warm-up
    times = []
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        a @ b
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return 2 * size**3 / statistics.median(times)


def profile_case(model, data, batch_size: int, max_seq_length: int, steps: int, mixed_precision) -> dict:
    """Train ``steps`` steps with the profiler on; time, matrix-product share and useful FLOP/s of a step."""
    from torch.profiler import ProfilerActivity, profile

    from lossbook import losses
    from lossbook.batching import TokenizedColumns
    from lossbook.train import train

    loss = losses.CoSENTLoss(model)
    history = train(
        model,
        loss,
        data,
        steps=2,
        batch_size=batch_size,
        max_seq_length=max_seq_length,
        progress=False,
        mixed_precision=mixed_precision,
    )  # fmt: skip  (warm-up, outside the profile)
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        history = train(model, loss, data, steps=steps, batch_size=batch_size, max_seq_length=max_seq_length,
                        progress=False, mixed_precision=mixed_precision)  # fmt: skip
    gaps = [b - a for a, b in zip(history.seconds, history.seconds[1:])][1:]
    step_seconds = statistics.median(gaps)
    events = profiler.key_averages()
    total_self = sum(e.self_cpu_time_total for e in events)
    matmul_self = sum(e.self_cpu_time_total for e in events if e.key in MATMUL_KERNELS)
    # Real tokens per step: the data's mean tokens per row and column, times the rows of a step.
    sample = TokenizedColumns.build(model, data, ["sentence1", "sentence2"], None, max_seq_length)
    rows = list(range(min(len(data), 512)))
    mean_tokens = sum(len(ids) for column in sample.ids(rows) for ids in column) / len(rows)
    tokens_per_step = mean_tokens * batch_size
    non_embedding = sum(
        p.numel() for name, p in model.named_parameters() if "embeddings" not in name and p.requires_grad
    )
    useful = 6 * non_embedding * tokens_per_step / step_seconds
    return {
        "seconds": step_seconds,
        "matmul_share": matmul_self / total_self if total_self else float("nan"),
        "useful_flops": useful,
        "tokens": tokens_per_step,
        "precision": f"{history.config['mixed_precision']} ({history.config['precision_reason']})",
        "top": sorted(events, key=lambda e: -e.self_cpu_time_total)[:8],
        "total_self": total_self,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12, help="profiled steps per case (default 12)")
    parser.add_argument("--mixed-precision", choices=["fp32", "auto"], default="fp32")
    add_common_arguments(parser)
    args = parser.parse_args()
    device = apply_common_arguments(args)
    header("profile of a training step: matrix-product share and useful FLOP/s", device)

    import torch

    import lossbook

    peaks = {"fp32": matmul_peak(torch.float32, device), "bf16": matmul_peak(torch.bfloat16, device)}
    print(f"matrix-product peak (2048 x 2048): fp32 {peaks['fp32'] / 1e9:.0f} GFLOP/s, "
          f"bf16 {peaks['bf16'] / 1e9:.0f} GFLOP/s\n")  # fmt: skip
    data = lossbook.load_dataset("stsb", verbose=False)
    mixed_precision = "auto" if args.mixed_precision == "auto" else False
    rows = []
    for name, (batch_size, max_seq_length) in CASES.items():
        model = lossbook.load_model(model_path(args.tiny), device=device)
        result = profile_case(model, data, batch_size, max_seq_length, args.steps, mixed_precision)
        peak = peaks["bf16" if result["precision"].startswith("bf16") else "fp32"]
        share, useful = result["matmul_share"], result["useful_flops"]
        rows.append([name, f"{result['seconds']:.3f}", f"{result['tokens']:.0f}", f"{100 * share:.0f}%",
                     f"{useful / 1e9:.0f}", f"{100 * useful / peak:.0f}%", result["precision"]])  # fmt: skip
        print(f"{name}: the operators with the most self time")
        for event in result["top"]:
            print(f"    {event.key:40s} {100 * event.self_cpu_time_total / result['total_self']:5.1f}%")
    print()
    print_rows(rows, ["case", "s/step", "real tokens/step", "matmul share", "useful GFLOP/s", "of peak", "precision"])
    print("\ntarget: matrix products >= 70% of a brief fp32 step")


if __name__ == "__main__":
    main()
