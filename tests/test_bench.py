"""The prepared GPU script runs end to end (on the CPU, with the tiny model: ``--smoke``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_gpu_script_smoke_run_writes_every_part(tmp_path):
    out = tmp_path / "gpu_results.txt"
    done = subprocess.run(
        ["bash", str(ROOT / "bench" / "gpu.sh"), "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    text = out.read_text()
    assert done.returncode == 0, text[-3000:]
    for part in ("training speed (smoke): exit 0", "cached memory (smoke): exit 0", "encode (smoke): exit 0"):
        assert part in text
    assert "lossbook auto, sentence-transformers fp32" in text  # the precision each side ran in is stated


def test_gpu_script_refuses_an_unknown_argument():
    done = subprocess.run(["bash", str(ROOT / "bench" / "gpu.sh"), "--fast"], capture_output=True, text=True)
    assert done.returncode == 2 and "unknown argument" in done.stderr


def _notebook(path: Path, cells: list[str]) -> Path:
    import json

    code = [{"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None} for c in cells]
    path.write_text(json.dumps({"cells": code, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_notebook_runner_runs_cells_in_one_namespace_and_passes_over_magics(tmp_path):
    notebook = _notebook(
        tmp_path / "nb.ipynb",
        [
            "%matplotlib inline\nif False:\n    %pip install nothing\nx = 2",
            "import matplotlib.pyplot as plt\nplt.plot([x])\nprint('x is', x)",
        ],
    )
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run_notebook.py"), str(notebook)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "x is 2" in done.stdout and "every code cell ran" in done.stdout


def test_notebook_runner_stops_at_the_cell_that_raises(tmp_path):
    notebook = _notebook(tmp_path / "nb.ipynb", ["y = 1", "raise ValueError('cell two broke')", "print('never')"])
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run_notebook.py"), str(notebook)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "cell two broke" in done.stderr and "cell 2 raised" in done.stdout and "never" not in done.stdout
