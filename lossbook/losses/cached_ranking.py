"""MultipleNegativesRankingLoss with GradCache: the same loss over batches larger than memory allows."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from lossbook.formats import FORMATS
from lossbook.losses.cached import CachedEmbeddingLoss
from lossbook.losses.ranking import RankingMaths
from lossbook.similarity import cos_sim

__all__ = ["CachedMultipleNegativesRankingLoss", "CachedMultipleNegativesSymmetricRankingLoss", "GRADCACHE_CITATION"]

GRADCACHE_CITATION = """
@misc{gao2021scaling,
    title={Scaling Deep Contrastive Learning Batch Size under Memory Limited Setup},
    author={Luyu Gao and Yunyi Zhang and Jiawei Han and Jamie Callan},
    year={2021},
    eprint={2101.06983},
    archivePrefix={arXiv},
    primaryClass={cs.LG}
}
"""


class CachedMultipleNegativesRankingLoss(RankingMaths, CachedEmbeddingLoss):
    r"""MultipleNegativesRankingLoss computed with GradCache, so the batch is not limited by memory.

    The value is exactly that of :class:`MultipleNegativesRankingLoss` with the same arguments:

    .. math::
        L = \frac{1}{B} \sum_{i=1}^{B} \Big( \log \sum_{x \in X_i} e^{x} - \sigma\, s(q_i, p_i) \Big)

    (default: :math:`X_i = \{\sigma\, s(q_i, d_j)\}_j` over all documents of the batch; the other
    directions, partition modes and hardness penalties are those of MultipleNegativesRankingLoss).
    How it is computed: the columns are embedded ``mini_batch_size`` rows at a time without a
    graph, the loss is back-propagated to the cached embeddings in chunks of ``mini_batch_size``
    anchors, and ``loss.backward()`` re-embeds each mini-batch (replaying its dropout) to carry the
    cached gradients into the encoder (see :mod:`lossbook.losses.cached`).

    Args:
        model: the embedding model (lossbook ``EmbeddingModel`` or a ``SentenceTransformer``).
        scale, similarity_fct, gather_across_devices, directions, partition_mode, hardness_mode,
            hardness_strength: as in :class:`MultipleNegativesRankingLoss`.
        mini_batch_size: rows per forward pass and per loss chunk: sets the memory, not the result.
        mini_batch_num_tokens: pack the forward passes by this many real tokens instead.
        show_progress_bar: show bars over the mini-batches and loss chunks.

    Inputs:
        (anchor, positive) pairs, (anchor, positive, negative) triplets or (anchor, positive,
        negative_1, ..., negative_n) tuples; no labels.

    Relations:
        :class:`MultipleNegativesRankingLoss` is the same loss in one pass (faster when it fits);
        the batch size, not ``mini_batch_size``, decides how many negatives each anchor sees, which
        is why caching beats gradient accumulation for in-batch losses. Expect about 2x the compute.

    Example:
        >>> from lossbook import load_model
        >>> model = load_model()
        >>> loss = CachedMultipleNegativesRankingLoss(model, mini_batch_size=16)
        >>> value = loss([model.tokenize(questions), model.tokenize(answers)], None)  # doctest: +SKIP
        >>> value.backward()  # the second, mini-batched forward pass happens here  # doctest: +SKIP

    Surprises:
        Each input is embedded twice. Model hooks (e.g. dropout) see two passes per step.
        The returned tensor's backward runs the encoder, so call ``backward()`` before changing the model.

    Reference:
        Gao et al., "Scaling Deep Contrastive Learning Batch Size under Memory Limited Setup", arXiv
        2101.06983 (the ``citation``); the loss itself: Henderson et al., arXiv 1705.00652.
    """

    formats = (FORMATS["pair"], FORMATS["triplet"], FORMATS["n-tuple"])
    commonly_used = (FORMATS["pair"], FORMATS["triplet"])
    uncached_alternative = "MultipleNegativesRankingLoss"

    def __init__(
        self,
        model: nn.Module,
        scale: float = 20.0,
        similarity_fct: Callable[[Tensor, Tensor], Tensor] = cos_sim,
        mini_batch_size: int = 32,
        mini_batch_num_tokens: int | None = None,
        gather_across_devices: bool = False,
        directions: tuple[str, ...] = ("query_to_doc",),
        partition_mode: str = "joint",
        show_progress_bar: bool = False,
        hardness_mode: str | None = None,
        hardness_strength: float = 0.0,
    ) -> None:
        super().__init__(model, mini_batch_size, mini_batch_num_tokens, show_progress_bar)
        self.init_ranking(
            scale, similarity_fct, gather_across_devices, directions, partition_mode, hardness_mode, hardness_strength
        )

    def backward_on_embeddings(self, embeddings: list[Tensor], labels: Tensor | None) -> Tensor:
        # Chunks of mini_batch_size anchors: the (B, B(1+k)) score matrix never exists at once.
        self.check_inputs(embeddings, labels)
        queries, docs, offset = self.gather(embeddings)
        batch_size = embeddings[0].shape[0]
        total = embeddings[0].new_zeros(())
        starts = range(0, batch_size, self.mini_batch_size)
        for begin in tqdm(starts, desc="Loss chunks", disable=not self.show_progress_bar, leave=False):
            end = min(begin + self.mini_batch_size, batch_size)
            rows = torch.arange(offset + begin, offset + end, device=queries.device)
            chunk = self.row_losses(queries, docs, rows).sum() / batch_size
            # The gather's graph is shared by all chunks, so keep it until the last one.
            chunk.backward(retain_graph=end < batch_size)
            total = total + chunk.detach()
        return total

    def get_config_dict(self) -> dict[str, Any]:
        config = self.ranking_config()
        return {
            "scale": config["scale"],
            "similarity_fct": config["similarity_fct"],
            "mini_batch_size": self.mini_batch_size,
            "mini_batch_num_tokens": self.mini_batch_num_tokens,
            **{
                k: config[k]
                for k in ("gather_across_devices", "directions", "partition_mode", "hardness_mode", "hardness_strength")
            },
        }

    @property
    def citation(self) -> str:
        return GRADCACHE_CITATION


class CachedMultipleNegativesSymmetricRankingLoss(CachedMultipleNegativesRankingLoss):
    r"""Deprecated: the symmetric ranking loss (anchor -> positive and positive -> anchor) with GradCache.

    .. math::
        L = \frac{1}{B} \sum_{i=1}^{B} \Big( \tfrac12 \big[ \log \sum_{j=1}^{B(1+k)} e^{\sigma s(q_i, d_j)}
            + \log \sum_{j=1}^{B} e^{\sigma s(q_j, p_i)} \big] - \sigma s(q_i, p_i) \Big)

    Args:
        model: the embedding model.
        scale: ``1 / temperature``.
        similarity_fct: all-pairs similarity (``cos_sim``).
        mini_batch_size: rows per forward pass; memory only.
        mini_batch_num_tokens: pack by tokens instead.
        gather_across_devices: compare with the documents of every process (multi-GPU).
        show_progress_bar: show bars over the mini-batches.

    Inputs:
        (anchor, positive) pairs; hard-negative columns are accepted (and used). No labels.

    Relations:
        Exactly ``CachedMultipleNegativesRankingLoss(model, directions=("query_to_doc", "doc_to_query"),
        partition_mode="per_direction")``; the uncached twin is :class:`MultipleNegativesSymmetricRankingLoss`.

    Example:
        >>> loss = CachedMultipleNegativesSymmetricRankingLoss(model, mini_batch_size=8)  # doctest: +SKIP

    Surprises:
        Negatives are used in the query-to-document term, although the reference docstring says otherwise.

    Reference:
        Gao et al., arXiv 2101.06983 (the inherited GradCache ``citation``).
    """

    # Deprecated in sentence-transformers: listed in the table, but not recommended.
    commonly_used = ()
    uncached_alternative = "MultipleNegativesSymmetricRankingLoss"

    def __init__(
        self,
        model: nn.Module,
        scale: float = 20.0,
        similarity_fct: Callable[[Tensor, Tensor], Tensor] = cos_sim,
        mini_batch_size: int = 32,
        mini_batch_num_tokens: int | None = None,
        gather_across_devices: bool = False,
        show_progress_bar: bool = False,
    ) -> None:
        warnings.warn(
            "CachedMultipleNegativesSymmetricRankingLoss is deprecated (as in sentence-transformers): use "
            "CachedMultipleNegativesRankingLoss(model, directions=('query_to_doc', 'doc_to_query'), "
            "partition_mode='per_direction').",
            DeprecationWarning,
            stacklevel=2,
        )
        super().__init__(
            model,
            scale=scale,
            similarity_fct=similarity_fct,
            mini_batch_size=mini_batch_size,
            mini_batch_num_tokens=mini_batch_num_tokens,
            gather_across_devices=gather_across_devices,
            directions=("query_to_doc", "doc_to_query"),
            partition_mode="per_direction",
            show_progress_bar=show_progress_bar,
        )
