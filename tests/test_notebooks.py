"""The notebooks as documents: the Colab cell and clean committed files.

(Running them top to bottom is nbval's job: `pytest --nbval-lax notebooks`, in scripts/test.sh.)
"""

from __future__ import annotations

import json
import re
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


# The rows of the seed loss table (sentence-transformers' loss overview) as (format, the loss the row names),
# as the docs print them: the two Contrastive Tension rows are swapped with respect to the code (see
# lossbook.table), and a notebook teaching them must name both formats anyway.
SEED_ROWS = [
    ("sentence-class", "BatchAllTripletLoss"),
    ("sentences", "ContrastiveTensionLoss"),
    ("anchor-anchor", "ContrastiveTensionLossInBatchNegatives"),
    ("damaged-original", "DenoisingAutoEncoderLoss"),
    ("pair-class", "SoftmaxLoss"),
    ("pair", "CachedMultipleNegativesRankingLoss"),
    ("pair-binary", "ContrastiveLoss"),
    ("pair-score", "CoSENTLoss"),
    ("triplet", "CachedMultipleNegativesRankingLoss"),
    ("any", "MatryoshkaLoss"),
    ("sentence-teacher-embedding", "MSELoss"),
    ("sentences-teacher-embedding", "MSELoss"),
    ("triplet-margin", "MarginMSELoss"),
]


def _code(path: Path) -> str:
    return "\n".join("".join(c["source"]) for c in _cells(path) if c["cell_type"] == "code")


def test_there_is_a_tutorial_per_family():
    assert len([p for p in NOTEBOOKS if not p.name.startswith("00_")]) >= 8
    assert (NOTEBOOKS[0].parent / "README.md").exists()
    order = (NOTEBOOKS[0].parent / "README.md").read_text()
    for path in NOTEBOOKS:
        assert path.name in order, f"notebooks/README.md does not list {path.name}"


def test_every_loss_class_is_run_in_a_notebook():
    from lossbook.losses import LOSS_NAMES

    code = "\n".join(_code(p) for p in NOTEBOOKS)
    # In a code cell, not only named in the prose: a word boundary keeps MNRL from counting for CachedMNRL.
    missing = [name for name in LOSS_NAMES if not re.search(rf"\b{name}\b", code)]
    assert not missing, f"no notebook runs {missing}"


@pytest.mark.parametrize("key, loss", SEED_ROWS, ids=lambda x: x)
def test_every_seed_row_is_taught(key, loss):
    """Some notebook runs the row's loss and names the row's data format the way the table does."""
    from lossbook.formats import FORMATS

    fmt = FORMATS[key]
    teaching = [p.name for p in NOTEBOOKS if re.search(rf"\b{loss}\b", _code(p)) and fmt.inputs_text in _source(p)]
    assert teaching, f"no notebook runs {loss} and describes its format {fmt.inputs_text!r} ({key})"


def test_seed_rows_match_the_seed_table():
    seed = Path(__file__).resolve().parents[2] / "shared" / "seed" / "loss_overview.txt"
    if not seed.exists():
        pytest.skip(f"no seed table at {seed}")
    from lossbook.formats import FORMATS
    from lossbook.losses import LOSS_NAMES

    # A table row is a line that ends in a loss name; the bulleted prose lines are not rows.
    rows = [
        line.strip()
        for line in seed.read_text().splitlines()
        if line.strip().split(" ")[-1] in LOSS_NAMES and "•" not in line
    ]
    ours = [f"{FORMATS[key].inputs_text} {FORMATS[key].labels_text} {loss}" for key, loss in SEED_ROWS]
    assert rows == ours
