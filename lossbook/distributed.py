"""Several processes (``torchrun`` / ``accelerate launch``): who am I, my share of a batch, averaged gradients.

One process is the common case, and then every method here is a no-op. With several, ``train()``
hands each process an equal slice of every global batch, turns on the ranking losses'
``gather_across_devices`` (so in-batch negatives come from the whole global batch), averages the
gradients with one all-reduce per parameter, and reports the mean loss over processes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

__all__ = ["World"]


@dataclass
class World:
    size: int = 1
    rank: int = 0
    device: torch.device | None = None

    @classmethod
    def current(cls) -> World:
        """The process group, started from torchrun's environment variables when they are set."""
        if not dist.is_available():
            return cls()
        if not dist.is_initialized() and int(os.environ.get("WORLD_SIZE", "1")) > 1 and "MASTER_ADDR" in os.environ:
            dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
        if not dist.is_initialized() or dist.get_world_size() == 1:
            return cls()
        device = None
        if torch.cuda.is_available():
            device = torch.device(
                "cuda", int(os.environ.get("LOCAL_RANK", dist.get_rank() % torch.cuda.device_count()))
            )
            torch.cuda.set_device(device)
        return cls(dist.get_world_size(), dist.get_rank(), device)

    @property
    def active(self) -> bool:
        return self.size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def describe(self) -> str:
        return f", process {self.rank} of {self.size}" if self.active else ""

    def share(self, rows: list[int]) -> list[int]:
        """This process's equal slice of a global batch."""
        if not self.active:
            return rows
        per_process = len(rows) // self.size
        return rows[self.rank * per_process : (self.rank + 1) * per_process]

    def enable_gathering(self, loss: nn.Module) -> None:
        """Let ranking losses see every process's documents as negatives (the loss and any it wraps)."""
        if not self.active:
            return
        for module in loss.modules():
            if hasattr(module, "gather_across_devices"):
                module.gather_across_devices = True

    def mean(self, value: torch.Tensor) -> torch.Tensor:
        if not self.active:
            return value
        value = value.clone()
        dist.all_reduce(value)
        return value / self.size

    def average_gradients(self, parameters: list[nn.Parameter]) -> None:
        if not self.active:
            return
        for parameter in parameters:
            if parameter.grad is not None:
                dist.all_reduce(parameter.grad)
                parameter.grad /= self.size
