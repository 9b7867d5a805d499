"""What a training run did, measured and drawn on held-out rows: the loss's metric before and after, and a picture.

``outcome(kind, model_before, model_after, rows, columns=..., label_column=...)`` encodes the held-out rows
with both models and returns an ``Outcome``: the metric's name, its value before and after, and a figure
from ``lossbook.plots.outcomes`` whose two panels share their axes. The kind follows the data format the
loss trained on (``kind_for_format``, keys of ``lossbook.formats.FORMATS``):

==============================================  ===============  ==================================================
format                                          kind             metric
==============================================  ===============  ==================================================
pair-score                                      scored-pairs     Spearman of the pairs' cosine against the gold score
pair-binary                                     binary-pairs     AP of the cosine as a match score (labels 1 / 0)
pair, triplet, n-tuple, n-tuple-teacher-scores  in-batch         MRR@10 of each query's own positive among all rows'
sentence-class                                  classes          leave-one-out 5-NN accuracy (cosine)
pair-class                                      confusion        accuracy of the classifier head (SoftmaxLoss)
sentence(s)-teacher-embedding                   teacher-student  MSE of student against teacher similarities
sentences, anchor-anchor, damaged-original,     None             (no labelled picture: measure STS transfer instead)
triplet-margin, any
==============================================  ===============  ==================================================

"in-batch" reads the first two columns only (query, positive): the hard negatives of triplets and n-tuples
are not part of the picture. "triplet-margin" has no kind because its first passage is not always the better
one (the sign of the teacher's margin says which is), so there is no true positive to rank.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import datasets
import matplotlib.figure
import numpy as np
import torch
from scipy import stats
from sklearn import metrics as sklearn_metrics

from lossbook.formats import format_by_key
from lossbook.plots import outcomes as pictures
from lossbook.plots._common import as_array
from lossbook.similarity import cos_sim_np, normalize_rows_np, pairwise_cos_sim_np

__all__ = ["KINDS", "Outcome", "kind_for_format", "outcome"]

KINDS: dict[str, str] = {  # kind: the metric it reports
    "scored-pairs": "Spearman",
    "binary-pairs": "AP",
    "in-batch": "MRR@10",
    "classes": "k-NN accuracy",
    "confusion": "accuracy",
    "teacher-student": "MSE",
}
_ONE_TEXT_COLUMN = {"classes", "teacher-student"}  # the other kinds read pairs: the first two columns
_LABEL_NEEDED = {"scored-pairs", "binary-pairs", "classes", "confusion"}
_FORMATS_BY_KIND = {  # every other format of lossbook.formats has no kind (None)
    "scored-pairs": ("pair-score",),
    "binary-pairs": ("pair-binary",),
    "in-batch": ("pair", "triplet", "n-tuple", "n-tuple-teacher-scores"),
    "classes": ("sentence-class",),
    "confusion": ("pair-class",),
    "teacher-student": ("sentence-teacher-embedding", "sentences-teacher-embedding"),
}

DRAWN_BATCH = 16  # the in-batch heatmap shows this many queries; the metric uses every held-out row
MRR_DEPTH = 10
KNN_NEIGHBOURS = 5


@dataclass
class Outcome:
    """The metric of one data format before and after training, and the picture of it.

    The figure stays open until the caller closes it (``plt.close(result.figure)``), as every lossbook plot does.
    """

    kind: str
    metric: str
    before: float
    after: float
    figure: matplotlib.figure.Figure = field(repr=False)
    rows_used: int = 0  # held-out rows behind the numbers (at most max_rows)

    def summary(self) -> str:
        """``"Spearman 0.8123 -> 0.8456"``."""
        return f"{self.metric} {pictures.format_metric(self.before)} -> {pictures.format_metric(self.after)}"


def kind_for_format(format_key: str) -> str | None:
    """The outcome kind for a ``lossbook.formats`` key, or None where the data have nothing to measure against."""
    format_by_key(format_key)  # an unknown key is refused with a did-you-mean
    return next((kind for kind, keys in _FORMATS_BY_KIND.items() if format_key in keys), None)


def outcome(
    kind: str,
    model_before,
    model_after,
    rows: datasets.Dataset,
    *,
    columns: list[str],
    label_column: str | None,
    margin: float | None = None,
    teacher=None,
    classifier_before: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    classifier_after: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    max_rows: int = 200,
) -> Outcome:
    """Measure and draw what training did, on the first ``max_rows`` held-out ``rows``.

    Args:
        kind: one of ``KINDS`` (``kind_for_format(format_key)`` picks it from the data format).
        model_before, model_after: the model before and after training (objects with ``encode(texts)``).
        rows: held-out rows; ``columns`` are its text columns in order, ``label_column`` its label (or None).
        margin: "binary-pairs" only: a line on the similarity axis where the loss separates the pairs
            (for ContrastiveLoss's cosine-distance margin ``m`` that is ``1 - m``).
        teacher: "teacher-student": the teacher model; without one, ``label_column`` must hold the
            teacher's embedding of each text.
        classifier_before, classifier_after: "confusion": callables ``(u, v) -> logits`` of the pair
            classifier before and after training, e.g. ``lambda u, v: loss.logits([u, v])`` of a SoftmaxLoss
            (keep a ``copy.deepcopy(loss)`` from before training for the "before" one). ``u`` and ``v`` are on
            the model's device.
    """
    if kind not in KINDS:
        close = difflib.get_close_matches(str(kind), list(KINDS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"Unknown outcome kind {kind!r}.{hint} Expected one of {', '.join(KINDS)} "
            "(kind_for_format(format_key) gives the kind of a data format)."
        )
    if kind == "confusion" and (classifier_before is None or classifier_after is None):
        raise ValueError(
            "kind 'confusion' needs classifier_before= and classifier_after=: callables (u, v) -> logits of the "
            "pair classifier before and after training, e.g. lambda u, v: loss.logits([u, v]) of a SoftmaxLoss "
            "(and of a copy.deepcopy(loss) made before training)."
        )
    rows = _held_out_rows(kind, rows, columns, label_column, max_rows, teacher)
    models = [_checked_model(model_before, "model_before"), _checked_model(model_after, "model_after")]
    texts = [list(rows[column]) for column in columns[: _text_columns(kind)]]
    labels = None if label_column is None else list(rows[label_column])
    n = len(rows)
    held_out = f"{n} held-out rows"

    if kind == "scored-pairs":
        gold = _numeric_labels(labels, label_column)
        cosines = [pairwise_cos_sim_np(_encode(m, texts[0]), _encode(m, texts[1])) for m in models]
        before, after = (float(stats.spearmanr(cosine, gold).statistic) for cosine in cosines)
        figure = pictures.scored_pairs_outcome(
            *cosines, gold, spearman_before=before, spearman_after=after, title=f"Scored pairs ({held_out})"
        )
    elif kind == "binary-pairs":
        binary = _binary_labels(labels, label_column)
        sims = [pairwise_cos_sim_np(_encode(m, texts[0]), _encode(m, texts[1])) for m in models]
        before, after = (float(sklearn_metrics.average_precision_score(binary, sim)) for sim in sims)
        numbers = dict(metric_name="AP", score_before=before, score_after=after)
        figure = pictures.binary_pairs_outcome(
            *sims, binary, margin=margin, **numbers, title=f"Binary pairs ({held_out})"
        )
    elif kind == "in-batch":
        sims = [cos_sim_np(_encode(m, texts[0]), _encode(m, texts[1])) for m in models]
        before, after = (_mrr(sim) for sim in sims)
        shown = min(n, DRAWN_BATCH)
        title = f"In-batch: the first {shown} queries (MRR@10 of {held_out}, each ranked among all {n})"
        figure = pictures.in_batch_outcome(
            *(sim[:shown, :shown] for sim in sims), mrr_before=before, mrr_after=after, title=title
        )
    elif kind == "classes":
        classes = _class_labels(rows, labels, label_column)
        embeddings = [_encode(m, texts[0]) for m in models]
        (xy_before, xy_after), share = _project_on_before_basis(*embeddings)
        before, after = (_leave_one_out_knn_accuracy(e, classes) for e in embeddings)
        axis_labels = (f"PC1 of before ({share[0]:.0%})", f"PC2 of before ({share[1]:.0%})")
        title = f"Single sentences + class ({held_out}) on the PCA basis of the before embeddings"
        numbers = dict(accuracy_before=before, accuracy_after=after)
        figure = pictures.classes_outcome(xy_before, xy_after, classes, **numbers, axis_labels=axis_labels, title=title)
    elif kind == "confusion":
        gold = _class_ids(labels, label_column)
        predictions = [
            _predict(classifier, m, texts) for classifier, m in zip((classifier_before, classifier_after), models)
        ]
        k = max(predictions[0][1], int(gold.max()) + 1)
        feature = rows.features.get(label_column)
        class_names = list(feature.names) if isinstance(feature, datasets.ClassLabel) else [str(i) for i in range(k)]
        class_names += [str(i) for i in range(len(class_names), k)]
        confusions = [sklearn_metrics.confusion_matrix(gold, p, labels=list(range(k))) for p, _ in predictions]
        before, after = (float(np.mean(p == gold)) for p, _ in predictions)
        title = f"Pairs + class ({held_out}): the classifier's predictions"
        figure = pictures.confusion_outcome(
            *confusions, class_names, accuracy_before=before, accuracy_after=after, title=title
        )
    else:  # teacher-student
        if teacher is not None:
            teacher_embeddings = _encode(_checked_model(teacher, "teacher"), texts[0])
        else:
            teacher_embeddings = _teacher_vectors(labels, label_column)
        teacher_sim = _consecutive_similarities(teacher_embeddings)
        students = [_consecutive_similarities(_encode(m, texts[0])) for m in models]
        before, after = (float(np.mean((student - teacher_sim) ** 2)) for student in students)
        figure = pictures.teacher_student_outcome(
            *students, teacher_sim, title=f"Teacher and student ({n - 1} pairs of consecutive texts, {held_out})"
        )
    return Outcome(kind, KINDS[kind], before, after, figure, rows_used=n)


# -- checking the input ------------------------------------------------------------------------
def _held_out_rows(kind, rows, columns, label_column, max_rows, teacher) -> datasets.Dataset:
    if not isinstance(rows, datasets.Dataset):
        raise ValueError(
            f"rows must be a datasets.Dataset of held-out rows, got {type(rows).__name__}; "
            "build one with datasets.Dataset.from_dict({column: values}) or take a split of your data set."
        )
    if not isinstance(max_rows, int) or isinstance(max_rows, bool) or max_rows < 2:
        raise ValueError(f"max_rows must be an int of at least 2 (rows measured and drawn), got {max_rows!r}.")
    needed = _text_columns(kind)
    if isinstance(columns, str) or not isinstance(columns, Sequence) or len(columns) < needed:
        raise ValueError(
            f"kind {kind!r} needs columns=[...] naming at least {needed} text column(s) of rows in order "
            f"(e.g. {['sentence1', 'sentence2'][:needed]}); got {columns!r}. The data set has {rows.column_names}."
        )
    wanted = list(columns[:needed])
    if label_column is None and (kind in _LABEL_NEEDED or (kind == "teacher-student" and teacher is None)):
        what = "the teacher's embeddings (or pass teacher=the teacher model)" if kind == "teacher-student" else ""
        raise ValueError(
            f"kind {kind!r} needs label_column= naming the column of {what or 'labels'}; "
            f"the data set has the columns {rows.column_names}."
        )
    wanted += [] if label_column is None else [label_column]
    missing = [column for column in wanted if column not in rows.column_names]
    if missing:
        raise ValueError(f"rows has no column {missing}; it has {rows.column_names}. Pass the names it uses.")
    if len(rows) < 2:
        raise ValueError(f"kind {kind!r} needs at least 2 held-out rows to compare, got {len(rows)}.")
    rows = rows.select(range(min(len(rows), max_rows)))
    for column in columns[:needed]:
        bad = [i for i, text in enumerate(rows[column]) if not isinstance(text, str)]
        if bad:
            raise ValueError(f"Column {column!r} must hold texts; row {bad[0]} holds {rows[bad[0]][column]!r}.")
    if label_column is not None and any(label is None for label in rows[label_column]):
        raise ValueError(f"Column {label_column!r} has rows without a label (None); drop or fill them first.")
    return rows


def _text_columns(kind: str) -> int:
    return 1 if kind in _ONE_TEXT_COLUMN else 2


def _checked_model(model, name: str):
    if isinstance(model, (str, bytes)) or not hasattr(model, "encode"):
        raise ValueError(
            f"{name} must be a loaded model with encode(texts) (an EmbeddingModel), got {type(model).__name__}; "
            "load one with lossbook.load_model(...)."
        )
    return model


def _numeric_labels(labels: list, column: str) -> np.ndarray:
    try:
        values = np.asarray(labels, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"Column {column!r} must hold a gold similarity score (a number) per pair.") from None
    if values.ndim != 1 or not np.isfinite(values).all() or np.ptp(values) == 0:
        raise ValueError(
            f"Column {column!r} must hold finite gold scores that are not all equal (Spearman compares their order)."
        )
    return values


def _binary_labels(labels: list, column: str) -> np.ndarray:
    values = np.asarray(labels)
    if values.ndim != 1 or not np.isin(values, (0, 1)).all() or len(np.unique(values)) < 2:
        raise ValueError(
            f"Column {column!r} must hold 1 (matching pair) or 0 (non-matching pair), with both among the rows; "
            f"got the values {sorted(set(map(str, labels)))[:5]}."
        )
    return values.astype(int)


def _class_labels(rows: datasets.Dataset, labels: list, column: str) -> list:
    feature = rows.features.get(column)
    if isinstance(feature, datasets.ClassLabel):
        labels = [feature.names[i] for i in labels]  # names read better in the legend than ids
    if len(set(labels)) < 2:
        raise ValueError(f"Column {column!r} must hold at least 2 different classes among the rows, got {set(labels)}.")
    return labels


def _class_ids(labels: list, column: str) -> np.ndarray:
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0 for v in labels):
        raise ValueError(f"Column {column!r} must hold class ids (ints 0..K-1), got e.g. {labels[:3]!r}.")
    return np.asarray(labels, dtype=int)


def _teacher_vectors(labels: list, column: str) -> np.ndarray:
    try:
        vectors = np.asarray(labels, dtype=np.float64)
    except (TypeError, ValueError):
        vectors = np.empty(0)
    if vectors.ndim != 2:
        raise ValueError(
            f"Column {column!r} must hold the teacher's embedding (a list of numbers) of each text, "
            "or pass teacher=the teacher model."
        )
    return vectors


# -- the numbers -------------------------------------------------------------------------------
def _encode(model, texts: list[str]) -> np.ndarray:
    """Float64 (N, dim) embeddings, without building a graph (held-out rows are only measured)."""
    with torch.no_grad():
        return as_array(model.encode(texts))


def _mrr(similarity: np.ndarray) -> float:
    """Mean over queries of 1/rank of the diagonal document, 0 when it is not in the top 10."""
    ranks = pictures.positive_ranks(similarity)
    return float(np.mean(np.where(ranks <= MRR_DEPTH, 1.0 / ranks, 0.0)))


def _project_on_before_basis(before: np.ndarray, after: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Both on the two main axes of the *before* embeddings, so the panels share one basis and one origin."""
    mean = before.mean(axis=0)
    _, s, vt = np.linalg.svd(before - mean, full_matrices=False)
    basis = vt[:2] * np.sign(vt[:2][np.arange(len(vt[:2])), np.abs(vt[:2]).argmax(axis=1)] + 1e-300)[:, None]
    share = s[:2] ** 2 / max(np.sum(s**2), 1e-300)
    return [(x - mean) @ basis.T for x in (before, after)], share


def _leave_one_out_knn_accuracy(embeddings: np.ndarray, labels: Sequence) -> float:
    """Share of rows whose 5 nearest other rows (cosine) vote for their class; a tie goes to the nearest's class."""
    similarity = cos_sim_np(embeddings, embeddings)
    np.fill_diagonal(similarity, -np.inf)  # leave the row itself out
    k = min(KNN_NEIGHBOURS, len(labels) - 1)
    nearest = np.argsort(-similarity, axis=1, kind="stable")[:, :k]
    correct = 0
    for row, gold in zip(nearest, labels):
        votes = [labels[j] for j in row]
        counts = Counter(votes)
        top = max(counts.values())
        correct += next(label for label in votes if counts[label] == top) == gold
    return correct / len(labels)


def _predict(classifier: Callable, model, texts: list[list[str]]) -> tuple[np.ndarray, int]:
    """The predicted class of each pair, and the number of classes the classifier knows."""
    device = getattr(model, "device", torch.device("cpu"))
    with torch.no_grad():
        u, v = (torch.as_tensor(model.encode(column)).float().to(device) for column in texts)
        logits = torch.as_tensor(classifier(u, v)).detach().float().cpu()
    if logits.ndim != 2 or len(logits) != len(u):
        raise ValueError(f"The classifier must return logits of shape ({len(u)}, classes), got {tuple(logits.shape)}.")
    return logits.argmax(dim=1).numpy(), logits.shape[1]


def _consecutive_similarities(embeddings: np.ndarray) -> np.ndarray:
    """Cosine of text i with text i + 1: pairs of unrelated texts, as a teacher would score them."""
    embeddings = normalize_rows_np(embeddings)
    return pairwise_cos_sim_np(embeddings[:-1], embeddings[1:])
