"""The prepared GPU script runs end to end (on the CPU, with the tiny model: ``--smoke``)."""

from __future__ import annotations

import subprocess
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
