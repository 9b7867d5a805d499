"""Run each notebook top to bottom and print its wall time and its kernel's peak resident memory.

    .venv/bin/python scripts/measure_notebooks.py [notebooks/NN_*.ipynb ...]

The data source is whatever the environment gives (set LOSSBOOK_DATA for the mirror, unset it for the
bundled sets only); HF_HUB_OFFLINE=1 is set unless it is already set. The peak memory is the kernel's own
``ru_maxrss``, read by one extra cell appended to a copy of the notebook (the notebook itself is not changed).
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

PEAK_CELL = "import resource; print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def measure(path: Path, timeout: int) -> tuple[float, float]:
    """(seconds, peak resident MB) of one top-to-bottom run of the notebook at ``path``."""
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(PEAK_CELL))
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    text = "".join(output.get("text", "") for output in notebook.cells[-1].outputs)
    kilobytes = int(text.split("PEAK_RSS_KB", 1)[1].split()[0])
    return seconds, kilobytes / 1024


def main(argv: list[str]) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    root = Path(__file__).resolve().parent.parent
    paths = [Path(a) for a in argv] or sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    source = f"the mirror {os.environ['LOSSBOOK_DATA']}" if os.environ.get("LOSSBOOK_DATA") else "the bundled data only"
    print(f"data: {source} | CPU: {cpu_model()} ({os.cpu_count()} cores) | Python {platform.python_version()}")
    print(f"{'notebook':42s} {'seconds':>8s} {'peak MB':>8s}")
    failed = 0
    for path in paths:
        try:
            seconds, megabytes = measure(path, timeout=900)
        except Exception as error:  # report and go on: one broken notebook should not hide the others' numbers
            failed += 1
            last_line = str(error).splitlines()[-1][:200] if str(error) else ""
            print(f"{path.name:42s} FAILED: {type(error).__name__}: {last_line}")
            continue
        print(f"{path.name:42s} {seconds:8.1f} {megabytes:8.0f}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
