"""Several processes (``torchrun`` / ``accelerate launch``): who am I, my share of a batch, averaged gradients.

One process is the common case, and then every method here is a no-op. With several, ``train()``
hands each process an equal slice of every global batch, turns on the ranking losses'
``gather_across_devices`` (so in-batch negatives come from the whole global batch), and reports the
mean loss over processes. The model's gradients are averaged by torch's ``DistributedDataParallel``
(bucketed all-reduces that overlap the backward pass): during the run the loss calls the model
through a DDP wrapper (``World.synchronised``), the way sentence-transformers' trainer hands a loss
its wrapped model. What DDP cannot see, because no forward of it runs through the wrapper (a loss's own
parameters, such as SoftmaxLoss's classifier; the head trained on cached embeddings with
``freeze_encoder=True``; every parameter of a loss with its own forward, such as AdaptiveLayerLoss,
which reads the unwrapped model's layers), is averaged after the backward pass, one all-reduce per tensor.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

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
        """Average these gradients over processes (one all-reduce per tensor: for the few DDP does not cover)."""
        if not self.active:
            return
        for parameter in parameters:
            if parameter.grad is not None:
                dist.all_reduce(parameter.grad)
                parameter.grad /= self.size

    @contextmanager
    def synchronised(
        self, model: nn.Module, loss: nn.Module, parameters: list[nn.Parameter], *, through_model: bool = True
    ) -> Iterator[Synchronisation]:
        """The model to step with while the run lasts, and how the gradients of ``parameters`` get averaged.

        ``through_model=False`` (no forward pass the wrapper would see: the frozen-encoder mode, a loss
        with its own forward; ``lossbook.step.calls_the_model_it_is_given``) leaves every gradient to
        ``Synchronisation.average_the_rest``. One process: the model itself, nothing to do.
        """
        trainable = [p for p in model.parameters() if p.requires_grad]
        if not self.active or not through_model or not trainable:
            yield Synchronisation.start(model, self, [p for p in parameters if p.requires_grad] if self.active else [])
            return
        # find_unused_parameters: MiniLM's pooler (kept so the folder reloads in AutoModel) never gets a
        # gradient under mean pooling, nor do layers past an AdaptiveLayerLoss's cut.
        wrapped = _ModelInDDP(
            model,
            device_ids=[self.device.index] if self.device is not None and self.device.type == "cuda" else None,
            find_unused_parameters=True,
        )
        in_model = {id(p) for p in trainable}
        owners = [module for module in loss.modules() if getattr(module, "model", None) is model]
        for owner in owners:
            owner.model = wrapped
        try:
            the_rest = [p for p in parameters if p.requires_grad and id(p) not in in_model]
            yield Synchronisation.start(wrapped, self, the_rest)
        finally:
            for owner in owners:
                owner.model = model


@dataclass
class Synchronisation:
    """What a run steps with: ``model`` (a DDP wrapper under several processes) and the gradients left to average."""

    model: nn.Module
    world: World
    the_rest: list[nn.Parameter] = field(default_factory=list)

    @classmethod
    def start(cls, model: nn.Module, world: World, the_rest: list[nn.Parameter]) -> Synchronisation:
        """Every process starts from process 0's values of the rest, as DDP does for the model's.

        A loss's own layers (SoftmaxLoss's classifier) are drawn from each process's random state.
        """
        with torch.no_grad():
            for parameter in the_rest:
                dist.broadcast(parameter.data, src=0)
        return cls(model, world, the_rest)

    def average_the_rest(self) -> None:
        """After each backward pass: average the gradients DDP did not (none with one process)."""
        self.world.average_gradients(self.the_rest)


class _ModelInDDP(DistributedDataParallel):
    """DDP that still answers the model's own attributes (``tokenizer``, ``token_vectors``, ``head``...).

    Losses and the batching read them from the model they were given; a plain DDP wrapper would hide
    them behind ``.module``.
    """

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.module, name)
