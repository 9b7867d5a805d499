"""Triplet losses mined inside a batch of single sentences with class labels.

Every row is an anchor; rows of its class are its positives, rows of any other class its negatives.
The four losses differ in which (anchor, positive, negative) triplets they keep: all of them
(:class:`BatchAllTripletLoss`), the hardest per anchor (:class:`BatchHardTripletLoss`,
:class:`BatchHardSoftMarginTripletLoss`) or a semi-hard negative per pair (:class:`BatchSemiHardTripletLoss`).

Batches need at least two classes, each with two or more rows (sentence-transformers'
``BatchSamplers.GROUP_BY_LABEL`` builds such batches). A batch whose rows all share one class has no
triplet: these losses then return 0 (with a ``grad_fn``, so ``backward()`` works) and warn once.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lossbook.formats import FORMATS
from lossbook.losses.base import EmbeddingLoss
from lossbook.losses.triplets import HERMANS_2017_CITATION
from lossbook.similarity import as_float_tensor, cosine_distance_matrix, euclidean_distance_matrix

__all__ = [
    "BatchAllTripletLoss",
    "BatchHardSoftMarginTripletLoss",
    "BatchHardTripletLoss",
    "BatchHardTripletLossDistanceFunction",
    "BatchSemiHardTripletLoss",
    "batch_all_triplet_loss_plain",
    "batch_semi_hard_triplet_loss_plain",
]

_CLASS_HINT = (
    "Use single sentences with an integer class 'label' column (format 'single sentences + class'); "
    "for (anchor, positive, negative) triplets use TripletLoss or MultipleNegativesRankingLoss."
)


class BatchHardTripletLossDistanceFunction:
    """Distance *matrices* for the batch-triplet losses: ``(batch, dim) -> (batch, batch)``.

    Any such callable can be passed as ``distance_metric``; the row-wise metrics of
    ``SiameseDistanceMetric`` / ``TripletDistanceMetric`` do not fit here. Both are in :mod:`lossbook.similarity`.
    """

    # Functions of their own (not aliases), so that get_config_dict names them as the reference does.
    @staticmethod
    def cosine_distance(embeddings: Tensor) -> Tensor:
        """``1 - cos(x_i, x_j)`` for every pair of rows (in [0, 2])."""
        return cosine_distance_matrix(embeddings)

    @staticmethod
    def euclidean_distance(embeddings: Tensor, squared: bool = False) -> Tensor:
        """``||x_i - x_j||`` (or its square) for every pair of rows, from the Gram matrix."""
        return euclidean_distance_matrix(embeddings, squared)

    # The reference keeps this misspelt name for backwards compatibility.
    eucledian_distance = euclidean_distance


class _BatchTripletLoss(EmbeddingLoss):
    """One column, one class id per row; the pairwise distance matrix; the single-class guard."""

    formats = (FORMATS["sentence-class"],)
    column_hint = label_hint = _CLASS_HINT

    def __init__(self, model: nn.Module, distance_metric: Callable[[Tensor], Tensor]) -> None:
        super().__init__(model)
        self.distance_metric = distance_metric
        self._warned_single_class = False

    @property
    def sentence_embedder(self) -> nn.Module:
        """The model, under the attribute name the reference's batch-triplet losses use."""
        return self.model

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor) -> Tensor:
        (sentences,) = embeddings
        if labels.unique().numel() < 2:
            self._warn_single_class()
            # No triplet exists: 0, but still attached to the graph so that backward() runs.
            return as_float_tensor(sentences).sum() * 0.0
        return self._batch_loss(self.distance_metric(sentences), labels)  # distances: (batch, batch)

    def _batch_loss(self, distances: Tensor, labels: Tensor) -> Tensor:
        """The loss from the ``(batch, batch)`` distance matrix and one class id per row."""
        raise NotImplementedError

    def _warn_single_class(self) -> None:
        if self._warned_single_class:
            return
        self._warned_single_class = True
        warnings.warn(
            f"{type(self).__name__} got a batch whose rows all share one class, so it holds no (anchor, positive, "
            "negative) triplet and the loss is 0. Put at least 2 classes with 2+ rows each in every batch "
            "(e.g. sentence-transformers' BatchSamplers.GROUP_BY_LABEL).",
            UserWarning,
            stacklevel=5,
        )

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "distance_metric": getattr(self.distance_metric, "__name__", repr(self.distance_metric)),
            "margin": self.triplet_margin,
        }

    @property
    def citation(self) -> str:
        return HERMANS_2017_CITATION


