"""In-batch ranking losses: each anchor must pick its own positive out of every document in the batch."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from lossbook.formats import FORMATS
from lossbook.losses.base import EmbeddingLoss, LossInputError
from lossbook.losses.distributed import all_gather_with_grad, distributed_rank, distributed_world_size
from lossbook.similarity import cos_sim, similarity_name

__all__ = [
    "MultipleNegativesRankingLoss",
    "MultipleNegativesSymmetricRankingLoss",
    "RankingMaths",
    "check_in_batch_rows",
    "ranking_citation",
]

logger = logging.getLogger(__name__)

DIRECTIONS = ("query_to_doc", "query_to_query", "doc_to_query", "doc_to_doc")
PARTITION_MODES = ("joint", "per_direction")
HARDNESS_MODES = (None, "in_batch_negatives", "hard_negatives", "all_negatives")

PAIRS_HINT = (
    "Give (anchor, positive) pairs, optionally followed by hard-negative columns. Single sentences become "
    "(text, text) pairs with lossbook.convert.sentences_to_anchor_pairs, labelled sentences with "
    "lossbook.convert.sentence_class_to_pairs; lossbook.convert.mine_hard_negatives adds negative columns."
)

_CPC_CITATION = """
@misc{oord2019representationlearningcontrastivepredictive,
      title={Representation Learning with Contrastive Predictive Coding},
      author={Aaron van den Oord and Yazhe Li and Oriol Vinyals},
      year={2019},
      eprint={1807.03748},
      archivePrefix={arXiv},
      primaryClass={cs.LG},
      url={https://arxiv.org/abs/1807.03748},
}
"""
_GTE_CITATION = """
@misc{li2023generaltextembeddingsmultistage,
      title={Towards General Text Embeddings with Multi-stage Contrastive Learning},
      author={Zehan Li and Xin Zhang and Yanzhao Zhang and Dingkun Long and Pengjun Xie and Meishan Zhang},
      year={2023},
      eprint={2308.03281},
      archivePrefix={arXiv},
      primaryClass={cs.CL},
      url={https://arxiv.org/abs/2308.03281},
}
"""
_JINA_CITATION = """
@misc{günther2024jinaembeddings28192token,
      title={Jina Embeddings 2: 8192-Token General-Purpose Text Embeddings for Long Documents},
      author={Michael Günther and Jackmin Ong and Isabelle Mohr and Alaeddine Abdessalem and Tanguy Abel and \
Mohammad Kalim Akram and Susana Guzman and Georgios Mastrapas and Saba Sturua and Bo Wang and Maximilian Werk and \
Nan Wang and Han Xiao},
      year={2024},
      eprint={2310.19923},
      archivePrefix={arXiv},
      primaryClass={cs.CL},
      url={https://arxiv.org/abs/2310.19923},
}
"""


def check_in_batch_rows(loss: nn.Module, embeddings: Sequence[Tensor], *, gathering: bool = False) -> None:
    """Every column with the same number of rows, and more than one row.

    A single (anchor, positive) row is only allowed when hard negatives or other processes' rows
    (``gathering``) give it something to rank against.
    """
    rows = [int(e.shape[0]) for e in embeddings]
    if len(set(rows)) != 1:
        raise LossInputError(f"{type(loss).__name__}: every column needs the same number of rows, got {rows}.")
    alone = not (gathering and distributed_world_size() > 1)
    if rows[0] < 2 and len(embeddings) == 2 and alone:
        raise LossInputError(
            f"{type(loss).__name__} needs a batch of at least 2 rows (the other rows' positives are the negatives); "
            "got 1, so the loss is always 0. Increase the batch size (or drop the last, incomplete batch)."
        )


class RankingMaths:
    """The maths of MultipleNegativesRankingLoss, shared with its cached version (a mixin).

    ``row_losses`` gives the per-anchor loss of any range of anchors, so the cached loss can walk
    the score matrix in chunks of rows.
    """

    column_hint = PAIRS_HINT

    def init_ranking(
        self, scale, similarity_fct, gather_across_devices, directions, partition_mode, hardness_mode, hardness_strength
    ) -> None:
        if not scale > 0:
            raise ValueError(f"scale must be positive (scale = 1 / temperature), got {scale!r}.")
        directions = (directions,) if isinstance(directions, str) else tuple(directions)
        if not directions:
            raise ValueError(f"Give at least one direction; valid directions are {DIRECTIONS}.")
        unknown = [d for d in directions if d not in DIRECTIONS]
        if unknown:
            raise ValueError(f"Unknown direction(s) {unknown}; valid directions are {DIRECTIONS}.")
        if "query_to_doc" not in directions:
            raise ValueError("directions must include 'query_to_doc': it holds the positive pair.")
        if partition_mode not in PARTITION_MODES:
            raise ValueError(f"partition_mode must be one of {PARTITION_MODES}, got {partition_mode!r}.")
        if partition_mode == "per_direction" and {"query_to_query", "doc_to_doc"} & set(directions):
            raise ValueError(
                "partition_mode='per_direction' needs every direction to contain the positive pair; "
                "'query_to_query' and 'doc_to_doc' never do. Use partition_mode='joint' with them."
            )
        if hardness_mode not in HARDNESS_MODES:
            raise ValueError(f"hardness_mode must be one of {HARDNESS_MODES}, got {hardness_mode!r}.")
        if hardness_strength < 0:
            raise ValueError(f"hardness_strength must be non-negative, got {hardness_strength!r}.")
        if hardness_mode is not None and hardness_strength == 0:
            logger.warning("hardness_mode=%r has no effect with hardness_strength=0.0.", hardness_mode)
        self.scale = scale
        self.similarity_fct = similarity_fct
        self.gather_across_devices = gather_across_devices
        self.directions = directions
        self.partition_mode = partition_mode
        self.hardness_mode = hardness_mode
        self.hardness_strength = hardness_strength

    def gather(self, embeddings: list[Tensor]) -> tuple[Tensor, list[Tensor], int]:
        """Queries and document columns of the whole (possibly multi-process) batch, and our rows' offset."""
        queries, docs = embeddings[0], list(embeddings[1:])
        if not self.gather_across_devices:
            return queries, docs, 0
        offset = distributed_rank() * queries.shape[0]
        return all_gather_with_grad(queries), [all_gather_with_grad(d) for d in docs], offset

    def row_losses(self, queries: Tensor, docs: list[Tensor], rows: Tensor) -> Tensor:
        """Loss of the anchors ``rows`` (indices into the gathered batch), one value per row."""
        world = queries.shape[0]
        n_docs = len(docs)
        all_docs = torch.cat(docs)
        local = torch.arange(len(rows), device=queries.device)
        # Column c of a doc block belongs to query c % world: own positive (c = row) and own negatives.
        own = torch.zeros(len(rows), world, dtype=torch.bool, device=queries.device)
        own[local, rows] = True
        own_docs = own.repeat(1, n_docs)

        q2d = self.similarity_fct(queries[rows], all_docs)  # (rows, world * docs)
        blocks = {"query_to_doc": q2d * self.scale}
        if "query_to_query" in self.directions:
            blocks["query_to_query"] = (self.similarity_fct(queries[rows], queries) * self.scale).masked_fill(
                own, -torch.inf
            )
        if "doc_to_query" in self.directions:
            blocks["doc_to_query"] = self.similarity_fct(queries, docs[0][rows]).T * self.scale
        if "doc_to_doc" in self.directions:
            d2d = self.similarity_fct(all_docs, docs[0][rows]).T * self.scale
            blocks["doc_to_doc"] = d2d.masked_fill(own_docs, -torch.inf)
        if self.hardness_mode is not None and self.hardness_strength > 0:
            penalised = {
                "in_batch_negatives": ~own_docs,
                "hard_negatives": own_docs & (torch.arange(all_docs.shape[0], device=queries.device) >= world),
                "all_negatives": ~(own_docs & (torch.arange(all_docs.shape[0], device=queries.device) < world)),
            }[self.hardness_mode]
            # The penalty is a constant weight (no gradient), added after the scale.
            blocks["query_to_doc"] = blocks["query_to_doc"] + self.hardness_strength * q2d.detach() * penalised

        positives = blocks["query_to_doc"][local, rows]  # (rows,)
        if self.partition_mode == "joint":
            log_partition = torch.logsumexp(torch.cat(list(blocks.values()), dim=1), dim=1)
        else:
            log_partition = torch.stack([torch.logsumexp(b, dim=1) for b in blocks.values()]).mean(dim=0)
        return log_partition - positives

    def check_inputs(self, embeddings: list[Tensor], labels: Tensor | None) -> Tensor | None:
        labels = super().check_inputs(embeddings, labels)
        check_in_batch_rows(self, embeddings, gathering=self.gather_across_devices)
        return labels

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor | None = None) -> Tensor:
        queries, docs, offset = self.gather(list(embeddings))
        batch_size = embeddings[0].shape[0]
        rows = torch.arange(offset, offset + batch_size, device=queries.device)
        return self.row_losses(queries, docs, rows).mean()

    @property
    def temperature(self) -> float:
        """``1 / scale``: the softmax temperature that ``scale`` stands for."""
        return 1.0 / self.scale

    def ranking_config(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "similarity_fct": similarity_name(self.similarity_fct),
            "gather_across_devices": self.gather_across_devices,
            "directions": self.directions,
            "partition_mode": self.partition_mode,
            "hardness_mode": self.hardness_mode,
            "hardness_strength": self.hardness_strength,
        }


class MultipleNegativesRankingLoss(RankingMaths, EmbeddingLoss):
    r"""InfoNCE with in-batch negatives: each anchor must pick its own positive among all documents of the batch.

    With queries :math:`q_i` (column 0), documents :math:`d_j`, :math:`j = 1 \dots B(1+k)` (the
    positives :math:`d_i = p_i` followed by every hard-negative column) and :math:`s` =
    ``similarity_fct``, the logit blocks of anchor :math:`i` are

    .. math::
        a_{ij} = \sigma\, s(q_i, d_j) + \alpha\, m_{ij}\, \mathrm{sg}[s(q_i, d_j)] \quad\text{(query_to_doc)},\qquad
        b_{ij} = \sigma\, s(q_i, q_j),\ j \ne i \quad\text{(query_to_query)},

        c_{ij} = \sigma\, s(q_j, p_i) \quad\text{(doc_to_query)},\qquad
        e_{ij} = \sigma\, s(p_i, d_j),\ d_j \notin \mathrm{docs}(i) \quad\text{(doc_to_doc)},

        L = \frac{1}{B} \sum_{i=1}^{B} \Big( \log \sum_{x \in X_i} e^{x} - a_{ii} \Big)\ \text{(joint)}, \qquad
        L = \frac{1}{B} \sum_{i=1}^{B} \Big( \frac{1}{|D|} \sum_{\text{block} \in D}
        \log \sum_{x \in \text{block}_i} e^{x} - a_{ii} \Big)\ \text{(per_direction)},

    where :math:`\sigma` = ``scale``, :math:`X_i` = all logits of row :math:`i` in the selected
    directions :math:`D`, :math:`\mathrm{docs}(i)` = :math:`p_i` and :math:`i`'s own negatives,
    :math:`\mathrm{sg}` = stop-gradient, :math:`\alpha` = ``hardness_strength`` and :math:`m_{ij} \in \{0, 1\}`
    marks the penalised documents: every document not of query :math:`i` (``in_batch_negatives``),
    only :math:`i`'s own hard negatives (``hard_negatives``), or everything but :math:`p_i` (``all_negatives``).
    The default (query_to_doc only, joint) is cross-entropy over ``scale * cos(q_i, d_j)`` with target :math:`i`.

    Args:
        model: the embedding model (lossbook ``EmbeddingModel`` or a ``SentenceTransformer``).
        scale: multiplies the similarities; ``scale = 1 / temperature`` (20 = temperature 0.05).
        similarity_fct: all-pairs similarity, ``cos_sim`` by default (``dot_score`` with ``scale=1`` for dot products).
        gather_across_devices: with ``torch.distributed`` initialised, compare this process's anchors
            with the documents of every process (more negatives); a no-op on one device.
        directions: which blocks enter the softmax, from ``query_to_doc`` (required), ``query_to_query``,
            ``doc_to_query``, ``doc_to_doc``.
        partition_mode: ``"joint"`` (one softmax over all blocks) or ``"per_direction"`` (one per block,
            averaged; only with ``query_to_doc`` and ``doc_to_query``).
        hardness_mode: ``None``, ``"in_batch_negatives"`` (Lan et al. 2025 use :math:`\alpha = 9`),
            ``"hard_negatives"`` (EmbeddingGemma uses :math:`\alpha = 5`) or ``"all_negatives"``.
        hardness_strength: :math:`\alpha \ge 0`; ignored when ``hardness_mode`` is None.

    Inputs:
        (anchor, positive) pairs, (anchor, positive, negative) triplets or (anchor, positive,
        negative_1, ..., negative_n) tuples; no labels (a label column is ignored).

    Relations:
        :class:`CachedMultipleNegativesRankingLoss` computes the same loss and gradients with
        GradCache, so the batch (= the number of negatives) can grow beyond memory.
        :class:`GISTEmbedLoss` masks in-batch negatives that a guide model finds too similar.
        ``directions=("query_to_doc", "doc_to_query"), partition_mode="per_direction"`` is the
        deprecated :class:`MultipleNegativesSymmetricRankingLoss`; all four directions with
        ``"joint"`` is GTE's improved contrastive loss.

    Example:
        >>> from lossbook import load_model
        >>> model = load_model()
        >>> loss = MultipleNegativesRankingLoss(model)
        >>> features = [model.tokenize(["Who wrote Hamlet?", "What is 2 + 2?"]),
        ...             model.tokenize(["Shakespeare wrote Hamlet.", "Two plus two is four."])]
        >>> loss(features, None)  # doctest: +SKIP

    Surprises:
        Every hard negative is a negative for *every* anchor of the batch, not just its own row.
        Duplicates in a batch become false negatives (use a no-duplicates batch sampler).
        With ``doc_to_query`` and ``joint``, :math:`s(q_i, p_i)` appears twice in the denominator.
        The hardness penalty is added after scaling and only to the query_to_doc block.

    Reference:
        van den Oord et al., "Representation Learning with Contrastive Predictive Coding", arXiv 1807.03748
        (the default); Li et al. (GTE), arXiv 2308.03281; Günther et al. (Jina v2), arXiv 2310.19923;
        Henderson et al., arXiv 1705.00652 (the original in-batch negatives). ``citation`` follows the config.
    """

    formats = (FORMATS["pair"], FORMATS["triplet"], FORMATS["n-tuple"])
    commonly_used = (FORMATS["pair"], FORMATS["triplet"])

    def __init__(
        self,
        model: nn.Module,
        scale: float = 20.0,
        similarity_fct: Callable[[Tensor, Tensor], Tensor] = cos_sim,
        gather_across_devices: bool = False,
        directions: tuple[str, ...] = ("query_to_doc",),
        partition_mode: str = "joint",
        hardness_mode: str | None = None,
        hardness_strength: float = 0.0,
    ) -> None:
        super().__init__(model)
        self.init_ranking(
            scale, similarity_fct, gather_across_devices, directions, partition_mode, hardness_mode, hardness_strength
        )

    def get_config_dict(self) -> dict[str, Any]:
        return self.ranking_config()

    @property
    def citation(self) -> str:
        return ranking_citation(self.directions, self.partition_mode)


def ranking_citation(directions: Sequence[str], partition_mode: str) -> str:
    """GTE for all four directions with a joint softmax, Jina v2 for the symmetric loss, else CPC."""
    if set(directions) == set(DIRECTIONS) and partition_mode == "joint":
        return _GTE_CITATION
    if set(directions) == {"query_to_doc", "doc_to_query"} and partition_mode == "per_direction":
        return _JINA_CITATION
    return _CPC_CITATION


class MultipleNegativesSymmetricRankingLoss(MultipleNegativesRankingLoss):
    r"""Deprecated: MultipleNegativesRankingLoss in both directions, anchor -> positive and positive -> anchor.

    .. math::
        L = \frac{1}{B} \sum_{i=1}^{B} \Big( \tfrac12 \big[ \log \sum_{j=1}^{B(1+k)} e^{\sigma s(q_i, d_j)}
            + \log \sum_{j=1}^{B} e^{\sigma s(q_j, p_i)} \big] - \sigma s(q_i, p_i) \Big)

    i.e. the mean of the query-to-document and document-to-query cross-entropies.

    Args:
        model: the embedding model.
        scale: ``1 / temperature``.
        similarity_fct: all-pairs similarity (``cos_sim``).
        gather_across_devices: compare with the documents of every process (multi-GPU).

    Inputs:
        (anchor, positive) pairs; hard-negative columns are accepted too. No labels.

    Relations:
        Exactly ``MultipleNegativesRankingLoss(model, directions=("query_to_doc", "doc_to_query"),
        partition_mode="per_direction")``, which is what sentence-transformers recommends instead.
        :class:`CachedMultipleNegativesSymmetricRankingLoss` is the GradCache version.

    Example:
        >>> loss = MultipleNegativesSymmetricRankingLoss(model)  # doctest: +SKIP

    Surprises:
        The reference docstring says negatives are ignored. They are not: hard negatives enter the
        query-to-document term (only the document-to-query term uses positives alone). We follow the code.

    Reference:
        Günther et al., Jina Embeddings 2, arXiv 2310.19923 (the inherited ``citation``).
    """

    # Deprecated in sentence-transformers: listed in the table, but not recommended.
    commonly_used = ()

    def __init__(
        self,
        model: nn.Module,
        scale: float = 20.0,
        similarity_fct: Callable[[Tensor, Tensor], Tensor] = cos_sim,
        gather_across_devices: bool = False,
    ) -> None:
        warnings.warn(
            "MultipleNegativesSymmetricRankingLoss is deprecated (as in sentence-transformers): use "
            "MultipleNegativesRankingLoss(model, directions=('query_to_doc', 'doc_to_query'), "
            "partition_mode='per_direction').",
            DeprecationWarning,
            stacklevel=2,
        )
        super().__init__(
            model,
            scale=scale,
            similarity_fct=similarity_fct,
            gather_across_devices=gather_across_devices,
            directions=("query_to_doc", "doc_to_query"),
            partition_mode="per_direction",
        )
