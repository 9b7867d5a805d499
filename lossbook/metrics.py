"""Metrics on precomputed embeddings: STS correlation, matching pairs, triplets, k-NN, retrieval.

The *core* of each evaluation task, without a model: ``sts_metrics``, ``binary_metrics``,
``triplet_metrics``, ``knn_metrics``, ``retrieval_metrics`` take numpy arrays of embeddings (one row per
text; cosine similarity throughout) and return a ``Result``. ``lossbook.evaluate`` encodes the data with
a model and calls them, once per Matryoshka dim and layer (a ``Grid``).
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np
from scipy import stats
from sklearn import metrics as sklearn_metrics

from lossbook.similarity import cos_sim_np, normalize_rows_np, pairwise_cos_sim_np

__all__ = [
    "BinaryResult",
    "ClassificationResult",
    "EvaluationWarning",
    "Grid",
    "Result",
    "RetrievalResult",
    "STSResult",
    "TripletResult",
    "average_precision",
    "binary_metrics",
    "check_binary",
    "check_gold",
    "check_k",
    "check_k_values",
    "knn_metrics",
    "retrieval_metrics",
    "sts_metrics",
    "triplet_metrics",
]


class EvaluationWarning(UserWarning):
    """A metric is undefined or meaningless for this data (constant labels, one class only); NaN where undefined."""


# -- results -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Result:
    """Base of the result classes: ``.metrics()`` (flat dict), ``.primary`` (main metric name), ``.score``."""

    primary: ClassVar[str] = ""

    def metrics(self) -> dict[str, float]:
        return {f.name: float(getattr(self, f.name)) for f in fields(self) if f.name not in _COUNTS}

    @property
    def score(self) -> float:
        """The value of the primary metric."""
        return self.metrics()[self.primary]

    def __getitem__(self, name: str) -> float:
        return self.metrics()[name]

    def keys(self):
        """The metric names, so that ``dict(result)`` gives the flat metrics (as a training history stores them)."""
        return self.metrics().keys()

    def __repr__(self) -> str:
        shown = [f"{k}={_fmt(k, v)}" for k, v in self.metrics().items()]
        shown += [f"{f.name}={getattr(self, f.name)}" for f in fields(self) if f.name in _COUNTS]
        return f"{type(self).__name__}({', '.join(shown)})"


_COUNTS = ("k", "n")  # result fields that describe the evaluation rather than measure the model


def _fmt(name: str, value: float) -> str:
    """Thresholds are cosines (shown as numbers); every other metric is a share or correlation (shown in %)."""
    return f"{value:.4f}" if "threshold" in name else f"{value:.2%}"


@dataclass(frozen=True, repr=False)
class STSResult(Result):
    """Spearman and Pearson correlation (in [-1, 1]) of cosine similarity with the gold scores."""

    spearman: float
    pearson: float
    n: int
    primary: ClassVar[str] = "spearman"


@dataclass(frozen=True, repr=False)
class BinaryResult(Result):
    """Average precision; the best F1 with its precision, recall and threshold; the best accuracy and its threshold.

    A pair is predicted to match when ``cosine >= threshold``. ``accuracy`` is the best accuracy over
    all thresholds (as sentence-transformers' BinaryClassificationEvaluator reports it), found at
    ``accuracy_threshold``, which need not be the best-F1 ``threshold``.
    """

    ap: float
    f1: float
    precision: float
    recall: float
    threshold: float
    accuracy: float
    accuracy_threshold: float
    n: int
    primary: ClassVar[str] = "ap"


@dataclass(frozen=True, repr=False)
class TripletResult(Result):
    """Share of triplets with ``cos(anchor, positive) > cos(anchor, negative)`` (ties count as wrong)."""

    accuracy: float
    n: int
    primary: ClassVar[str] = "accuracy"


@dataclass(frozen=True, repr=False)
class ClassificationResult(Result):
    """k-NN accuracy of test sentences against train sentences (cosine, majority vote, ties to the nearest)."""

    accuracy: float
    k: int
    n: int
    primary: ClassVar[str] = "accuracy"


@dataclass(frozen=True, repr=False)
class RetrievalResult(Result):
    """MRR@10 and NDCG@10 (binary relevance), Recall@k and Accuracy@k (a relevant passage in the top k)."""

    mrr_at_10: float
    ndcg_at_10: float
    recall: dict[int, float]
    accuracy: dict[int, float]
    n: int  # queries with at least one relevant passage
    primary: ClassVar[str] = "ndcg@10"

    def metrics(self) -> dict[str, float]:
        out = {"mrr@10": float(self.mrr_at_10), "ndcg@10": float(self.ndcg_at_10)}
        out.update({f"recall@{k}": float(v) for k, v in self.recall.items()})
        out.update({f"accuracy@{k}": float(v) for k, v in self.accuracy.items()})
        return out


@dataclass(frozen=True)
class Grid:
    """Results over layers x dims. ``values`` is a 2-D array of ``metric`` (rows = layers, columns = dims).

    ``layers`` holds layer numbers (1..num_layers; ``None`` for "the model's output" when the model
    does not say how many layers it has); ``dims`` holds embedding sizes.
    """

    dims: list[int]
    layers: list[int | None]
    results: list[list[Result]]
    metric: str

    @property
    def values(self) -> np.ndarray:
        return self.values_of(self.metric)

    def values_of(self, metric: str) -> np.ndarray:
        """A (layers, dims) array of any metric of the results, e.g. ``grid.values_of("pearson")``."""
        return np.array([[result[metric] for result in row] for row in self.results], dtype=float)

    def result(self, *, layer: int | None = None, dim: int | None = None) -> Result:
        """The result at one layer and dim (defaults: the last layer, the largest dim)."""
        i = len(self.layers) - 1 if layer is None else self.layers.index(layer)
        j = self.dims.index(max(self.dims) if dim is None else dim)
        return self.results[i][j]

    def as_table(self) -> list[dict]:
        """One row per (layer, dim) with every metric: ``pandas.DataFrame(grid.as_table())`` plots directly."""
        return [
            {"layer": layer, "dim": dim, **result.metrics()}
            for layer, row in zip(self.layers, self.results)
            for dim, result in zip(self.dims, row)
        ]

    def __str__(self) -> str:
        head = f"{self.metric:>10} | " + " ".join(f"{'dim ' + str(d):>9}" for d in self.dims)
        lines = [head, "-" * len(head)]
        for layer, row in zip(self.layers, self.values):
            name = "output" if layer is None else f"layer {layer}"
            lines.append(f"{name:>10} | " + " ".join(f"{_fmt(self.metric, v):>9}" for v in row))
        return "\n".join(lines)


# -- core metrics on precomputed embeddings ----------------------------------------------------
def _cosine_rows(a: np.ndarray, b: np.ndarray, n: int | None = None) -> np.ndarray:
    """Cosine of each row of ``a`` with the same row of ``b`` (both must have ``n`` rows when given)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or a.shape != b.shape or (n is not None and len(a) != n):
        raise ValueError(
            f"Expected two (N, dim) embedding arrays of one shape with N = {n}; got {a.shape} and {b.shape}."
        )
    return pairwise_cos_sim_np(a, b)


def sts_metrics(emb1: np.ndarray, emb2: np.ndarray, gold: Sequence[float]) -> STSResult:
    """Spearman and Pearson correlation between ``cos(emb1[i], emb2[i])`` and ``gold[i]``.

    A constant gold score (or constant predicted similarity) makes correlation undefined: it warns
    and returns NaN.
    """
    gold = check_gold(gold)
    cosine = _cosine_rows(emb1, emb2, len(gold))
    for name, values in (("gold score", gold), ("predicted cosine similarity", cosine)):
        if np.ptp(values) < 1e-12:
            warnings.warn(
                f"Every {name} is {values[0]:g}: correlation is undefined; returning NaN.",
                EvaluationWarning,
                stacklevel=2,
            )
            return STSResult(float("nan"), float("nan"), len(gold))
    return STSResult(
        float(stats.spearmanr(cosine, gold).statistic), float(stats.pearsonr(cosine, gold).statistic), len(gold)
    )


def check_gold(gold) -> np.ndarray:
    try:
        gold = np.asarray(gold, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("STS gold scores must be numbers.") from None
    if gold.ndim != 1 or len(gold) < 2 or np.isnan(gold).any():
        raise ValueError(f"STS needs at least 2 pairs with numeric gold scores (no NaN); got {gold.size} score(s).")
    return gold


def average_precision(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Average precision, ``sum_n (R_n - R_{n-1}) P_n`` over distinct thresholds (scikit-learn's).

    Tied scores form one threshold (no interpolation). No positive label: warns, returns NaN.
    """
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels)
    if labels.size == 0 or not (labels == 1).any():
        warnings.warn(
            "No positive label (1): average precision is undefined; returning NaN.", EvaluationWarning, stacklevel=2
        )
        return float("nan")
    return float(sklearn_metrics.average_precision_score(labels, scores))


def _best_f1(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float, float, float]:
    """(F1, precision, recall, threshold) at the cut with the best F1; among equal F1s, the highest threshold.

    The threshold lies halfway between the last score kept and the next lower one (as sentence-transformers'
    BinaryClassificationEvaluator reports it), or is the lowest score when every pair is kept.
    """
    precision, recall, thresholds = sklearn_metrics.precision_recall_curve(labels, scores)
    precision, recall = precision[:-1], recall[:-1]  # the last point (P = 1, R = 0) has no threshold
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    best = len(f1) - 1 - int(np.argmax(f1[::-1]))  # thresholds ascend: the last maximum is the highest
    distinct = np.unique(scores)  # ascending
    position = int(np.searchsorted(distinct, thresholds[best]))
    threshold = _threshold_after(distinct[::-1], len(distinct) - 1 - position)
    return float(f1[best]), float(precision[best]), float(recall[best]), threshold


def _cumulative_counts(scores: np.ndarray, labels: np.ndarray):
    """Sort by score (descending); at the end of each group of equal scores: positives so far, pairs so far, score."""
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], labels[order].astype(np.float64)
    ends = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1] if len(s) else np.array([], dtype=int)
    return np.cumsum(y)[ends], ends + 1.0, s[ends]


def _threshold_after(group_scores: np.ndarray, i: int) -> float:
    """A threshold that keeps groups 0..i positive: halfway to the next group's score (or the score itself)."""
    if i == len(group_scores) - 1:
        return float(group_scores[i])
    middle = (group_scores[i] + group_scores[i + 1]) / 2
    return float(group_scores[i] if middle == group_scores[i + 1] else middle)


def binary_metrics(emb1: np.ndarray, emb2: np.ndarray, labels: Sequence[int]) -> BinaryResult:
    """AP, best-F1 (precision, recall, threshold) and best accuracy (threshold) of cosine as a match score."""
    labels = check_binary(np.asarray(labels))
    scores = _cosine_rows(emb1, emb2, len(labels))
    positives, n = int(labels.sum()), len(labels)
    if positives in (0, n):
        warnings.warn(f"Every label is {labels[0]}: threshold metrics are degenerate.", EvaluationWarning, stacklevel=2)
    tp, count, group_scores = _cumulative_counts(scores, labels)
    ap = average_precision(scores, labels) if positives else float("nan")
    if positives:
        f1, precision, recall, threshold = _best_f1(scores, labels)
    else:
        f1 = precision = recall = threshold = float("nan")
    # Accuracy: start from "nothing matches" (threshold above every score), then each cut in turn.
    accuracy_all = (tp + (n - positives) - (count - tp)) / n
    j = int(np.argmax(accuracy_all))
    if accuracy_all[j] > (n - positives) / n:
        accuracy, accuracy_threshold = accuracy_all[j], _threshold_after(group_scores, j)
    else:
        accuracy, accuracy_threshold = (n - positives) / n, float(np.nextafter(group_scores[0], np.inf))
    return BinaryResult(
        float(ap), float(f1), float(precision), float(recall), threshold, float(accuracy), accuracy_threshold, n
    )


def check_binary(labels: np.ndarray) -> np.ndarray:
    if labels.ndim != 1 or len(labels) == 0 or not np.isin(labels, (0, 1)).all():
        shown = sorted(set(labels.ravel().tolist()), key=str)[:8]
        raise ValueError(
            f"Binary evaluation needs a non-empty list of labels 0 (no match) or 1 (match); got values {shown}."
        )
    return labels.astype(int)


def triplet_metrics(anchor: np.ndarray, positive: np.ndarray, negative: np.ndarray) -> TripletResult:
    """Share of rows where the anchor is closer (cosine) to the positive than to the negative."""
    if len(anchor) == 0:
        raise ValueError("Triplet evaluation needs at least one (anchor, positive, negative) row.")
    wins = _cosine_rows(anchor, positive) > _cosine_rows(anchor, negative, len(anchor))
    return TripletResult(float(wins.mean()), len(wins))


def knn_metrics(
    train: np.ndarray, train_labels: Sequence, test: np.ndarray, test_labels: Sequence, *, k: int = 5
) -> ClassificationResult:
    """Accuracy of a k-nearest-neighbour vote (cosine) of each test embedding among the train embeddings.

    The most frequent label among the k nearest wins; a tie goes to the tied label met first, nearest first.
    """
    train_labels, test_labels = list(train_labels), list(test_labels)
    check_k(k, len(train_labels))
    if not test_labels:
        raise ValueError("k-NN evaluation needs at least one test sentence.")
    classes = set(train_labels)
    if len(classes) == 1:
        warnings.warn(
            f"Every train sentence has the class {next(iter(classes))!r}: the k-NN vote can only predict it, so the "
            "accuracy measures the share of test rows of that class, not the embeddings. "
            "Use train data with several classes.",
            EvaluationWarning,
            stacklevel=2,
        )
    unseen = sorted({label for label in test_labels if label not in classes}, key=str)
    if unseen:
        warnings.warn(
            f"{len(unseen)} test class(es) never occur in the train set (e.g. {unseen[:5]}): "
            "their rows always count as wrong. Evaluate against train data that covers every test class.",
            EvaluationWarning,
            stacklevel=2,
        )
    similarity = cos_sim_np(test, train)  # (test, train)
    nearest = np.argsort(-similarity, axis=1, kind="stable")[:, :k]
    correct = 0
    for row, gold in zip(nearest, test_labels):
        votes = [train_labels[i] for i in row]
        counts = Counter(votes)
        top = max(counts.values())
        correct += next(label for label in votes if counts[label] == top) == gold
    return ClassificationResult(correct / len(test_labels), k, len(test_labels))


def check_k(k, n_train: int) -> None:
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= n_train:
        raise ValueError(f"k must be an int in 1..{n_train} (the number of train sentences), got {k!r}.")


def retrieval_metrics(
    query_emb: np.ndarray,
    corpus_emb: np.ndarray,
    query_ids: Sequence[str],
    corpus_ids: Sequence[str],
    relevant: Mapping[str, set[str]],
    *,
    k_values: Sequence[int] = (1, 5, 10),
) -> RetrievalResult:
    """MRR@10, NDCG@10, Recall@k and Accuracy@k, ranking the corpus by cosine (ties: corpus order).

    NDCG uses binary relevance, the discount ``1 / log2(rank + 1)`` and the ideal DCG of
    ``min(10, number of relevant passages)`` hits. Queries without relevant passages are skipped.
    """
    k_values = check_k_values(k_values)
    kept = [i for i, qid in enumerate(query_ids) if relevant.get(qid)]
    if not kept:
        raise ValueError("No query has a relevant passage; retrieval needs `relevant` to name some for the queries.")
    depth = min(max(k_values + [10]), len(corpus_ids))
    discount = 1.0 / np.log2(np.arange(2, depth + 2))
    queries, corpus = normalize_rows_np(query_emb[kept]), normalize_rows_np(corpus_emb)
    mrr, ndcg, recall, hit = [], [], {k: [] for k in k_values}, {k: [] for k in k_values}
    for start in range(0, len(kept), 512):  # bounded memory: a block of queries x the whole corpus
        similarity = queries[start : start + 512] @ corpus.T
        for row, qi in zip(similarity, kept[start : start + 512]):
            top = np.argsort(-row, kind="stable")[:depth]
            wanted = relevant[query_ids[qi]]
            is_rel = np.array([corpus_ids[j] in wanted for j in top], dtype=float)
            first = np.flatnonzero(is_rel[:10])
            mrr.append(1.0 / (first[0] + 1) if first.size else 0.0)
            ndcg.append(
                np.sum(is_rel[:10] * discount[: min(10, depth)]) / np.sum(discount[: min(10, len(wanted), depth)])
            )
            for k in k_values:
                found = is_rel[:k].sum()
                recall[k].append(found / len(wanted))
                hit[k].append(float(found > 0))
    mean = lambda by_k: {k: float(np.mean(v)) for k, v in by_k.items()}  # noqa: E731
    return RetrievalResult(float(np.mean(mrr)), float(np.mean(ndcg)), mean(recall), mean(hit), len(kept))


def check_k_values(k_values) -> list[int]:
    k_values = [k_values] if isinstance(k_values, int) else list(k_values)
    if not k_values or any(not isinstance(k, int) or isinstance(k, bool) or k < 1 for k in k_values):
        raise ValueError(f"k_values must be a non-empty list of positive ints, got {k_values!r}.")
    return sorted(set(k_values))
