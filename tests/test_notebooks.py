"""The notebooks as documents: the Colab cell and clean committed files.

(Running them top to bottom is nbval's job: `pytest --nbval-lax notebooks`, in scripts/test.sh.)
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest


NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def _source(path: Path) -> str:
    return "\n".join("".join(cell["source"]) for cell in _cells(path))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_clean(path):
    notebook = json.loads(path.read_text())
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, "commit notebooks with outputs stripped"
    assert "widgets" not in notebook["metadata"], "no saved widget state"
    first = "".join(notebook["cells"][0]["source"])
    assert "colab.research.google.com" in first, "the first cell carries the Open in Colab badge"
    assert "## Exercises" in _source(path) or path.name.startswith("00_")


def _run_setup_cell(path: Path) -> list[str]:
    """Run the notebook's Colab cell with a recording stand-in for IPython; return the magics it ran."""
    from IPython.core.inputtransformer2 import TransformerManager

    cell = next(c for c in _cells(path) if c["cell_type"] == "code")
    source = "".join(cell["source"])
    assert "IN_COLAB" in source, "the first code cell is the Colab install cell"
    calls: list[str] = []
    shell = types.SimpleNamespace(run_line_magic=lambda name, line, *a: calls.append(f"%{name} {line}"))
    code = TransformerManager().transform_cell(source)
    exec(compile(code, str(path), "exec"), {"get_ipython": lambda: shell, "__name__": "__main__"})
    return calls


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_cell_is_a_no_op_outside_colab(path, monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert _run_setup_cell(path) == []
    # Positive control: in Colab the same cell installs lossbook.
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    calls = _run_setup_cell(path)
    assert len(calls) == 1 and calls[0].startswith("%pip install") and "lossbook" in calls[0]
