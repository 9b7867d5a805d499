"""Which rows and which picture show what a run did (the loss explorer's step 4).

The picture is drawn from rows that never trained, before and after on the same axes
(``lossbook.outcome``): the evaluation's own held-out rows where they have the training data's format
(scored pairs, 1/0 pairs, triplets, sentences with a class); for (anchor, positive) pairs and n-tuples,
whose yardstick is a retrieval set, a batch of training rows held out for the picture; for pairs with a
class (SoftmaxLoss), whose yardstick is STS-B transfer, held-out training pairs and the confusion matrix
of the loss's classifier before and after; for distillation data, held-out rows with their teacher
embeddings, student against teacher similarities; for unsupervised sentences, the STS-B transfer the
evaluation measures, as a cosine-against-gold scatter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import datasets

from lossbook.detect import detect_format
from lossbook.outcome import Outcome, kind_for_format, outcome

__all__ = ["PictureRows", "outcome_of_run", "pair_classifiers", "picture_rows"]

PICTURE_BATCH = 64  # training rows held out for the in-batch picture (and its MRR@10) when the yardstick is elsewhere
PICTURE_PAIRS = 120  # training pairs held out for the confusion matrix of a pair classifier (3 classes: 40 each)
# Kinds drawn from held-out training rows even when the evaluation has rows of its own: the evaluation of
# pairs with a class or of distillation data is a transfer (STS-B) that shows neither the classifier nor the teacher.
_OWN_ROWS = {"confusion": PICTURE_PAIRS, "teacher-student": PICTURE_BATCH, "in-batch": PICTURE_BATCH}


@dataclass
class PictureRows:
    """The held-out rows a run's picture is drawn from, and the kind of picture (``lossbook.outcome``)."""

    kind: str
    rows: datasets.Dataset
    columns: list[str]
    label_column: str | None


def _of(rows: datasets.Dataset) -> PictureRows | None:
    detection = detect_format(rows)
    kind = kind_for_format(detection.format.key)
    if kind is None:
        return None
    return PictureRows(kind, rows, list(detection.input_columns), detection.label_column)


def picture_rows(evaluation) -> tuple[PictureRows | None, datasets.Dataset]:
    """The rows to draw the run's picture from, and the training rows left (a ``run_setup.Evaluation``)."""
    train_rows = evaluation.train_data
    trained_kind = kind_for_format(detect_format(train_rows).format.key)
    evaluated = evaluation.data.dataset
    if trained_kind not in ("confusion", "teacher-student") and isinstance(evaluated, datasets.Dataset):
        shown = _of(evaluated)
        if shown is not None and shown.kind not in ("confusion", "teacher-student"):
            return shown, train_rows
    if trained_kind in _OWN_ROWS:
        held = _of(train_rows.select(range(min(_OWN_ROWS[trained_kind], len(train_rows) // 5))))
        if held is not None and len(held.rows) >= 2:
            return held, train_rows.select(range(len(held.rows), len(train_rows)))
    return None, train_rows


def pair_classifiers(loss, initial_classifier) -> tuple[Callable, Callable] | None:
    """``(before, after)``: callables ``(u, v) -> logits`` of a pair-classifying loss (SoftmaxLoss).

    ``before`` uses ``initial_classifier``, the snapshot of the loss's head taken before training
    (``explorer_runs.RunResult.initial_classifier``); ``after`` the head as trained. None for any other loss.
    """
    if loss is None or initial_classifier is None or not hasattr(loss, "pair_features"):
        return None
    return (
        lambda u, v: loss.classify_features(loss.pair_features([u, v]), initial_classifier),
        lambda u, v: loss.logits([u, v]),
    )


def outcome_of_run(
    base_model,
    trained_model,
    shown: PictureRows | None,
    *,
    margin: float | None = None,
    classifiers: tuple[Callable, Callable] | None = None,
) -> Outcome | None:
    """The before/after picture of ``trained_model`` against ``base_model`` on the rows ``picture_rows`` chose.

    ``margin``: the loss's margin option (a cosine distance, as ContrastiveLoss's), drawn where it acts.
    ``classifiers``: for a confusion picture, ``pair_classifiers(loss, initial_classifier)``; without them
    there is no confusion picture (None).
    """
    if shown is None or trained_model is None or (shown.kind == "confusion" and classifiers is None):
        return None
    before_classifier, after_classifier = classifiers or (None, None)
    return outcome(
        shown.kind,
        base_model,
        trained_model,
        shown.rows,
        columns=shown.columns,
        label_column=shown.label_column,
        # The contrastive losses' margin is a cosine distance: non-matching pairs stop costing below cosine 1 - m.
        margin=1 - margin if shown.kind == "binary-pairs" and margin is not None else None,
        classifier_before=before_classifier,
        classifier_after=after_classifier,
    )
