"""Regularisers: terms added to a main loss to shape the embedding space, not trained on their own."""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import Tensor, nn

from lossbook.formats import FORMATS
from lossbook.losses.base import EmbeddingLoss
from lossbook.similarity import cos_sim, similarity_name

__all__ = ["GlobalOrthogonalRegularizationLoss"]


class GlobalOrthogonalRegularizationLoss(EmbeddingLoss):
    r"""Spread the embeddings of unrelated texts out: push their similarities towards those of random directions.

    For each column ``c`` with embeddings ``E`` (B × d) and ``S = sim(E, E)`` with its diagonal set to 0,
    :math:`n = \max(B(B-1), 1)`:

    .. math::
        M_1 = \frac{1}{n} \sum_{i \ne j} S_{ij}, \qquad
        M_2 = \frac{1}{n} \sum_{i \ne j} S_{ij}^2, \qquad
        \ell^{mean}_c = M_1^2, \qquad \ell^{2nd}_c = \max\!\big(0,\ M_2 - \tfrac{1}{d}\big)

    and the loss is the dict ``{"gor_mean": w_1 · agg_c ℓ^{mean}_c, "gor_second_moment": w_2 · agg_c ℓ^{2nd}_c}``
    where ``agg`` is the mean (default) or the sum over columns. For random unit vectors in d dimensions
    :math:`E[\cos]=0` and :math:`E[\cos^2]=1/d`, which is what the two terms aim at.

    Args:
        model: the embedding model (lossbook ``EmbeddingModel`` or a ``SentenceTransformer``).
        similarity_fct: all-pairs similarity, :func:`cos_sim` by default.
        mean_weight: weight ``w_1`` of the mean term; 0 or None leaves the key out.
        second_moment_weight: weight ``w_2`` of the second-moment term; 0 or None leaves the key out.
        aggregation: ``"mean"`` (default) or ``"sum"`` over columns (EmbeddingGemma uses ``"sum"``
            with ``mean_weight=0``).

    Inputs:
        any columns; labels are ignored. Pairs within a column are treated as unrelated, so a column
        should not repeat a text.

    Returns:
        a **dict** of named scalars, as sentence-transformers does; its Trainer (and lossbook's) sums the
        values and logs each one. Add it to a main loss, e.g.
        ``{"info_nce": mnrl.compute_loss_from_embeddings(e, None), **gor.compute_loss_from_embeddings(e)}``.

    Relations:
        A regulariser for :class:`MultipleNegativesRankingLoss` and other contrastive losses; on its own it
        only spreads the embeddings and learns nothing about meaning.

    Example:
        >>> gor = GlobalOrthogonalRegularizationLoss(model)
        >>> parts = gor([model.tokenize(anchors), model.tokenize(positives)])  # doctest: +SKIP
        >>> sum(parts.values())  # doctest: +SKIP

    Reference:
        Zhang et al., "Learning Spread-out Local Feature Descriptors", ICCV 2017 (arXiv 1708.06320);
        EmbeddingGemma (arXiv 2509.20354) for the sum/second-moment-only variant.
    """

    formats = (FORMATS["any"],)

    def __init__(
        self,
        model: nn.Module,
        similarity_fct=cos_sim,
        mean_weight: float | None = 1.0,
        second_moment_weight: float | None = 1.0,
        aggregation: Literal["mean", "sum"] = "mean",
    ) -> None:
        super().__init__(model)
        if not mean_weight and not second_moment_weight:
            raise ValueError("At least one of mean_weight or second_moment_weight must be non-zero.")
        if aggregation not in ("mean", "sum"):
            raise ValueError(f"aggregation must be 'mean' or 'sum', got {aggregation!r}.")
        self.similarity_fct = similarity_fct
        self.mean_weight = mean_weight
        self.second_moment_weight = second_moment_weight
        self.aggregation = aggregation

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor | None = None) -> dict[str, Tensor]:
        mean_terms, second_terms = zip(*(self.compute_gor(e) for e in embeddings))
        reduce = torch.sum if self.aggregation == "sum" else torch.mean
        results: dict[str, Tensor] = {}
        if self.mean_weight:
            results["gor_mean"] = self.mean_weight * reduce(torch.stack(mean_terms))
        if self.second_moment_weight:
            results["gor_second_moment"] = self.second_moment_weight * reduce(torch.stack(second_terms))
        return results

    def compute_gor(self, embeddings: Tensor) -> tuple[Tensor, Tensor]:
        """The unweighted (mean term, second-moment term) of one column."""
        batch, dim = embeddings.shape
        off_diagonal = ~torch.eye(batch, dtype=torch.bool, device=embeddings.device)
        similarities = self.similarity_fct(embeddings, embeddings) * off_diagonal  # (batch, batch)
        # max(.., 1): a batch of one gives a differentiable 0 instead of 0/0 = NaN.
        n = max(batch * (batch - 1), 1)
        mean_term = (similarities.sum() / n).pow(2)
        second_moment_term = torch.relu(similarities.pow(2).sum() / n - 1.0 / dim)
        return mean_term, second_moment_term

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "similarity_fct": similarity_name(self.similarity_fct),
            "mean_weight": self.mean_weight,
            "second_moment_weight": self.second_moment_weight,
            "aggregation": self.aggregation,
        }

    @property
    def citation(self) -> str:
        return """
@misc{zhang2017learningspreadoutlocalfeature,
      title={Learning Spread-out Local Feature Descriptors},
      author={Xu Zhang and Felix X. Yu and Sanjiv Kumar and Shih-Fu Chang},
      year={2017},
      eprint={1708.06320},
      archivePrefix={arXiv},
      primaryClass={cs.CV},
      url={https://arxiv.org/abs/1708.06320},
}
"""
