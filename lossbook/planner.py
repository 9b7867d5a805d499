"""Before training: how long will it take, and how much memory, measured on one real step.

``plan(model, loss, data, batch_size=16, steps=100)`` runs a couple of forward + backward passes on
real batches of the data (no optimiser step: the model is not changed), times the last one, and
reads the peak memory: CUDA's allocator on a GPU, the process's peak resident memory on a CPU (which
includes everything the process has loaded so far, so it is an upper bound for the step).
"""

from __future__ import annotations

import resource
import sys
import time
from dataclasses import dataclass

import torch
from torch import nn

from lossbook.batching import TokenizedColumns, label_tensor
from lossbook.detect import as_dataset
from lossbook.device import resolve_device
from lossbook.step import step_loss
from lossbook.train_checks import BATCH_SIZE_FIX, check_model_and_loss, refuse_unfit_data, sequence_length
from lossbook.validate import whole_number

__all__ = ["Plan", "plan"]


@dataclass
class Plan:
    device: str
    batch_size: int
    steps: int
    seconds_per_step: float
    peak_memory_mb: float
    memory_source: str

    @property
    def total_seconds(self) -> float:
        return self.seconds_per_step * self.steps

    def __str__(self) -> str:
        total = self.total_seconds
        duration = f"{total:.0f} s" if total < 120 else f"{total / 60:.1f} min"
        return (
            f"{self.seconds_per_step:.2f} s per step of {self.batch_size} rows on {self.device}: "
            f"{self.steps} steps take about {duration}; peak memory about {self.peak_memory_mb:,.0f} MB "
            f"({self.memory_source})."
        )


def _peak_memory_mb(device: torch.device) -> tuple[float, str]:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20, "CUDA allocator peak during the step"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return (peak / 2**20 if sys.platform == "darwin" else peak / 1024), "peak resident memory of this process"


def plan(
    model: nn.Module,
    loss: nn.Module,
    data,
    *,
    batch_size: int = 16,
    steps: int = 100,
    max_seq_length: int | None = None,
    device: str | torch.device = "auto",
    repeats: int = 2,
) -> Plan:
    """Measure one training step and extrapolate to ``steps`` (see the module docstring).

    ``data`` may be a ``datasets.Dataset`` or a dict of columns, as for ``train()``; the arguments, the
    model and the loss are checked the same way, before anything runs.
    """
    whole_number(batch_size, "batch_size", minimum=2, fix=BATCH_SIZE_FIX)
    whole_number(steps, "steps", fix="Pass the number of steps to extrapolate to, e.g. 100.")
    whole_number(repeats, "repeats", fix="The last of `repeats` measured steps is timed (the first warms up); e.g. 2.")
    data = as_dataset(data)
    check_model_and_loss(model, loss, "plan()")
    max_seq_length = sequence_length(model, max_seq_length)
    target, _ = resolve_device(device)
    rows_needed = min(len(data), batch_size * repeats)
    # The rows measured are checked as train() checks the data: a step on data the loss cannot read times nothing.
    sample = data.select(range(rows_needed))
    detection = refuse_unfit_data(sample, loss).detection
    model.to(target)
    loss.to(target)
    tokens = TokenizedColumns.build(model, sample, detection.input_columns, detection.label_column, max_seq_length)
    pad_id = model.tokenizer.pad_token_id or 0
    if target.type == "cuda":
        torch.cuda.reset_peak_memory_stats(target)
    was_training = model.training
    model.train()
    seconds = float("nan")
    try:
        for repeat in range(repeats):
            rows = [(repeat * batch_size + i) % len(tokens) for i in range(batch_size)]
            if target.type == "cuda":
                torch.cuda.synchronize(target)
            start = time.perf_counter()
            value = step_loss(model, loss, tokens, rows, label_tensor(tokens.labels, rows, target), pad_id, target)
            value.backward()
            if target.type == "cuda":
                torch.cuda.synchronize(target)
            seconds = time.perf_counter() - start
    finally:
        model.zero_grad(set_to_none=True)
        loss.zero_grad(set_to_none=True)
        model.train(was_training)
    memory, source = _peak_memory_mb(target)
    return Plan(str(target), batch_size, steps, seconds, memory, source)
