"""Which rows and which picture show a run's effect, per format: rows that never train, before and after."""

from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")

from lossbook.data import load_dataset  # noqa: E402
from lossbook.explorer_pictures import PICTURE_BATCH, outcome_of_run, picture_rows  # noqa: E402
from lossbook.model import tiny_model  # noqa: E402
from lossbook.run_data import Data  # noqa: E402
from lossbook.run_setup import choose_evaluation  # noqa: E402


@pytest.fixture(autouse=True)
def _bundled_only(monkeypatch):
    monkeypatch.delenv("LOSSBOOK_DATA", raising=False)


def _evaluation(name: str, rows: int = 400):
    data = load_dataset(name, "train", verbose=False)
    data = data.shuffle(seed=0).select(range(min(rows, len(data))))
    return choose_evaluation(Data(data, name, name), hold_out=100)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("stsb", "scored-pairs"),  # the validation split: cosine against gold
        ("paws", "binary-pairs"),  # held-out 1/0 pairs: the two similarity histograms
        ("banking77", "classes"),  # held-out sentences, coloured by class on one basis
        ("qa-pairs", "in-batch"),  # the yardstick is a retrieval set: a held-out training batch instead
        ("sentences", "scored-pairs"),  # unsupervised: the STS-B transfer the evaluation measures
        ("nli", "scored-pairs"),  # pairs with a class: STS-B transfer
    ],
)
def test_each_format_gets_its_picture_from_rows_that_never_train(name, kind):
    evaluation = _evaluation(name)
    shown, train_rows = picture_rows(evaluation)
    assert shown is not None and shown.kind == kind
    columns = shown.columns
    pictured = {tuple(row[c] for c in columns) for row in shown.rows}
    trained = {tuple(row.get(c) for c in columns) for row in train_rows}
    assert not pictured & trained, "a pictured row also trains"
    if kind == "in-batch":
        assert len(shown.rows) == PICTURE_BATCH and len(train_rows) == len(evaluation.train_data) - PICTURE_BATCH


def test_the_picture_compares_the_base_and_the_trained_model():
    evaluation = _evaluation("paws")
    shown, _ = picture_rows(evaluation)
    base, other = tiny_model(seed=0), tiny_model(seed=1)
    same = outcome_of_run(base, base, shown, margin=0.5)
    assert same.before == pytest.approx(same.after)
    moved = outcome_of_run(base, other, shown, margin=0.5)
    assert moved.before == pytest.approx(same.before) and moved.after != pytest.approx(moved.before)
    assert len([ax for ax in moved.figure.axes if ax.has_data()]) >= 2
    assert outcome_of_run(base, None, shown) is None and outcome_of_run(base, base, None) is None
