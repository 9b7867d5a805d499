"""Before training: how long will it take, and how much memory, measured on real steps of the run itself.

``plan(model, loss, data, batch_size=16, steps=100)`` runs ``train()`` for one warm-up step and
``repeats`` measured steps, exactly as the run will go (same sampler, length-sorted chunks, precision,
fast mode), then puts the model, the loss and the random state back as they were: the run that
follows starts from the same weights. The estimate is the setup time (checks, tokenizing, the first
optimiser state) plus ``steps`` times the median measured step. An earlier version timed a forward and
backward pass without the optimiser on the first rows, in another code path, and was off by 3-5x.

Memory: CUDA's allocator peak on a GPU; on a CPU the process's peak resident memory (which includes
everything the process has loaded so far, so it is an upper bound for the run).
"""

from __future__ import annotations

import copy
import random
import resource
import statistics
import sys
import time
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from lossbook.detect import as_dataset
from lossbook.lora import has_lora
from lossbook.train import train
from lossbook.train_checks import BATCH_SIZE_FIX
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
    setup_seconds: float = 0.0
    precision: str = "fp32"

    @property
    def total_seconds(self) -> float:
        return self.setup_seconds + self.seconds_per_step * self.steps

    def __str__(self) -> str:
        total = self.total_seconds
        duration = f"{total:.0f} s" if total < 120 else f"{total / 60:.1f} min"
        return (
            f"{self.seconds_per_step:.2f} s per step of {self.batch_size} rows on {self.device} ({self.precision}): "
            f"{self.steps} steps take about {duration} with {self.setup_seconds:.1f} s of setup; peak memory about "
            f"{self.peak_memory_mb:,.0f} MB ({self.memory_source})."
        )

    def against(self, seconds_per_step: float) -> str:
        """The estimate next to a run's measured seconds per step (what the CLI and the explorer show after it)."""
        return (
            f"estimated {self.seconds_per_step:.2f} s per step, measured {seconds_per_step:.2f} "
            f"({seconds_per_step / self.seconds_per_step:.2f}x the estimate)"
        )


def _peak_memory_mb(device: torch.device) -> tuple[float, str]:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20, "CUDA allocator peak during the steps"
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
    repeats: int = 3,
    lr: float = 2e-5,
    sampler: str = "auto",
    freeze_encoder: bool = False,
    mixed_precision: bool | str = "auto",
    seed: int = 0,
    lora=None,
) -> Plan:
    """Measure ``repeats`` real training steps (after one warm-up step) and extrapolate to ``steps``.

    ``data`` may be a ``datasets.Dataset`` or a dict of columns, as for ``train()``; the other arguments
    mean what they mean for ``train()`` and are checked the same way, before anything runs. The model,
    the loss (a classifier head, a decoder...) and the random state are restored afterwards.
    """
    whole_number(batch_size, "batch_size", minimum=2, fix=BATCH_SIZE_FIX)
    whole_number(steps, "steps", fix="Pass the number of steps to extrapolate to, e.g. 100.")
    whole_number(repeats, "repeats", fix="The number of measured steps after the warm-up step, e.g. 3.")
    data = as_dataset(data)
    saved = _Snapshot(model, loss)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    try:
        start = time.perf_counter()
        with warnings.catch_warnings():  # the run itself warns about the data; the plan need not say it twice
            warnings.simplefilter("ignore")
            history = train(
                model,
                loss,
                data,
                steps=1 + repeats,
                batch_size=batch_size,
                lr=lr,
                max_seq_length=max_seq_length,
                device=device,
                seed=seed,
                progress=False,
                sampler=sampler,
                freeze_encoder=freeze_encoder,
                mixed_precision=mixed_precision,
                lora=lora,
            )
        elapsed = time.perf_counter() - start
    finally:
        saved.restore()
    # history.seconds[k]: time from the first step's start to the end of step k + 1.
    step_times = np.diff([0.0, *history.seconds]).tolist()
    measured = step_times[1:] or step_times
    seconds_per_step = statistics.median(measured)
    # Setup: all but the steps; the warm-up step's extra over a measured one is paid by the run too.
    setup = max(elapsed - sum(measured) - seconds_per_step, 0.0)
    target = next(model.parameters()).device
    memory, source = _peak_memory_mb(target)
    precision = f"{history.config['mixed_precision']}: {history.config['precision_reason']}"
    return Plan(str(target), batch_size, steps, seconds_per_step, memory, source, setup, precision)


class _Snapshot:
    """The weights, trainable flags and head of a model and its loss, and the random state, to put back."""

    def __init__(self, model: nn.Module, loss: nn.Module) -> None:
        self.model, self.loss = model, loss
        self.model_state = copy.deepcopy(model.state_dict())
        # What lives on the loss only (SoftmaxLoss's classifier, CT's second model, TSDAE's decoder).
        model_tensors = {id(t) for t in model.state_dict(keep_vars=True).values()}
        self.loss_state = {
            k: v.detach().clone() for k, v in loss.state_dict(keep_vars=True).items() if id(v) not in model_tensors
        }
        self.trainable = [(p, p.requires_grad) for p in list(model.parameters()) + list(loss.parameters())]
        self.had_head = getattr(model, "head", None) is not None
        transformer = getattr(model, "transformer", None)
        self.had_lora = transformer is None or has_lora(transformer)
        # The measured steps are no training of the model's: its model card must not list them.
        runs = getattr(model, "training_runs", None)
        self.training_runs = (runs, list(runs)) if isinstance(runs, list) else None
        self.random = (random.getstate(), np.random.get_state(), torch.get_rng_state())
        self.cuda_random = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None

    def restore(self) -> None:
        if hasattr(self.model, "head") and not self.had_head:
            self.model.head = None  # the fast mode added one
        if not self.had_lora and has_lora(self.model.transformer):
            self.model.transformer = self.model.transformer.unload()  # lora=True added adapters: take them out
        self.model.load_state_dict(self.model_state)
        if self.training_runs is not None:
            runs, before = self.training_runs
            runs[:] = before
        if self.loss_state:
            self.loss.load_state_dict(self.loss_state, strict=False)
        for parameter, flag in self.trainable:
            parameter.requires_grad_(flag)
        self.model.zero_grad(set_to_none=True)
        self.loss.zero_grad(set_to_none=True)
        random.setstate(self.random[0])
        np.random.set_state(self.random[1])
        torch.set_rng_state(self.random[2])
        if self.cuda_random is not None:
            torch.cuda.set_rng_state_all(self.cuda_random)
