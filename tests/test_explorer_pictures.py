"""Which rows and which picture show a run's effect, per format: rows that never train, before and after."""

from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")

import torch  # noqa: E402

from lossbook.data import load_dataset  # noqa: E402
from lossbook.explorer_pictures import (  # noqa: E402
    PICTURE_BATCH,
    PICTURE_PAIRS,
    outcome_of_run,
    pair_classifiers,
    picture_rows,
)
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
        ("nli", "confusion"),  # pairs with a class: held-out pairs, the classifier's confusion matrix
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
    if kind == "confusion":  # 400 rows: a fifth of them (fewer than PICTURE_PAIRS) is held out
        assert len(shown.rows) == min(PICTURE_PAIRS, len(evaluation.train_data) // 5)
        assert len(train_rows) == len(evaluation.train_data) - len(shown.rows)


def test_a_softmax_run_draws_the_confusion_matrix_of_its_classifier_before_and_after(tiny):
    from lossbook.explorer_runs import RunSettings, run_seeds
    from lossbook.losses import SoftmaxLoss

    evaluation = _evaluation("nli")
    shown, train_rows = picture_rows(evaluation)
    settings = RunSettings(steps=6, batch_size=16, lr=1e-2, freeze_encoder=True, seeds=(0,))
    build = lambda m: SoftmaxLoss(m, m.embedding_dim, num_labels=3)  # noqa: E731
    result = run_seeds(tiny, build, train_rows, evaluation, settings, label="softmax")
    assert isinstance(result.loss, SoftmaxLoss) and result.loss.model is result.model
    # The snapshot is the head as it was built; training moved the loss's own head away from it.
    assert not torch.equal(result.initial_classifier.weight, result.loss.classifier.weight)
    classifiers = pair_classifiers(result.loss, result.initial_classifier)
    picture = outcome_of_run(tiny, result.model, shown, classifiers=classifiers)
    assert picture.kind == "confusion" and picture.metric == "accuracy" and 0 <= picture.after <= 1
    # Negative control: with the trained head as "before" too, before and after only differ by the encoder.
    u = torch.randn(4, tiny.embedding_dim)
    assert torch.allclose(classifiers[1](u, u), result.loss.logits([u, u]))
    assert not torch.allclose(classifiers[0](u, u), classifiers[1](u, u))
    assert outcome_of_run(tiny, result.model, shown) is None  # no classifiers: no confusion picture
    assert pair_classifiers(None, None) is None and pair_classifiers(result.loss, None) is None


def test_distillation_rows_draw_student_against_teacher(tiny):
    from lossbook.convert import add_teacher_embeddings

    sentences = load_dataset("sentences", "train", verbose=False).select(range(300))
    data = add_teacher_embeddings(sentences, tiny)
    evaluation = choose_evaluation(Data(data, "distil"), hold_out=60)
    shown, train_rows = picture_rows(evaluation)
    assert shown.kind == "teacher-student" and len(shown.rows) == min(PICTURE_BATCH, len(evaluation.train_data) // 5)
    same = outcome_of_run(tiny, tiny, shown)
    assert same.before == pytest.approx(same.after, abs=1e-9) and same.before < 1e-6  # the teacher is the model itself


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
