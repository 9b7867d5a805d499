"""MegaBatchMarginLoss: a triplet margin loss whose negative is the hardest other positive of a large batch."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lossbook.formats import FORMATS
from lossbook.losses.base import EmbeddingPath
from lossbook.losses.cached import CachedEmbeddingLoss
from lossbook.losses.ranking import check_in_batch_rows
from lossbook.similarity import cos_sim

__all__ = ["MegaBatchMarginLoss"]

_PARANMT_CITATION = """
@inproceedings{wieting-gimpel-2018-paranmt,
    title = "{P}ara{NMT}-50{M}: Pushing the Limits of Paraphrastic Sentence Embeddings \
with Millions of Machine Translations",
    author = "Wieting, John and Gimpel, Kevin",
    editor = "Gurevych, Iryna and Miyao, Yusuke",
    booktitle = "Proceedings of the 56th Annual Meeting of the Association for Computational \
Linguistics (Volume 1: Long Papers)",
    month = jul,
    year = "2018",
    address = "Melbourne, Australia",
    publisher = "Association for Computational Linguistics",
    url = "https://aclanthology.org/P18-1042",
    doi = "10.18653/v1/P18-1042",
    pages = "451--462",
}
"""


class MegaBatchMarginLoss(CachedEmbeddingLoss):
    r"""Pull each anchor's positive above a margin, push its hardest in-batch negative below another.

    .. math::
        L = \frac{1}{B} \sum_{i=1}^{B} \Big[ \max\big(0,\ m_+ - \cos(a_i, p_i)\big)
            + \max\big(0,\ \max_{j \ne i} \cos(a_i, p_j) - m_- \big) \Big]

    with :math:`m_+` = ``positive_margin`` and :math:`m_-` = ``negative_margin``: the negative of
    anchor :math:`i` is the positive of another row that is most similar to it. The similarity is
    always the cosine.

    Args:
        model: the embedding model (lossbook ``EmbeddingModel`` or a ``SentenceTransformer``).
        positive_margin: :math:`\cos(a_i, p_i)` should exceed this.
        negative_margin: the hardest negative's cosine should stay below this.
        use_mini_batched_version: embed with GradCache (see :mod:`lossbook.losses.cached`): same loss
            and gradients, memory for only ``mini_batch_size`` rows at a time, about twice the compute.
        mini_batch_size: rows per forward pass and per chunk of the similarity matrix.
        mini_batch_num_tokens: pack the mini-batches by this many real tokens instead.
        show_progress_bar: show a bar over the mini-batches.

    Inputs:
        (anchor, positive) pairs, no labels; meant for large batches (500 or more), since the
        negatives are only as hard as the batch is large.

    Relations:
        :class:`TripletLoss` with an explicit negative column; :class:`MultipleNegativesRankingLoss`
        uses all in-batch negatives through a softmax instead of only the hardest through a margin.

    Example:
        >>> from lossbook import load_model
        >>> model = load_model()
        >>> loss = MegaBatchMarginLoss(model, mini_batch_size=32)
        >>> loss([model.tokenize(anchors), model.tokenize(positives)], None)  # doctest: +SKIP

    Surprises:
        Duplicate positives in a batch become the "hardest negative" of each other's anchors.
        ``get_config_dict`` does not report ``use_mini_batched_version`` (nor does the reference).

    Reference:
        Wieting & Gimpel, "ParaNMT-50M: Pushing the Limits of Paraphrastic Sentence Embeddings with
        Millions of Machine Translations", ACL 2018 (P18-1042); GradCache: Gao et al., arXiv 2101.06983.
    """

    formats = (FORMATS["pair"],)
    #: Set per instance: without the mini-batched version it is a plain loss on the embeddings it is given.
    embedding_path = EmbeddingPath.GRADIENT_CACHE
    uncached_alternative = "use_mini_batched_version=False (the same loss, embedded in one pass)"
    column_hint = (
        "It mines the negatives from the batch itself; for triplets use lossbook.convert.triplets_to_pairs, or "
        "CachedMultipleNegativesRankingLoss to keep the negatives."
    )

    def __init__(
        self,
        model: nn.Module,
        positive_margin: float = 0.8,
        negative_margin: float = 0.3,
        use_mini_batched_version: bool = True,
        mini_batch_size: int = 50,
        mini_batch_num_tokens: int | None = None,
        show_progress_bar: bool = False,
    ) -> None:
        super().__init__(
            model, mini_batch_size, mini_batch_num_tokens, show_progress_bar, mini_batched=use_mini_batched_version
        )
        self.positive_margin = positive_margin
        self.negative_margin = negative_margin
        self.use_mini_batched_version = use_mini_batched_version
        self.embedding_path = EmbeddingPath.GRADIENT_CACHE if use_mini_batched_version else EmbeddingPath.GIVEN

    def forward(
        self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None, loss_on_embeddings=None
    ) -> Tensor:
        if self.use_mini_batched_version:
            return super().forward(sentence_features, labels, loss_on_embeddings)
        sentence_features = list(sentence_features)
        self.check_columns(sentence_features)
        maths = loss_on_embeddings or self.compute_loss_from_embeddings
        return maths(self.embed(sentence_features), labels)

    def row_losses(self, anchors: Tensor, positives: Tensor, begin: int, end: int) -> Tensor:
        """The loss of anchors ``begin:end`` against every positive of the batch, one value per anchor."""
        rows = torch.arange(end - begin, device=anchors.device)
        scores = cos_sim(anchors[begin:end], positives)  # (rows, batch)
        own = torch.zeros_like(scores, dtype=torch.bool)
        own[rows, rows + begin] = True
        hardest_negative = scores.masked_fill(own, -torch.inf).max(dim=1).values  # (rows,)
        return F.relu(self.positive_margin - scores[rows, rows + begin]) + F.relu(
            hardest_negative - self.negative_margin
        )

    def check_inputs(self, embeddings: list[Tensor], labels: Tensor | None) -> Tensor | None:
        labels = super().check_inputs(embeddings, labels)
        check_in_batch_rows(self, embeddings)  # the negatives are the other rows' positives: 500 or more is meant
        return labels

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor | None = None) -> Tensor:
        anchors, positives = embeddings
        return self.row_losses(anchors, positives, 0, anchors.shape[0]).mean()

    def backward_on_embeddings(self, embeddings: list[Tensor], labels: Tensor | None) -> Tensor:
        # Walk the similarity matrix mini_batch_size anchors at a time, so it never exists in full.
        self.check_inputs(embeddings, labels)
        anchors, positives = embeddings
        batch_size = anchors.shape[0]
        total = anchors.new_zeros(())
        for begin in range(0, batch_size, self.mini_batch_size):
            end = min(begin + self.mini_batch_size, batch_size)
            chunk = self.row_losses(anchors, positives, begin, end).sum() / batch_size
            chunk.backward()
            total = total + chunk.detach()
        return total

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "positive_margin": self.positive_margin,
            "negative_margin": self.negative_margin,
            "mini_batch_size": self.mini_batch_size,
            "mini_batch_num_tokens": self.mini_batch_num_tokens,
        }

    @property
    def citation(self) -> str:
        return _PARANMT_CITATION
