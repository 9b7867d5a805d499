"""TripletLoss: (anchor, positive, negative) triplets, the negative pushed a margin farther than the positive.

The batch-mined variants that build triplets from single sentences with class labels live in
:mod:`lossbook.losses.batch_triplets`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from lossbook.formats import FORMATS
from lossbook.losses.base import EmbeddingLoss
from lossbook.similarity import (
    distance_metric_name,
    pairwise_cosine_distance,
    pairwise_euclidean_distance,
    pairwise_manhattan_distance,
)

__all__ = ["HERMANS_2017_CITATION", "TripletDistanceMetric", "TripletLoss"]

HERMANS_2017_CITATION = """
@misc{hermans2017defense,
    title={In Defense of the Triplet Loss for Person Re-Identification},
    author={Alexander Hermans and Lucas Beyer and Bastian Leibe},
    year={2017},
    eprint={1703.07737},
    archivePrefix={arXiv},
    primaryClass={cs.CV}
}
"""


class TripletDistanceMetric:
    """Row-wise distances for :class:`TripletLoss`: ``COSINE`` (``1 - cos``, in [0, 2]), ``EUCLIDEAN``, ``MANHATTAN``.

    Unlike :class:`~lossbook.losses.labelled_pairs.SiameseDistanceMetric`, these add no epsilon:
    identical rows are exactly 0 apart. Any callable ``(x, y) -> (batch,)`` works too.
    """

    COSINE = staticmethod(pairwise_cosine_distance)
    EUCLIDEAN = staticmethod(pairwise_euclidean_distance)
    MANHATTAN = staticmethod(pairwise_manhattan_distance)


class TripletLoss(EmbeddingLoss):
    r"""Make each anchor closer to its positive than to its negative, by at least a margin.

    With :math:`d` = ``distance_metric`` and :math:`m` = ``triplet_margin``:

    .. math::
        L = \frac{1}{B} \sum_{i=1}^{B} \max\big(0,\ d(a_i, p_i) - d(a_i, n_i) + m\big)

    Warning:
        The default, Euclidean distance with a margin of 5, **can never be satisfied** by unit-norm
        embeddings (all-MiniLM-L6-v2 normalises its output): two unit vectors are at most 2 apart, so
        :math:`d(a,p) - d(a,n) + 5 \ge 3` and every triplet always contributes. Training still moves the
        embeddings in the right direction (the gradient is that of :math:`d(a,p) - d(a,n)`), but the value
        never approaches 0. For normalised models pick a margin on the metric's scale, e.g.
        ``TripletDistanceMetric.COSINE`` with ``triplet_margin=0.2``.

    Args:
        model: the embedding model (lossbook ``EmbeddingModel`` or a ``SentenceTransformer``).
        distance_metric: ``TripletDistanceMetric.EUCLIDEAN`` (default), ``COSINE``, ``MANHATTAN`` or any
            ``(x, y) -> (batch,)`` callable.
        triplet_margin: how much farther the negative must be than the positive; 5 by default.

    Inputs:
        (anchor, positive, negative) triplets ('triplet'), no labels (labels are ignored). Exactly three
        columns: for more negatives per anchor use ``MultipleNegativesRankingLoss`` or :class:`AnglELoss`.

    Relations:
        The batch-mined variants (``BatchAllTripletLoss``, ``BatchHardTripletLoss``,
        ``BatchSemiHardTripletLoss``, ``BatchHardSoftMarginTripletLoss``) build the triplets inside a batch of
        labelled sentences. ``MultipleNegativesRankingLoss`` uses the same triplets plus every other row of
        the batch as negatives and usually trains better.

    Note:
        The reference's docstring shows the Euclidean formula whatever the metric; the code uses the
        chosen metric, as here.

    Example:
        >>> from lossbook import load_model
        >>> from lossbook.losses.triplets import TripletDistanceMetric, TripletLoss
        >>> model = load_model()
        >>> loss = TripletLoss(model, distance_metric=TripletDistanceMetric.COSINE, triplet_margin=0.2)
        >>> columns = [model.tokenize(["Who wrote Hamlet?"]), model.tokenize(["Shakespeare wrote Hamlet."]),
        ...            model.tokenize(["Hamlet is set in Denmark."])]
        >>> loss(columns)  # doctest: +SKIP

    Reference:
        Hermans, Beyer & Leibe, "In Defense of the Triplet Loss for Person Re-Identification" (arXiv 1703.07737);
        the triplet loss goes back to Schroff et al., FaceNet (CVPR 2015).
    """

    formats = (FORMATS["triplet"],)
    column_hint = (
        "Build triplets from pairs with lossbook.convert.mine_hard_negatives or "
        "lossbook.convert.pair_class_to_triplets / sentence_class_to_triplets."
    )

    def __init__(
        self,
        model: nn.Module,
        distance_metric: Callable[[Tensor, Tensor], Tensor] = TripletDistanceMetric.EUCLIDEAN,
        triplet_margin: float = 5,
    ) -> None:
        super().__init__(model)
        self.distance_metric = distance_metric
        self.triplet_margin = triplet_margin

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor | None = None) -> Tensor:
        anchor, positive, negative = embeddings
        losses = F.relu(
            self.distance_metric(anchor, positive) - self.distance_metric(anchor, negative) + self.triplet_margin
        )  # (batch,)
        return losses.mean()

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "distance_metric": distance_metric_name(self.distance_metric, TripletDistanceMetric),
            "triplet_margin": self.triplet_margin,
        }

    @property
    def citation(self) -> str:
        return HERMANS_2017_CITATION
