"""Which number format a run computes in: fp32, or bf16/fp16 autocast where the hardware makes it pay.

On a GPU, bf16 (fp16 where bf16 is missing) autocast is the usual choice. On a CPU it depends on the
chip: with native bf16 matrix units (Intel AMX, AVX512-BF16) bf16 matrix products run several times
faster than fp32; without them, bf16 is emulated and slower. ``mixed_precision="auto"`` therefore
turns bf16 on for a CPU only when the CPU has such units *and* a one-off micro-benchmark (a brief
step's forward and backward of the model itself plus the optimiser's share, a second or two, measured
once per process and model shape) shows the step at least ``CPU_SPEEDUP_NEEDED`` times faster than
fp32. Small models lose: in a 64-wide model the casts cost more than the matrix products save.
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
    "measured_cpu_bf16_speedup",
]

#: The micro-benchmark's bf16 speed-up needed before "auto" uses bf16 on a CPU. It asks for 1.5 so that the
#: step gains at least ~1.3x: on the brief MiniLM run (2-core Xeon with AMX) the micro-benchmark measured
#: 1.32-1.36 while the whole step ran 1.2x faster, and bf16 costs ~150 MB more memory at a run's peak.
CPU_SPEEDUP_NEEDED = 1.5


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


def _seconds(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def measured_cpu_bf16_speedup(model: nn.Module, rows: int = 32, tokens: int = 12, repeats: int = 5) -> float:
    """How much faster a brief training step of ``model`` runs in bf16 autocast than in fp32, on this CPU.

    Measured on the model itself: forward and backward of ``rows`` random texts of ``tokens`` tokens (a
    brief run's step: 16 STS-B pairs of 12 tokens on average; the gradients are freed, no weight
    changes), plus the optimiser's share, which bf16 does not speed up (fused AdamW timed on a copy of
    one layer, scaled to the model's parameter count).
    The whole step counts: on the brief MiniLM run, a layer alone measured 1.7x faster in bf16 while the
    step was only 1.2x faster (embedding gradient, optimiser, clipping and dropout cost the same in both).
    """
    parameters = [p for p in model.parameters() if p.requires_grad]
    vocabulary = model.transformer.config.vocab_size
    ids = torch.randint(0, vocabulary, (rows, tokens), generator=torch.Generator().manual_seed(0))
    features = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "token_type_ids": torch.zeros_like(ids)}
    was_training = model.training
    model.train()

    def forward_backward(dtype: torch.dtype | None):
        def run() -> None:
            with Precision(dtype, "").autocast(torch.device("cpu")):
                embedding = model(dict(features))["sentence_embedding"]
            embedding.float().sum().backward()
            model.zero_grad(set_to_none=True)

        return run

    # fp32 and bf16 timed in turns, one ratio per pair: load on the machine hits both sides of a pair alike.
    fp32, bf16 = forward_backward(None), forward_backward(torch.bfloat16)
    try:
        fp32(), bf16()  # warm-up: kernel selection, first-touch allocation
        pairs = [(_seconds(fp32), _seconds(bf16)) for _ in range(repeats)]
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    layer = copy.deepcopy(model.transformer.encoder.layer[0]).float()
    layer_parameters = list(layer.parameters())
    for parameter in layer_parameters:
        parameter.grad = torch.zeros_like(parameter)
    optimizer = torch.optim.AdamW(layer_parameters, lr=1e-9, fused=True)
    optimizer.step()  # warm-up
    update = statistics.median(_seconds(optimizer.step) for _ in range(repeats))
    update *= sum(p.numel() for p in parameters) / max(1, sum(p.numel() for p in layer_parameters))
    return statistics.median((slow + update) / (fast + update) for slow, fast in pairs)


_measured: dict[tuple, float] = {}


def cpu_bf16_speedup(model) -> float:
    """``measured_cpu_bf16_speedup`` of the model, measured once per process and model shape."""
    config = model.transformer.config
    key = (type(model.transformer).__name__, config.hidden_size, config.num_hidden_layers, config.vocab_size)
    if key not in _measured:
        try:
            _measured[key] = measured_cpu_bf16_speedup(model)
        except RuntimeError:  # e.g. every weight frozen: nothing to time a backward pass on; stay in fp32
            return 0.0
    return _measured[key]


def choose_precision(device: torch.device, mixed_precision: bool | str = "auto", model=None) -> Precision:
    """The number format for a run of ``model`` on ``device``.

    ``mixed_precision``: ``False`` always fp32; ``True`` bf16 (fp16 on a GPU without bf16) on any device;
    ``"auto"``: on CUDA as ``True``; on a CPU bf16 only where it has native bf16 units and the measured
    speed-up of the model's step reaches ``CPU_SPEEDUP_NEEDED``; fp32 on anything else
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
    config = getattr(getattr(model, "transformer", None), "config", None)
    if config is None or not hasattr(getattr(model.transformer, "encoder", None), "layer"):
        return Precision(None, "auto: fp32 (only a lossbook EmbeddingModel's step can be measured for bf16)")
    speedup = cpu_bf16_speedup(model)
    if speedup < CPU_SPEEDUP_NEEDED:
        return Precision(
            None, f"auto: CPU has {', '.join(units)} but bf16 measured only {speedup:.2f}x fp32's speed here"
        )
    return Precision(torch.bfloat16, f"auto: CPU has {', '.join(units)}; bf16 measured {speedup:.1f}x fp32's speed")
