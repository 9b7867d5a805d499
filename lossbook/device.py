"""Pick the device to run on, and say why."""

from __future__ import annotations

import torch

__all__ = ["resolve_device"]


def resolve_device(device: str | torch.device = "auto") -> tuple[torch.device, str]:
    """Return ``(device, reason)``. ``"auto"``: CUDA if available, then Apple MPS, else the CPU."""
    if isinstance(device, torch.device):
        return device, "chosen by the caller"
    if not isinstance(device, str):
        raise TypeError(
            f"device must be 'auto', a device name like 'cpu' or 'cuda:0', or a torch.device; got {device!r}."
        )
    if device != "auto":
        try:
            chosen = torch.device(device)
        except RuntimeError as error:
            raise ValueError(f"Unknown device {device!r}: use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'.") from error
        if chosen.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was asked for, but no CUDA GPU is available here; use 'auto' or 'cpu'."
            )
        return chosen, "chosen by the caller"
    if torch.cuda.is_available():
        return torch.device("cuda"), f"auto: CUDA GPU found ({torch.cuda.get_device_name(0)})"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps"), "auto: Apple MPS found"
    return torch.device("cpu"), f"auto: no GPU found, using the CPU ({torch.get_num_threads()} threads)"
