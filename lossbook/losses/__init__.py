"""Every loss of sentence-transformers' loss overview, one small class each.

Names, constructor parameters and defaults follow sentence-transformers 6.2, so code written for one
runs with the other. Each class documents its formula, input format, relations and reference.
"""

from lossbook.losses.base import EmbeddingLoss, LossInputError
from lossbook.losses.scored_pairs import CosineSimilarityLoss

__all__ = ["CosineSimilarityLoss", "EmbeddingLoss", "LossInputError"]
