"""Every loss of sentence-transformers' loss overview, one small class each.

Names, constructor parameters and defaults follow sentence-transformers 6.2, so code written for one
runs with the other. Each class documents its formula, input format, relations and reference, and
declares the data formats it accepts (``Loss.formats``), from which ``lossbook.table`` is built.

The order below is the order of the loss table: in-batch ranking, scored pairs, labelled pairs,
triplets, unsupervised, distillation, regularisation, modifiers.
"""

from lossbook.losses.adaptive_layer import AdaptiveLayerLoss, Matryoshka2dLoss
from lossbook.losses.base import EmbeddingLoss, EmbeddingPath, LossInputError, UnsupportedModelError
from lossbook.losses.batch_triplets import (
    BatchAllTripletLoss,
    BatchHardSoftMarginTripletLoss,
    BatchHardTripletLoss,
    BatchHardTripletLossDistanceFunction,
    BatchSemiHardTripletLoss,
)
from lossbook.losses.cached import CachedEmbeddingLoss
from lossbook.losses.cached_ranking import (
    CachedMultipleNegativesRankingLoss,
    CachedMultipleNegativesSymmetricRankingLoss,
)
from lossbook.losses.denoising import DenoisingAutoEncoderLoss
from lossbook.losses.distillation import EmbedDistillLoss, MSELoss
from lossbook.losses.distillation_scores import DistillKLDivLoss, MarginMSELoss
from lossbook.losses.gist import CachedGISTEmbedLoss, GISTEmbedLoss
from lossbook.losses.labelled_pairs import ContrastiveLoss, OnlineContrastiveLoss, SiameseDistanceMetric, SoftmaxLoss
from lossbook.losses.mega_batch import MegaBatchMarginLoss
from lossbook.losses.modifiers import MatryoshkaLoss
from lossbook.losses.ranking import MultipleNegativesRankingLoss, MultipleNegativesSymmetricRankingLoss
from lossbook.losses.regularization import GlobalOrthogonalRegularizationLoss
from lossbook.losses.scored_pairs import AnglELoss, CoSENTLoss, CosineSimilarityLoss
from lossbook.losses.triplets import TripletDistanceMetric, TripletLoss
from lossbook.losses.unsupervised import ContrastiveTensionLoss, ContrastiveTensionLossInBatchNegatives
from lossbook.similarity import cos_sim, dot_score, pairwise_angle_sim, pairwise_cos_sim, pairwise_dot_score

__all__ = [
    # in-batch ranking
    "MultipleNegativesRankingLoss",
    "CachedMultipleNegativesRankingLoss",
    "MultipleNegativesSymmetricRankingLoss",
    "CachedMultipleNegativesSymmetricRankingLoss",
    "GISTEmbedLoss",
    "CachedGISTEmbedLoss",
    "MegaBatchMarginLoss",
    # scored pairs
    "CoSENTLoss",
    "AnglELoss",
    "CosineSimilarityLoss",
    # labelled pairs
    "ContrastiveLoss",
    "OnlineContrastiveLoss",
    "SoftmaxLoss",
    # triplets
    "TripletLoss",
    "BatchAllTripletLoss",
    "BatchHardTripletLoss",
    "BatchSemiHardTripletLoss",
    "BatchHardSoftMarginTripletLoss",
    # unsupervised
    "ContrastiveTensionLoss",
    "ContrastiveTensionLossInBatchNegatives",
    "DenoisingAutoEncoderLoss",
    # distillation
    "MSELoss",
    "EmbedDistillLoss",
    "MarginMSELoss",
    "DistillKLDivLoss",
    # regularisation
    "GlobalOrthogonalRegularizationLoss",
    # modifiers
    "MatryoshkaLoss",
    "AdaptiveLayerLoss",
    "Matryoshka2dLoss",
    # helpers
    "BatchHardTripletLossDistanceFunction",
    "CachedEmbeddingLoss",
    "EmbeddingLoss",
    "EmbeddingPath",
    "LossInputError",
    "SiameseDistanceMetric",
    "TripletDistanceMetric",
    "UnsupportedModelError",
    "cos_sim",
    "dot_score",
    "pairwise_angle_sim",
    "pairwise_cos_sim",
    "pairwise_dot_score",
]

#: The 29 loss classes of sentence-transformers 6.2 that lossbook re-implements.
LOSS_NAMES = tuple(__all__[: __all__.index("BatchHardTripletLossDistanceFunction")])
