"""Which rows and which picture show what a run did (the loss explorer's step 4).

The picture is drawn from rows that never trained, before and after on the same axes
(``lossbook.outcome``): the evaluation's own held-out rows where they have the training data's format
(scored pairs, 1/0 pairs, triplets, sentences with a class); for (anchor, positive) pairs and n-tuples,
whose yardstick is a retrieval set, a batch of training rows held out for the picture; for formats
with no picture of their own (unsupervised sentences, pairs with a class) the STS-B transfer the
evaluation measures, as a cosine-against-gold scatter.
"""

from __future__ import annotations

from dataclasses import dataclass

import datasets

from lossbook.detect import detect_format
from lossbook.outcome import Outcome, kind_for_format, outcome

__all__ = ["PictureRows", "outcome_of_run", "picture_rows"]

PICTURE_BATCH = 64  # training rows held out for the in-batch picture (and its MRR@10) when the yardstick is elsewhere


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
    if kind is None or kind in ("confusion", "teacher-student"):  # these need a classifier or a teacher
        return None
    return PictureRows(kind, rows, list(detection.input_columns), detection.label_column)


def picture_rows(evaluation) -> tuple[PictureRows | None, datasets.Dataset]:
    """The rows to draw the run's picture from, and the training rows left (a ``run_setup.Evaluation``)."""
    train_rows = evaluation.train_data
    evaluated = evaluation.data.dataset
    if isinstance(evaluated, datasets.Dataset):
        shown = _of(evaluated)
        if shown is not None:
            return shown, train_rows
    held = _of(train_rows.select(range(min(PICTURE_BATCH, len(train_rows) // 5))))
    if held is not None and held.kind == "in-batch" and len(held.rows) >= 2:
        return held, train_rows.select(range(len(held.rows), len(train_rows)))
    return None, train_rows


def outcome_of_run(
    base_model, trained_model, shown: PictureRows | None, *, margin: float | None = None
) -> Outcome | None:
    """The before/after picture of ``trained_model`` against ``base_model`` on the rows ``picture_rows`` chose.

    ``margin``: the loss's margin option (a cosine distance, as ContrastiveLoss's), drawn where it acts.
    """
    if shown is None or trained_model is None:
        return None
    return outcome(
        shown.kind,
        base_model,
        trained_model,
        shown.rows,
        columns=shown.columns,
        label_column=shown.label_column,
        # The contrastive losses' margin is a cosine distance: non-matching pairs stop costing below cosine 1 - m.
        margin=1 - margin if shown.kind == "binary-pairs" and margin is not None else None,
    )
