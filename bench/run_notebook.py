"""Run a notebook's code cells top to bottom in one Python process, without Jupyter, and time each cell.

    python bench/run_notebook.py notebooks/07_matryoshka_and_adaptive_layers.ipynb

For machines that have torch but no Jupyter kernel or nbval (a lent GPU machine with no package
registry): the tests run the notebooks through nbval; this only answers "does it run here, and how
long does each cell take". Cell magics and shell lines (``%pip``, ``%matplotlib``, ``!ls``) become
``pass`` (their indentation kept, so an ``if`` around one still parses); figures go to the Agg
backend and are closed after each cell. Exits 1 at the first cell that raises, with its traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path


def runnable_source(source: str) -> str:
    """The cell's code with each IPython magic or shell line replaced by ``pass`` at its indentation."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            line = line[: len(line) - len(stripped)] + "pass  # " + stripped
        lines.append(line)
    return "\n".join(lines)


def code_cells(path: Path) -> list[str]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return [
        "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib.pyplot as plt

    # A notebook's relative paths start from its own folder, as in Jupyter.
    os.chdir(args.notebook.resolve().parent)
    namespace: dict = {"__name__": "__main__"}
    started = time.perf_counter()
    for number, source in enumerate(code_cells(Path(args.notebook.name)), start=1):
        cell_started = time.perf_counter()
        try:
            exec(compile(runnable_source(source), f"<cell {number}>", "exec"), namespace)
        except Exception:
            traceback.print_exc()
            print(f"cell {number} raised after {time.perf_counter() - cell_started:.1f} s", flush=True)
            return 1
        finally:
            plt.close("all")
        print(f"-- cell {number}: {time.perf_counter() - cell_started:.1f} s", flush=True)
    print(f"{args.notebook.name}: every code cell ran, {time.perf_counter() - started:.1f} s in all", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
