"""Sharing in-batch negatives across processes (multi-GPU training).

With ``gather_across_devices=True`` an in-batch loss compares its own rows with the rows of *every*
process, so each anchor sees ``world_size`` times more negatives. The gather keeps the autograd
graph: the gradient that other processes compute for our rows is summed back onto them. Without an
initialised ``torch.distributed`` process group everything here is a no-op (rank 0, world size 1).
"""

from __future__ import annotations

import logging

import torch.distributed as dist
from torch import Tensor

__all__ = ["all_gather_with_grad", "distributed_rank", "distributed_world_size", "is_distributed"]

logger = logging.getLogger(__name__)
_warned_not_distributed = False


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def distributed_rank() -> int:
    """This process's rank, or 0 without a process group."""
    return dist.get_rank() if is_distributed() else 0


def distributed_world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def all_gather_with_grad(tensor: Tensor) -> Tensor:
    """Concatenate ``tensor`` from every rank (rank order) along dim 0, differentiably.

    Every rank must call this with a tensor of the same shape. Without a process group it returns
    ``tensor`` unchanged (and logs once that gathering had no effect).
    """
    global _warned_not_distributed
    if not is_distributed():
        if not _warned_not_distributed:
            logger.warning(
                "gather_across_devices=True but torch.distributed is not initialised: using this process's "
                "batch only (expected on a single device)."
            )
            _warned_not_distributed = True
        return tensor
    import torch.distributed.nn  # noqa: F401  (registers the autograd-aware collectives)

    return torch.cat(torch.distributed.nn.all_gather(tensor), dim=0)