def _class_masks(labels: Tensor) -> tuple[Tensor, Tensor]:
    """``same_class[a, b]``: rows a and b share a class; ``positive[a, p]``: p is a positive of anchor a (p != a)."""
    same_class = labels[:, None] == labels[None, :]  # (batch, batch)
    eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    return same_class, same_class & ~eye


def _hardest_pairs(distances: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
    """Per anchor: the farthest same-class row (0 when it has none) and the nearest other-class row."""
    same_class, positive = _class_masks(labels)
    hardest_positive = distances.masked_fill(~positive, 0.0).max(dim=1).values  # (batch,)
    hardest_negative = distances.masked_fill(same_class, torch.inf).min(dim=1).values  # (batch,)
    return hardest_positive, hardest_negative


def batch_all_triplet_loss_plain(distances: Tensor, labels: Tensor, margin: float) -> Tensor:
    """BatchAllTripletLoss as its formula reads, on the ``(batch, batch, batch)`` cube of (a, p, n) triplets.

    The loss computes the same without the cube; the tests compare the two.
    """
    same_class, positive = _class_masks(labels)
    valid = positive[:, :, None] & ~same_class[:, None, :]  # (a, p, n)
    per_triplet = F.relu(distances[:, :, None] - distances[:, None, :] + margin) * valid
    return per_triplet.sum() / (per_triplet > 1e-16).sum().clamp(min=1)


def batch_semi_hard_triplet_loss_plain(distances: Tensor, labels: Tensor, margin: float) -> Tensor:
    """BatchSemiHardTripletLoss as its formula reads: for each (a, p), the nearest negative farther than p.

    The loss computes the same by sorting each anchor's negatives once; the tests compare the two.
    """
    same_class, positive = _class_masks(labels)
    negative_distances = distances[:, None, :].expand(-1, len(labels), -1)  # (a, p, n): D_an
    farther = ~same_class[:, None, :] & (negative_distances > distances[:, :, None])  # D_an > D_ap
    nearest_farther = negative_distances.masked_fill(~farther, torch.inf).min(dim=2).values  # (a, p)
    farthest = distances.masked_fill(same_class, -torch.inf).max(dim=1, keepdim=True).values  # (a, 1)
    semi_hard = torch.where(farther.any(dim=2), nearest_farther, farthest)
    return F.relu(distances - semi_hard + margin)[positive].sum() / positive.sum().clamp(min=1)


class BatchAllTripletLoss(_BatchTripletLoss):
    r"""Average the triplet loss over every valid (anchor, positive, negative) triplet of the batch that still
    costs something.

    With :math:`D` = ``distance_metric`` (a matrix), :math:`m` = ``margin`` and the valid triplets
    :math:`T = \{(a, p, n): a \ne p,\ y_a = y_p,\ y_n \ne y_a\}`:

    .. math::
        \ell_{apn} = \max(0,\ D_{ap} - D_{an} + m), \qquad
        L = \frac{\sum_{(a,p,n) \in T} \ell_{apn}}{\big|\{(a,p,n) \in T: \ell_{apn} > 10^{-16}\}\big|}

    (0 when no triplet has a positive loss). Dividing by the number of *active* triplets keeps the
    value from shrinking as more triplets become easy.

    Args:
        model: the embedding model (lossbook ``EmbeddingModel`` or a ``SentenceTransformer``).
        distance_metric: ``(batch, dim) -> (batch, batch)``; ``BatchHardTripletLossDistanceFunction.euclidean_distance``
            by default.
        margin: how much farther negatives must be than positives; 5 by default.

    Inputs:
        single sentences + an integer class id ('sentence-class'); one column.

    Relations:
        :class:`BatchHardTripletLoss` / :class:`BatchHardSoftMarginTripletLoss` keep only the hardest
        positive and negative per anchor; :class:`BatchSemiHardTripletLoss` one semi-hard negative per
        (anchor, positive) pair. :class:`~lossbook.losses.triplets.TripletLoss` takes ready-made triplets.

    Note:
        With the default Euclidean distance, a margin of 5 **cannot be satisfied** by unit-norm embeddings
        (all-MiniLM-L6-v2's): distances are at most 2, so every triplet keeps a positive loss. The
        gradient still points the right way, but pick a margin on the distance's scale (e.g.
        ``BatchHardTripletLossDistanceFunction.cosine_distance`` with ``margin=0.3``).

        The reference's docstrings say ``distance_metric`` comes from ``SiameseDistanceMetric``; the code
        (and this class) needs a distance *matrix* function such as ``BatchHardTripletLossDistanceFunction``'s.
        A batch with a single class returns 0 here; sentence-transformers returns 0 as well.

    Example:
        >>> from lossbook import load_model
        >>> from lossbook.losses.batch_triplets import BatchAllTripletLoss
        >>> model = load_model()
        >>> loss = BatchAllTripletLoss(model)
        >>> texts = model.tokenize(["They won 2-1.", "What a goal!", "Stocks fell.", "The market is up."])
        >>> loss([texts], torch.tensor([0, 0, 1, 1]))  # doctest: +SKIP

    Reference:
        Hermans, Beyer & Leibe, "In Defense of the Triplet Loss for Person Re-Identification" (arXiv 1703.07737).
    """

    commonly_used = (FORMATS["sentence-class"],)

    def __init__(
        self,
        model: nn.Module,
        distance_metric: Callable[[Tensor], Tensor] = BatchHardTripletLossDistanceFunction.euclidean_distance,
        margin: float = 5,
    ) -> None:
        super().__init__(model, distance_metric)
        self.triplet_margin = margin

    def _batch_loss(self, distances: Tensor, labels: Tensor) -> Tensor:
        # batch_all_triplet_loss_plain without the cube: one row per (anchor, positive) pair, B * (K - 1) rows.
        same_class, positive = _class_masks(labels)
        anchors, positives = positive.nonzero(as_tuple=True)  # (pairs,) each
        per_triplet = F.relu(distances[anchors, positives, None] - distances[anchors] + self.triplet_margin)
        per_triplet = torch.where(same_class[anchors], 0.0, per_triplet)  # (pairs, batch): negatives only
        return per_triplet.sum() / (per_triplet > 1e-16).sum().clamp(min=1)


class BatchHardTripletLoss(_BatchTripletLoss):
    r"""For each anchor, the triplet of its farthest positive and its nearest negative in the batch.

    .. math::
        L = \frac{1}{B} \sum_{a=1}^{B} \max\Big(0,\ \max_{p \ne a,\, y_p = y_a} D_{ap}
            - \min_{n:\, y_n \ne y_a} D_{an} + m\Big)

    An anchor that is alone in its class uses 0 for the hardest-positive distance (as the reference).

    Args:
        model: the embedding model (lossbook ``EmbeddingModel`` or a ``SentenceTransformer``).
        distance_metric: ``(batch, dim) -> (batch, batch)``; ``BatchHardTripletLossDistanceFunction.euclidean_distance``
            by default.
        margin: how much farther the nearest negative must be than the farthest positive; 5 by default.

    Inputs:
        single sentences + an integer class id ('sentence-class'); one column.

    Relations:
        :class:`BatchHardSoftMarginTripletLoss` replaces the hinge by a softplus and needs no margin;
        :class:`BatchAllTripletLoss` averages over all triplets instead of the hardest.

    Note:
        With the default Euclidean distance, a margin of 5 **cannot be satisfied** by unit-norm embeddings
        (all-MiniLM-L6-v2's): distances are at most 2, so every triplet keeps a positive loss. The
        gradient still points the right way, but pick a margin on the distance's scale (e.g.
        ``BatchHardTripletLossDistanceFunction.cosine_distance`` with ``margin=0.3``).

        The reference's docstrings say ``distance_metric`` comes from ``SiameseDistanceMetric``; the code
        (and this class) needs a distance *matrix* function such as ``BatchHardTripletLossDistanceFunction``'s.
        A batch with a single class returns 0 here; sentence-transformers returns the margin (with a zero gradient).

    Example:
        >>> from lossbook import load_model
        >>> from lossbook.losses.batch_triplets import BatchHardTripletLoss, BatchHardTripletLossDistanceFunction
        >>> model = load_model()
        >>> loss = BatchHardTripletLoss(model, BatchHardTripletLossDistanceFunction.cosine_distance, margin=0.3)
        >>> texts = model.tokenize(["They won 2-1.", "What a goal!", "Stocks fell.", "The market is up."])
        >>> loss([texts], torch.tensor([0, 0, 1, 1]))  # doctest: +SKIP

    Reference:
        Hermans, Beyer & Leibe, "In Defense of the Triplet Loss for Person Re-Identification" (arXiv 1703.07737).
    """

    def __init__(
        self,
        model: nn.Module,
        distance_metric: Callable[[Tensor], Tensor] = BatchHardTripletLossDistanceFunction.euclidean_distance,
        margin: float = 5,
    ) -> None:
        super().__init__(model, distance_metric)
        self.triplet_margin = margin

    def _batch_loss(self, distances: Tensor, labels: Tensor) -> Tensor:
        hardest_positive, hardest_negative = _hardest_pairs(distances, labels)
        return F.relu(hardest_positive - hardest_negative + self.triplet_margin).mean()


class BatchHardSoftMarginTripletLoss(BatchHardTripletLoss):
    r"""Batch-hard triplets with a soft margin: a softplus of (farthest positive - nearest negative), no margin to tune.

    .. math::
        L = \frac{1}{B} \sum_{a=1}^{B} \log\Big(1 + \exp\big(\max_{p \ne a,\, y_p = y_a} D_{ap}
            - \min_{n:\, y_n \ne y_a} D_{an}\big)\Big)

    Never exactly 0: it keeps pushing negatives away however far they already are. An anchor alone in
    its class uses 0 for the hardest-positive distance (as the reference).

    Args:
        model: the embedding model (lossbook ``EmbeddingModel`` or a ``SentenceTransformer``).
        distance_metric: ``(batch, dim) -> (batch, batch)``; ``BatchHardTripletLossDistanceFunction.euclidean_distance``
            by default.

    Inputs:
        single sentences + an integer class id ('sentence-class'); one column.

    Relations:
        :class:`BatchHardTripletLoss` is the same mining with a hinge and a margin.

    Note:
        The reference's docstrings say ``distance_metric`` comes from ``SiameseDistanceMetric``; the code
        needs a distance *matrix* function such as ``BatchHardTripletLossDistanceFunction``'s. A batch with
        a single class returns 0 here; sentence-transformers returns ln 2 (with a zero gradient).

    Example:
        >>> from lossbook import load_model
        >>> from lossbook.losses.batch_triplets import BatchHardSoftMarginTripletLoss
        >>> model = load_model()
        >>> loss = BatchHardSoftMarginTripletLoss(model)
        >>> texts = model.tokenize(["They won 2-1.", "What a goal!", "Stocks fell.", "The market is up."])
        >>> loss([texts], torch.tensor([0, 0, 1, 1]))  # doctest: +SKIP

    Reference:
        Hermans, Beyer & Leibe, "In Defense of the Triplet Loss for Person Re-Identification" (arXiv 1703.07737).
    """

    def __init__(
        self,
        model: nn.Module,
        distance_metric: Callable[[Tensor], Tensor] = BatchHardTripletLossDistanceFunction.euclidean_distance,
    ) -> None:
        super().__init__(model, distance_metric)

    def _batch_loss(self, distances: Tensor, labels: Tensor) -> Tensor:
        hardest_positive, hardest_negative = _hardest_pairs(distances, labels)
        return F.softplus(hardest_positive - hardest_negative).mean()

    def get_config_dict(self) -> dict[str, Any]:
        return {"distance_metric": getattr(self.distance_metric, "__name__", repr(self.distance_metric))}


class BatchSemiHardTripletLoss(_BatchTripletLoss):
    r"""For each (anchor, positive) pair, the nearest negative that is still farther than the positive (FaceNet).

    For every pair :math:`a \ne p` with :math:`y_a = y_p`, the negative is

    .. math::
        n^*(a, p) = \begin{cases}
            \arg\min \{D_{an}: y_n \ne y_a,\ D_{an} > D_{ap}\} & \text{if that set is not empty,} \\
            \arg\max \{D_{an}: y_n \ne y_a\} & \text{otherwise,}
        \end{cases}

        L = \frac{1}{|P|} \sum_{(a,p) \in P} \max\big(0,\ D_{ap} - D_{a n^*} + m\big)

    with :math:`P` the set of such pairs. "Strictly farther" avoids the collapse that the hardest
    negatives can cause early in training; when every negative is nearer than the positive, the
    *farthest* (easiest) negative is used, as in TensorFlow Addons and the reference.

    Args:
        model: the embedding model (lossbook ``EmbeddingModel`` or a ``SentenceTransformer``).
        distance_metric: ``(batch, dim) -> (batch, batch)``; ``BatchHardTripletLossDistanceFunction.euclidean_distance``
            by default.
        margin: how much farther negatives must be than positives; 5 by default.

    Inputs:
        single sentences + an integer class id ('sentence-class'); one column.

    Relations:
        :class:`BatchHardTripletLoss` takes the hardest negative per anchor, :class:`BatchAllTripletLoss`
        all of them.

    Note:
        With the default Euclidean distance, a margin of 5 **cannot be satisfied** by unit-norm embeddings
        (all-MiniLM-L6-v2's): distances are at most 2, so every triplet keeps a positive loss. The
        gradient still points the right way, but pick a margin on the distance's scale (e.g.
        ``BatchHardTripletLossDistanceFunction.cosine_distance`` with ``margin=0.3``).

        The reference's docstrings say ``distance_metric`` comes from ``SiameseDistanceMetric``; the code
        (and this class) needs a distance *matrix* function such as ``BatchHardTripletLossDistanceFunction``'s.
        A batch with a single class returns 0 here; sentence-transformers returns the mean same-class distance
        plus the margin, with a gradient that pulls the class together.
        The reference's "semi-hard" definition reads ``distance(anchor, positive) < distance(anchor, negative)
        + margin``; the condition meant (and coded) is ``D_ap < D_an < D_ap + margin``.

    Example:
        >>> from lossbook import load_model
        >>> from lossbook.losses.batch_triplets import BatchSemiHardTripletLoss
        >>> model = load_model()
        >>> loss = BatchSemiHardTripletLoss(model)
        >>> texts = model.tokenize(["They won 2-1.", "What a goal!", "Stocks fell.", "The market is up."])
        >>> loss([texts], torch.tensor([0, 0, 1, 1]))  # doctest: +SKIP

    Reference:
        Schroff, Kalenichenko & Philbin, "FaceNet" (CVPR 2015, arXiv 1503.03832) for the mining;
        ``citation`` is Hermans et al. (arXiv 1703.07737), as in the reference.
    """

    def __init__(
        self,
        model: nn.Module,
        distance_metric: Callable[[Tensor], Tensor] = BatchHardTripletLossDistanceFunction.euclidean_distance,
        margin: float = 5,
    ) -> None:
        super().__init__(model, distance_metric)
        self.margin = margin

    @property
    def triplet_margin(self) -> float:
        return self.margin

    def _batch_loss(self, distances: Tensor, labels: Tensor) -> Tensor:
        # batch_semi_hard_triplet_loss_plain without the cube: each anchor's sorted negatives, searched once.
        same_class, positive = _class_masks(labels)
        # Each anchor's negative distances in ascending order; its own class sorts last as +inf.
        sorted_negatives = distances.masked_fill(same_class, torch.inf).sort(dim=1, stable=True).values
        # For every (a, p): the position of the first negative strictly farther than D_ap.
        position = torch.searchsorted(
            sorted_negatives.detach().contiguous(), distances.detach().contiguous(), right=True
        )
        nearest_farther = sorted_negatives.gather(1, position.clamp(max=len(labels) - 1))  # (a, p)
        farthest = distances.masked_fill(same_class, -torch.inf).max(dim=1, keepdim=True).values  # (a, 1)
        semi_hard = torch.where(torch.isfinite(nearest_farther), nearest_farther, farthest)
        return F.relu(distances - semi_hard + self.margin)[positive].sum() / positive.sum().clamp(min=1)
