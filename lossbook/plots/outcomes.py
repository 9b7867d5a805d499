"""What a loss did to held-out rows: one picture per data format, before and after training, on the same axes.

Each function draws two panels, "before" (left) and "after" (right), that share their axes (and their colour
limits, for the heatmaps), so a change between the panels is a change in the model, not in the scales. The
metric goes in each panel's title (``"before: Spearman 0.8123"``). ``lossbook.outcome`` computes the inputs
from two models and a data set; these functions take plain arrays (or tensors) and return the ``Figure``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from lossbook.plots._common import annotate_cells, as_array, as_number

__all__ = [
    "binary_pairs_outcome",
    "classes_outcome",
    "confusion_outcome",
    "format_metric",
    "in_batch_outcome",
    "positive_ranks",
    "scored_pairs_outcome",
    "teacher_student_outcome",
]

PANELS = ("before", "after")
MAX_COLOURED_CLASSES = 10  # tab10 has ten distinct colours; more classes are drawn grey


# -- shared pieces -----------------------------------------------------------------------------
def _two_panels(figsize: tuple[float, float]):
    """A figure with "before" and "after" panels side by side that share both axes."""
    fig, axes = plt.subplots(1, 2, figsize=figsize, sharex=True, sharey=True, layout="constrained")
    return fig, axes


def format_metric(value) -> str:
    """Four decimals (``0.8123``); a small non-zero value, such as an MSE, in scientific notation (``3.281e-05``)."""
    value = as_number(value)
    return f"{value:.3e}" if value != 0 and abs(value) < 1e-3 else f"{value:.4f}"


def _titles(axes, metric: str, before, after) -> None:
    for ax, name, value in zip(axes, PANELS, (before, after)):
        ax.set_title(f"{name}: {metric} {format_metric(value)}")


def _vectors(length: int | None = None, **named) -> list[np.ndarray]:
    """Each named input as a 1-D float64 array, all of one length (``length`` when given)."""
    arrays = [as_array(value).ravel() for value in named.values()]
    lengths = {name: len(array) for name, array in zip(named, arrays)}
    if len(set(lengths.values()) | ({length} if length is not None else set())) > 1:
        raise ValueError(f"Expected inputs of one length (one value per row); got lengths {lengths}.")
    return arrays


def _matrices(**named) -> list[np.ndarray]:
    arrays = [as_array(value) for value in named.values()]
    shapes = {name: array.shape for name, array in zip(named, arrays)}
    if any(a.ndim != 2 for a in arrays) or len(set(shapes.values())) > 1:
        raise ValueError(f"Expected 2-D matrices of one shape; got shapes {shapes}.")
    return arrays


# -- scored pairs ------------------------------------------------------------------------------
def scored_pairs_outcome(cos_before, cos_after, gold, *, spearman_before: float, spearman_after: float, title=None):
    """Cosine similarity of each pair (y) against its gold score (x), before and after training."""
    cos_before, cos_after, gold = _vectors(cos_before=cos_before, cos_after=cos_after, gold=gold)
    fig, axes = _two_panels((11, 4.5))
    for ax, cosine in zip(axes, (cos_before, cos_after)):
        ax.scatter(gold, cosine, s=18, alpha=0.7, color="C0")
        ax.set_xlabel("gold score")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("cosine similarity")
    _titles(axes, "Spearman", spearman_before, spearman_after)
    fig.suptitle(title or "Scored pairs: the model's cosine similarity against the gold score")
    return fig


# -- binary pairs ------------------------------------------------------------------------------
def binary_pairs_outcome(
    sim_before,
    sim_after,
    labels,
    *,
    margin: float | None = None,
    metric_name: str,
    score_before: float,
    score_after: float,
    bins: int = 20,
    title=None,
):
    """Histograms of the similarity of matching (label 1) and non-matching (label 0) pairs, on the same bins.

    ``margin`` (on the similarity axis) is drawn as a dashed vertical line labelled "margin".
    """
    sim_before, sim_after, labels = _vectors(sim_before=sim_before, sim_after=sim_after, labels=labels)
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("labels must be 1 (matching pair) or 0 (non-matching pair).")
    # The bins cover both panels' values (and the margin), so the two histograms can be compared bar by bar.
    values = np.concatenate([sim_before, sim_after, [] if margin is None else [float(margin)]])
    edges = np.histogram_bin_edges(values, bins=bins)
    fig, axes = _two_panels((11, 4.5))
    for ax, sim in zip(axes, (sim_before, sim_after)):
        ax.hist(sim[labels == 1], bins=edges, alpha=0.55, color="C2", label=f"positive pairs ({int(labels.sum())})")
        negatives = int((labels == 0).sum())
        ax.hist(sim[labels == 0], bins=edges, alpha=0.55, color="C3", label=f"negative pairs ({negatives})")
        if margin is not None:
            ax.axvline(float(margin), color="black", linestyle="--", linewidth=1.2, label="margin")
        ax.set_xlabel("cosine similarity")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("pairs")
    axes[1].legend(fontsize=8)
    _titles(axes, metric_name, score_before, score_after)
    fig.suptitle(title or "Binary pairs: similarity of matching and non-matching pairs")
    return fig


# -- in-batch ----------------------------------------------------------------------------------
def positive_ranks(similarity: np.ndarray) -> np.ndarray:
    """The rank (1 = best) of each row's true positive, the diagonal, among the row's documents.

    Ties go to the earlier document, as in ``lossbook.metrics.retrieval_metrics`` (corpus order).
    """
    similarity = as_array(similarity)
    diagonal = np.diag(similarity)[:, None]
    earlier = np.tri(*similarity.shape, k=-1, dtype=bool)  # [i, j] is True for j < i
    return 1 + (similarity > diagonal).sum(axis=1) + ((similarity == diagonal) & earlier).sum(axis=1)


def in_batch_outcome(sim_before, sim_after, *, mrr_before: float, mrr_after: float, title=None):
    """Query x document similarity of one held-out batch (true positive on the diagonal), before and after.

    A dot marks each diagonal cell: white where the true positive ranks first in its row, red (with its rank
    in the drawn batch written beside it) where other documents of the batch are more similar to the query.
    """
    sim_before, sim_after = _matrices(sim_before=sim_before, sim_after=sim_after)
    n, m = sim_before.shape
    if n != m:
        raise ValueError(f"Expected a square query x document matrix (positives on the diagonal); got {n} x {m}.")
    low, high = min(sim_before.min(), sim_after.min()), max(sim_before.max(), sim_after.max())
    fig, axes = _two_panels((11, 5.2))
    for ax, sim in zip(axes, (sim_before, sim_after)):
        image = ax.imshow(sim, cmap="viridis", vmin=low, vmax=high)
        ranks = positive_ranks(sim)
        first = ranks == 1
        cells = np.arange(n)
        ax.scatter(cells[first], cells[first], s=22, color="white", edgecolors="black", label="positive ranked 1st")
        ax.scatter(cells[~first], cells[~first], s=22, color="red", edgecolors="black", label="positive ranked lower")
        for i in cells[~first]:
            ax.annotate(
                str(ranks[i]),
                (i, i),
                xytext=(5, 3),
                textcoords="offset points",
                fontsize=7,
                color="white",
                bbox=dict(boxstyle="round,pad=0.15", facecolor="red", edgecolor="none", alpha=0.85),
            )
        ax.set_xlabel("documents (column i = positive of query i)")
        ax.set_xticks(range(0, n, max(1, n // 8)))
        ax.set_yticks(range(0, n, max(1, n // 8)))
    axes[0].set_ylabel("queries")
    axes[1].legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=2, frameon=False)
    fig.colorbar(image, ax=list(axes), label="cosine similarity", shrink=0.8)
    _titles(axes, "MRR@10", mrr_before, mrr_after)
    fig.suptitle(title or f"In-batch: similarity of {n} queries to their positives and to each other's")
    return fig


# -- single sentences + class ------------------------------------------------------------------
def classes_outcome(
    xy_before,
    xy_after,
    labels: Sequence,
    *,
    accuracy_before: float,
    accuracy_after: float,
    axis_labels: tuple[str, str] = ("dimension 1", "dimension 2"),
    title=None,
):
    """2-D points coloured by class, before and after: the ten most frequent classes coloured, others grey."""
    xy_before, xy_after = _matrices(xy_before=xy_before, xy_after=xy_after)
    labels = list(labels)
    if xy_before.shape[1] != 2 or len(labels) != len(xy_before):
        raise ValueError(
            f"Expected (N, 2) points and N labels; got points of shape {xy_before.shape} and {len(labels)} labels."
        )
    counts = Counter(labels)
    coloured = [cls for cls, _ in counts.most_common(MAX_COLOURED_CLASSES)]
    palette = plt.get_cmap("tab10")
    fig, axes = _two_panels((11.5, 5))
    for ax, xy in zip(axes, (xy_before, xy_after)):
        others = np.array([label not in coloured for label in labels])
        if others.any():
            rest = len(counts) - len(coloured)
            ax.scatter(*xy[others].T, s=16, color="lightgrey", label=f"{rest} other classes")
        for k, cls in enumerate(coloured):
            mask = np.array([label == cls for label in labels])
            ax.scatter(*xy[mask].T, s=22, color=palette(k), label=str(cls))
        ax.set_xlabel(axis_labels[0])
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(axis_labels[1])
    axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    _titles(axes, "k-NN accuracy", accuracy_before, accuracy_after)
    fig.suptitle(title or "Single sentences + class: embeddings on one 2-D basis")
    return fig


# -- pairs + class -----------------------------------------------------------------------------
def confusion_outcome(
    confusion_before, confusion_after, class_names: Sequence[str], *, accuracy_before, accuracy_after, title=None
):
    """Two confusion matrices (rows: true class, columns: predicted), with the counts written in the cells."""
    confusion_before, confusion_after = _matrices(confusion_before=confusion_before, confusion_after=confusion_after)
    k = len(class_names)
    if confusion_before.shape != (k, k):
        raise ValueError(f"Expected {k} x {k} confusion matrices for {k} class names; got {confusion_before.shape}.")
    high = max(confusion_before.max(), confusion_after.max(), 1)
    fig, axes = _two_panels((4 + 1.1 * k * 2, 2.5 + 0.7 * k))
    names = [str(name) for name in class_names]
    for ax, confusion in zip(axes, (confusion_before, confusion_after)):
        image = ax.imshow(confusion, cmap="Blues", vmin=0, vmax=high)
        annotate_cells(ax, image, confusion, "{:.0f}", fontsize=9)
        ax.set_xticks(range(k), names, rotation=30, ha="right", rotation_mode="anchor")
        ax.set_yticks(range(k), names)
        ax.set_xlabel("predicted class")
    axes[0].set_ylabel("true class")
    fig.colorbar(image, ax=list(axes), label="pairs", shrink=0.8)
    _titles(axes, "accuracy", accuracy_before, accuracy_after)
    fig.suptitle(title or "Pairs + class: the classifier's predictions")
    return fig


# -- teacher and student -----------------------------------------------------------------------
def teacher_student_outcome(student_before, student_after, teacher, *, title=None):
    """Student similarity (y) against teacher similarity (x) of the same pairs; on the identity line they agree."""
    student_before, student_after, teacher = _vectors(
        student_before=student_before, student_after=student_after, teacher=teacher
    )
    values = np.concatenate([student_before, student_after, teacher])
    pad = 0.05 * max(np.ptp(values), 1e-3)
    limits = (values.min() - pad, values.max() + pad)
    fig, axes = _two_panels((10, 5))
    for ax, name, student in zip(axes, PANELS, (student_before, student_after)):
        ax.plot(limits, limits, color="grey", linestyle="--", linewidth=1, label="student = teacher")
        ax.scatter(teacher, student, s=18, alpha=0.7, color="C0", label="pairs")
        ax.set(xlim=limits, ylim=limits, aspect="equal", xlabel="teacher similarity")
        ax.set_title(f"{name}: MSE {format_metric(np.mean((student - teacher) ** 2))}")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("student similarity")
    axes[1].legend(fontsize=8)
    fig.suptitle(title or "Teacher and student: similarity of the same pairs")
    return fig
