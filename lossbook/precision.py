"""Which number format a run computes in: fp32, or bf16/fp16 autocast where the hardware makes it pay.

On a GPU, bf16 (fp16 where bf16 is missing) autocast is the usual choice. On a CPU it depends on the
chip: with native bf16 matrix units (Intel AMX, AVX512-BF16) bf16 matrix products run several times
faster than fp32; without them, bf16 is emulated and slower. ``mixed_precision="auto"`` therefore
turns bf16 on for a CPU only when the CPU has such units *and* a one-off micro-benchmark (a copy of
the model's first transformer layer, forward and backward on a brief step's shape, well under a
second, measured once per process and shape) shows it at least ``CPU_SPEEDUP_NEEDED`` times faster
than fp32. Small models lose: in a 64-wide layer the casts cost more than the matrix products save.
The choice and its reason are kept, so that a History, the plan and the explorer can say why a run
computed the way it did.
"""

from __future__ import annotations

import contextlib
import copy
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

__all__ = [
    "CPU_SPEEDUP_NEEDED",
    "Precision",
    "choose_precision",
    "cpu_bf16_speedup",
    "cpu_bf16_units",
    "feed_forward_shape",
    "measured_cpu_bf16_speedup",
    "representative_block",
]

#: bf16 must be at least this much faster than fp32 on the micro-benchmark before "auto" uses it on a CPU.
CPU_SPEEDUP_NEEDED = 1.3


@dataclass(frozen=True)
class Precision:
    """A run's number format: ``dtype`` None for fp32, else the autocast dtype; ``reason`` says why."""

    dtype: torch.dtype | None
    reason: str

    @property
    def name(self) -> str:
        return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}.get(self.dtype, str(self.dtype))

    def autocast(self, device: torch.device):
        """The context a forward pass runs in: autocast to ``dtype``, or nothing for fp32."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device.type, dtype=self.dtype)

    @property
    def needs_grad_scaler(self) -> bool:
        """fp16 gradients underflow without loss scaling; bf16 has fp32's range and needs none."""
        return self.dtype == torch.float16


def cpu_bf16_units() -> list[str]:
    """The CPU's native bf16 matrix features named in ``/proc/cpuinfo`` (empty elsewhere, or without them)."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []
    flags = next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), [])
    return [flag for flag in ("amx_bf16", "avx512_bf16") if flag in flags]


def representative_block(model) -> nn.Module:
    """A copy of the model's first transformer layer, or a MiniLM-sized feed-forward block when it has none."""
    layers = getattr(getattr(getattr(model, "transformer", None), "encoder", None), "layer", None)
    if layers is not None and len(layers) > 0:
        return copy.deepcopy(layers[0]).float().cpu().train()
    return nn.Sequential(nn.Linear(384, 1536), nn.GELU(), nn.Linear(1536, 384))


def measured_cpu_bf16_speedup(
    block: nn.Module, hidden: int, rows: int = 16, tokens: int = 32, repeats: int = 5
) -> float:
    """fp32 time over bf16-autocast time of ``block``, forward and backward, on a brief step's shape.

    ``rows`` texts of ``tokens`` tokens (a brief run's batch) of width ``hidden``; medians of ``repeats``
    runs after a warm-up. The whole layer, not only its matrix products: attention, layer norms and the
    casts autocast adds are part of what a step pays.
    """
    inputs = torch.randn(rows, tokens, hidden, generator=torch.Generator().manual_seed(0))

    def seconds(dtype: torch.dtype | None) -> float:
        def once() -> None:
            with Precision(dtype, "").autocast(torch.device("cpu")):
                output = block(inputs.requires_grad_(True))
            output = output[0] if isinstance(output, tuple) else output
            output.float().sum().backward()

        once()  # warm-up: kernel selection, first-touch allocation
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            once()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    return seconds(None) / seconds(torch.bfloat16)


_measured: dict[tuple, float] = {}


def cpu_bf16_speedup(model) -> float:
    """``measured_cpu_bf16_speedup`` of the model's own layer, measured once per process and layer shape."""
    hidden, intermediate = feed_forward_shape(model)
    block = representative_block(model)
    key = (type(block).__name__, hidden, intermediate)
    if key not in _measured:
        _measured[key] = measured_cpu_bf16_speedup(block, hidden)
    return _measured[key]


def feed_forward_shape(model) -> tuple[int, int]:
    """(hidden, intermediate) width of the model's transformer, MiniLM's (384, 1536) when it does not say."""
    config = getattr(getattr(model, "transformer", None), "config", None)
    hidden = getattr(config, "hidden_size", None) or 384
    return hidden, getattr(config, "intermediate_size", None) or 4 * hidden


def choose_precision(device: torch.device, mixed_precision: bool | str = "auto", model=None) -> Precision:
    """The number format for a run of ``model`` on ``device``.

    ``mixed_precision``: ``False`` always fp32; ``True`` bf16 (fp16 on a GPU without bf16) on any device;
    ``"auto"``: on CUDA as ``True``; on a CPU bf16 only where it has native bf16 units and the measured
    speed-up on the model's feed-forward shape reaches ``CPU_SPEEDUP_NEEDED``; fp32 on anything else
    (Apple MPS included).
    """
    if mixed_precision not in (True, False, "auto"):
        raise ValueError(f"mixed_precision must be True, False or 'auto'; got {mixed_precision!r}.")
    if mixed_precision is False:
        return Precision(None, "mixed_precision=False")
    if device.type == "cuda":
        if torch.cuda.is_bf16_supported():
            return Precision(torch.bfloat16, "CUDA GPU with bf16")
        return Precision(torch.float16, "CUDA GPU without bf16: fp16 with loss scaling")
    if mixed_precision is True:
        return Precision(torch.bfloat16, f"mixed_precision=True on {device.type}")
    if device.type != "cpu":
        return Precision(None, f"auto: fp32 on {device.type}")
    units = cpu_bf16_units()
    if not units:
        return Precision(None, "auto: this CPU has no native bf16 matrix units (AMX, AVX512-BF16)")
    speedup = cpu_bf16_speedup(model)
    if speedup < CPU_SPEEDUP_NEEDED:
        return Precision(
            None, f"auto: CPU has {', '.join(units)} but bf16 measured only {speedup:.2f}x fp32's speed here"
        )
    return Precision(torch.bfloat16, f"auto: CPU has {', '.join(units)}; bf16 measured {speedup:.1f}x fp32's speed")
