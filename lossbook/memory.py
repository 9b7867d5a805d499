"""Give freed memory back to the system, so that a kernel that trains several models stays small; measure a peak."""

from __future__ import annotations

import ctypes
import gc

__all__ = ["PeakMemory", "release_memory", "return_freed_memory"]


def release_memory() -> None:
    """Collect garbage and hand freed memory back to the system.

    PyTorch frees a CPU tensor into the C allocator, and glibc keeps freed blocks in its pools instead of
    returning them. A training run's gradients, optimizer states and activations are gone when it ends,
    yet the process stays as large as at the run's peak, and the next run starts from there: in a notebook
    that trains three models one after another, that is 300-500 MB per run (Binder gives a kernel 1-2 GB).
    ``malloc_trim`` returns every free page. On Linux with glibc; elsewhere it only collects garbage.
    """
    gc.collect()
    return_freed_memory()


def return_freed_memory() -> None:
    """Hand the C allocator's free pages back to the system (glibc ``malloc_trim``), without collecting garbage.

    What ``lossbook.train`` calls when a run ends: the run's tensors are freed by reference counting
    already, and a full garbage collection would cost a brief run about 0.1 s.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl): nothing to do
        pass


class PeakMemory:
    """The memory a block of code added at its peak, in MB: ``with PeakMemory(device) as peak: ...; peak.mb``.

    On CUDA, the allocator's peak during the block minus what was allocated before it. On a CPU (Linux), the
    process's peak resident memory during the block minus its resident memory before: the high-water mark is
    reset first through ``/proc/self/clear_refs`` (Linux 4.0 and newer). Where that reset is not allowed, the
    peak is the process's lifetime peak, which can hide a smaller block's peak: ``exact`` is False then.
    ``source`` says which of these was measured.
    """

    def __init__(self, device="cpu") -> None:
        import torch

        self.device = torch.device(device)
        self.mb, self.exact, self.source = 0.0, True, ""

    def __enter__(self) -> PeakMemory:
        import torch

        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._start = torch.cuda.memory_allocated(self.device)
            self.source = "CUDA allocator peak"
        else:
            return_freed_memory()
            try:
                with open("/proc/self/clear_refs", "w") as handle:
                    handle.write("5")
            except OSError:
                self.exact = False
            self._start = _status_kb("VmRSS")
            self.source = "peak resident memory" if self.exact else "lifetime peak resident memory (no reset here)"
        return self

    def __exit__(self, *exc) -> None:
        import torch

        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.mb = (torch.cuda.max_memory_allocated(self.device) - self._start) / 2**20
        else:
            self.mb = max(_status_kb("VmHWM") - self._start, 0) / 1024


def _status_kb(field: str) -> int:
    """A memory figure of this process from /proc/self/status (kB); 0 where there is no such file."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
