"""GISTEmbed: in-batch negatives, minus the ones a guide model says are probably true matches."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm
from transformers import PreTrainedTokenizerBase

from lossbook.formats import FORMATS
from lossbook.losses.base import EmbeddingLoss, EmbeddingPath, LossInputError, UnsupportedModelError
from lossbook.losses.cached import CachedEmbeddingLoss, rows_back, slice_features
from lossbook.losses.distributed import all_gather_with_grad, distributed_rank
from lossbook.losses.ranking import PAIRS_HINT, check_in_batch_rows
from lossbook.similarity import cos_sim

__all__ = ["CachedGISTEmbedLoss", "GISTEmbedLoss", "GuidedMaths"]

MARGIN_STRATEGIES = ("absolute", "relative")

_GIST_CITATION = """
@misc{solatorio2024gistembed,
    title={GISTEmbed: Guided In-sample Selection of Training Negatives for Text Embedding Fine-tuning},
    author={Aivin V. Solatorio},
    year={2024},
    eprint={2402.16829},
    archivePrefix={arXiv},
    primaryClass={cs.LG}
}
"""


def _on_device_of(model: nn.Module, features: dict[str, Any]) -> dict[str, Any]:
    # A SentenceTransformer does not move its inputs (lossbook's model does): put them where the guide is.
    parameter = next(model.parameters(), None)
    if parameter is None:
        return dict(features)
    return {k: v.to(parameter.device) if isinstance(v, Tensor) else v for k, v in features.items()}


def _tokenize_with(model: nn.Module, texts: list[str]) -> dict[str, Any]:
    tokenize = model.preprocess if hasattr(model, "preprocess") else model.tokenize  # sentence-transformers / lossbook
    return _on_device_of(model, tokenize(texts))


class GuidedMaths:
    """Guide handling and the guided cross-entropy, shared by GISTEmbedLoss and its cached version (a mixin)."""

    def init_guide(
        self,
        model,
        guide,
        temperature,
        margin_strategy,
        margin,
        contrast_anchors,
        contrast_positives,
        gather_across_devices,
    ) -> None:
        self.guide = guide
        self.must_retokenize = False
        if model is not None and guide is not None:
            for role, module in (("model", model), ("guide", guide)):
                if not isinstance(getattr(module, "tokenizer", None), PreTrainedTokenizerBase):
                    raise UnsupportedModelError(
                        f"{type(self).__name__}: the {role} needs a transformers tokenizer (a `tokenizer` attribute), "
                        f"got {type(getattr(module, 'tokenizer', None)).__name__}."
                    )
            # A guide with another vocabulary (or a shorter window) cannot read the model's token ids:
            # they are decoded back to text and tokenized again for it.
            self.must_retokenize = model.tokenizer.get_vocab() != guide.tokenizer.get_vocab() or getattr(
                guide, "max_seq_length", 0
            ) < getattr(model, "max_seq_length", 0)
        if margin_strategy not in MARGIN_STRATEGIES:
            raise ValueError(f"margin_strategy must be one of {MARGIN_STRATEGIES}, got {margin_strategy!r}.")
        self.temperature = temperature
        self.margin_strategy = margin_strategy
        self.margin = margin
        self.contrast_anchors = contrast_anchors
        self.contrast_positives = contrast_positives
        self.gather_across_devices = gather_across_devices
        self._guide_embeddings: list[Tensor] | None = None

    def guide_features(self, features: dict[str, Any]) -> dict[str, Any]:
        """The column as the guide must read it: the same ids, or the decoded text tokenized again."""
        if not self.must_retokenize:
            return _on_device_of(self.guide, features)
        texts = self.model.tokenizer.batch_decode(features["input_ids"], skip_special_tokens=True)
        return _tokenize_with(self.guide, texts)

    @torch.no_grad()
    def embed_guide(self, features: dict[str, Any]) -> Tensor:
        return self.guide(self.guide_features(features))["sentence_embedding"].detach()

    def guided_row_losses(
        self, embeddings: list[Tensor], guide_embeddings: list[Tensor], begin: int, end: int
    ) -> Tensor:
        """Cross-entropy of anchors ``begin:end`` (local rows) over their masked logits, one value per row."""
        anchors, candidates = embeddings[0], list(embeddings[1:])
        guide_anchors, guide_candidates = guide_embeddings[0], list(guide_embeddings[1:])
        offset = 0
        if self.gather_across_devices:
            # Candidates come from every process; anchors stay local (each process owns its rows).
            offset = distributed_rank() * anchors.shape[0]
            candidates = [all_gather_with_grad(c) for c in candidates]
            guide_candidates = [all_gather_with_grad(c) for c in guide_candidates]
        rows = torch.arange(end - begin, device=anchors.device)
        targets = rows + offset + begin

        guide_ap = cos_sim(guide_anchors[begin:end], guide_candidates[0])
        threshold = guide_ap[rows, targets].unsqueeze(1)
        if self.margin_strategy == "absolute":
            threshold = threshold - self.margin
        else:
            threshold = threshold - threshold.abs() * self.margin

        def masked(scores: Tensor, guide_scores: Tensor, protect_positive: bool = False) -> Tensor:
            mask = guide_scores > threshold
            if protect_positive:
                mask[rows, targets] = False
            return scores.masked_fill(mask, -torch.inf)

        blocks = [masked(cos_sim(anchors[begin:end], candidates[0]), guide_ap, protect_positive=True)]
        if self.contrast_anchors:
            blocks.append(
                masked(cos_sim(anchors[begin:end], anchors), cos_sim(guide_anchors[begin:end], guide_anchors))
            )
        if self.contrast_positives:
            own = slice(offset + begin, offset + end)
            blocks.append(
                masked(
                    cos_sim(candidates[0][own], candidates[0]), cos_sim(guide_candidates[0][own], guide_candidates[0])
                )
            )
        for negatives, guide_negatives in zip(candidates[1:], guide_candidates[1:]):
            blocks.append(
                masked(cos_sim(anchors[begin:end], negatives), cos_sim(guide_anchors[begin:end], guide_negatives))
            )
        logits = torch.cat(blocks, dim=1) / self.temperature
        return F.cross_entropy(logits, targets, reduction="none")

    def resolve_guide_embeddings(self, embeddings: list[Tensor], guide_embeddings: list[Tensor] | None) -> list[Tensor]:
        guide_embeddings = self._guide_embeddings if guide_embeddings is None else guide_embeddings
        if guide_embeddings is None or [g.shape[0] for g in guide_embeddings] != [e.shape[0] for e in embeddings]:
            raise LossInputError(
                f"{type(self).__name__} needs the guide's embeddings of the same batch: call the loss on tokenized "
                "features (or embed() them first), or pass guide_embeddings=[...] (one tensor per column)."
            )
        return [g.to(e.device) for g, e in zip(guide_embeddings, embeddings)]

    def compute_loss_from_embeddings(
        self, embeddings: list[Tensor], labels: Tensor | None = None, guide_embeddings: list[Tensor] | None = None
    ) -> Tensor:
        """The loss from the model's embeddings; the guide's come from the last ``embed`` unless given."""
        guide_embeddings = self.resolve_guide_embeddings(embeddings, guide_embeddings)
        return self.guided_row_losses(embeddings, guide_embeddings, 0, embeddings[0].shape[0]).mean()

    def check_inputs(self, embeddings: list[Tensor], labels: Tensor | None) -> Tensor | None:
        labels = super().check_inputs(embeddings, labels)
        check_in_batch_rows(self, embeddings, gathering=self.gather_across_devices)
        return labels

    def guided_config(self, **cached: Any) -> dict[str, Any]:
        return {
            "guide": self.guide,
            "temperature": self.temperature,
            **cached,
            "margin_strategy": self.margin_strategy,
            "margin": self.margin,
            "contrast_anchors": self.contrast_anchors,
            "contrast_positives": self.contrast_positives,
            "gather_across_devices": self.gather_across_devices,
        }


class GISTEmbedLoss(GuidedMaths, EmbeddingLoss):
    r"""In-batch negatives cross-entropy whose false negatives are masked by a guide model's similarities.

    With anchors :math:`a`, positives :math:`p`, optional negatives :math:`n`, the trained model's
    cosine :math:`s` and the guide's cosine :math:`g`, row :math:`i` has the threshold
    :math:`t_i = g(a_i, p_i) - \text{margin}` (absolute) or :math:`g(a_i, p_i) - |g(a_i, p_i)|\,\text{margin}`
    (relative), and the logit blocks

    .. math::
        \ell^{ap}_{ij} = s(a_i, p_j),\quad \ell^{aa}_{ij} = s(a_i, a_j),\quad \ell^{pp}_{ij} = s(p_i, p_j),\quad
        \ell^{an}_{ij} = s(a_i, n_j),

        \ell^{X}_{ij} \leftarrow -\infty \ \text{ where } g^{X}_{ij} > t_i \ \text{(except } \ell^{ap}_{ii}\text{)},

        L = \frac{1}{B} \sum_{i=1}^{B} \Big( \log \sum_{X, j} e^{\ell^{X}_{ij} / \tau} - \ell^{ap}_{ii} / \tau \Big)

    where :math:`\tau` = ``temperature`` and the aa / pp blocks are present when ``contrast_anchors``
    / ``contrast_positives``. A candidate the guide rates closer to the anchor than the anchor's own
    positive is probably a true match, so it is dropped rather than pushed away.

    Args:
        model: the embedding model being trained.
        guide: a frozen model (lossbook ``EmbeddingModel`` or ``SentenceTransformer``) whose similarities
            decide the masks; run under ``torch.no_grad``. Another vocabulary is fine: the ids are decoded
            and tokenized again for it.
        temperature: :math:`\tau` (0.01 = scale 100).
        margin_strategy: ``"absolute"`` or ``"relative"`` (see the threshold above).
        margin: how far below the positive's guide similarity a candidate must stay to be kept.
        contrast_anchors: add the anchor-anchor block.
        contrast_positives: add the positive-positive block.
        gather_across_devices: candidates from every process (multi-GPU); a no-op on one device.

    Inputs:
        (anchor, positive) pairs or (anchor, positive, negative) triplets; no labels. More negative
        columns: :class:`CachedGISTEmbedLoss`.

    Relations:
        :class:`MultipleNegativesRankingLoss` without the guide (and without the aa / pp blocks);
        :class:`CachedGISTEmbedLoss` is the GradCache version.

    Example:
        >>> from lossbook import load_model
        >>> model, guide = load_model(), load_model()
        >>> loss = GISTEmbedLoss(model, guide)
        >>> loss([model.tokenize(anchors), model.tokenize(positives)], None)  # doctest: +SKIP

    Surprises:
        The self-similarities on the aa / pp diagonals are removed only because the guide gives
        :math:`g(x, x) = 1 > t_i`; with identical anchor and positive texts they survive.
        The default :math:`\tau = 0.01` is much sharper than MultipleNegativesRankingLoss's 0.05.

    Reference:
        Solatorio, "GISTEmbed: Guided In-sample Selection of Training Negatives for Text Embedding
        Fine-tuning", arXiv 2402.16829.
    """

    formats = (FORMATS["pair"], FORMATS["triplet"])
    embedding_path = EmbeddingPath.WITH_GUIDE  # embed() runs the guide on the same texts
    column_hint = "For more than one negative column use CachedGISTEmbedLoss. " + PAIRS_HINT

    def __init__(
        self,
        model: nn.Module,
        guide: nn.Module,
        temperature: float = 0.01,
        margin_strategy: str = "absolute",
        margin: float = 0.0,
        contrast_anchors: bool = True,
        contrast_positives: bool = True,
        gather_across_devices: bool = False,
    ) -> None:
        super().__init__(model)
        self.init_guide(
            model,
            guide,
            temperature,
            margin_strategy,
            margin,
            contrast_anchors,
            contrast_positives,
            gather_across_devices,
        )

    def embed(self, sentence_features: Iterable[dict[str, Tensor]]) -> list[Tensor]:
        """The model's embeddings of each column; the guide's are kept for ``compute_loss_from_embeddings``."""
        sentence_features = list(sentence_features)
        self.check_columns(sentence_features)
        guide_inputs = [self.guide_features(f) for f in sentence_features]
        embeddings = [self.model(f)["sentence_embedding"] for f in sentence_features]
        with torch.no_grad():
            self._guide_embeddings = [self.guide(f)["sentence_embedding"].detach() for f in guide_inputs]
        return embeddings

    def get_config_dict(self) -> dict[str, Any]:
        return self.guided_config()

    @property
    def citation(self) -> str:
        return _GIST_CITATION


class CachedGISTEmbedLoss(GuidedMaths, CachedEmbeddingLoss):
    r"""GISTEmbedLoss with GradCache, for any number of negative columns.

    .. math::
        L = \frac{1}{B} \sum_{i=1}^{B} \Big( \log \sum_{X, j} e^{\ell^{X}_{ij} / \tau} - \ell^{ap}_{ii} / \tau \Big)

    with the masked blocks of :class:`GISTEmbedLoss` (ap, aa, pp and one :math:`a n_k` block per
    negative column). The columns are embedded ``mini_batch_size`` rows at a time without a graph
    (the guide too, once), the loss is back-propagated to the cached embeddings in chunks of anchors,
    and ``loss.backward()`` re-embeds each mini-batch under its recorded random state.

    Args:
        model, guide, temperature, margin_strategy, margin, contrast_anchors, contrast_positives,
            gather_across_devices: as in :class:`GISTEmbedLoss`.
        mini_batch_size: rows per forward pass and per loss chunk: sets the memory, not the result.
        mini_batch_num_tokens: pack the forward passes by this many real tokens instead.
        show_progress_bar: show bars over the mini-batches.

    Inputs:
        (anchor, positive) pairs, (anchor, positive, negative) triplets or (anchor, positive,
        negative_1, ..., negative_n) tuples; no labels.

    Relations:
        :class:`GISTEmbedLoss` in one pass (at most one negative column);
        :class:`CachedMultipleNegativesRankingLoss` without the guide.

    Example:
        >>> loss = CachedGISTEmbedLoss(model, guide, mini_batch_size=16)  # doctest: +SKIP

    Surprises:
        At :math:`\tau = 0.01` the logits of clearly unrelated negatives underflow, so extra negative
        columns may not change the value at all.

    Reference:
        Solatorio, arXiv 2402.16829, with GradCache (Gao et al., arXiv 2101.06983). The reference
        defines no ``citation`` for this class, so neither do we (None).
    """

    formats = (FORMATS["pair"], FORMATS["triplet"], FORMATS["n-tuple"])
    embedding_path = EmbeddingPath.GRADIENT_CACHE_WITH_GUIDE
    column_hint = PAIRS_HINT
    uncached_alternative = "GISTEmbedLoss"

    def __init__(
        self,
        model: nn.Module,
        guide: nn.Module,
        temperature: float = 0.01,
        mini_batch_size: int = 32,
        mini_batch_num_tokens: int | None = None,
        show_progress_bar: bool = False,
        margin_strategy: str = "absolute",
        margin: float = 0.0,
        contrast_anchors: bool = True,
        contrast_positives: bool = True,
        gather_across_devices: bool = False,
    ) -> None:
        super().__init__(model, mini_batch_size, mini_batch_num_tokens, show_progress_bar)
        self.init_guide(
            model,
            guide,
            temperature,
            margin_strategy,
            margin,
            contrast_anchors,
            contrast_positives,
            gather_across_devices,
        )

    def embed_without_grad(self, sentence_features, ranges, record_random_state):
        embeddings, random_states = super().embed_without_grad(sentence_features, ranges, record_random_state)
        self._guide_embeddings = [
            torch.cat([self.embed_guide(slice_features(features, begin, end)) for begin, end in column_ranges])
            for features, column_ranges in zip(sentence_features, ranges)
        ]
        return embeddings, random_states

    def put_rows_back(self, orders):
        self._guide_embeddings = [rows_back(g, order) for g, order in zip(self._guide_embeddings, orders)]

    def forward(self, sentence_features, labels=None, loss_on_embeddings=None) -> Tensor:
        try:
            return super().forward(sentence_features, labels, loss_on_embeddings)
        finally:
            self._guide_embeddings = None

    def backward_on_embeddings(self, embeddings: list[Tensor], labels: Tensor | None) -> Tensor:
        self.check_inputs(embeddings, labels)
        guide_embeddings = self.resolve_guide_embeddings(embeddings, None)
        batch_size = embeddings[0].shape[0]
        total = embeddings[0].new_zeros(())
        starts = range(0, batch_size, self.mini_batch_size)
        for begin in tqdm(starts, desc="Loss chunks", disable=not self.show_progress_bar, leave=False):
            end = min(begin + self.mini_batch_size, batch_size)
            chunk = self.guided_row_losses(embeddings, guide_embeddings, begin, end).sum() / batch_size
            chunk.backward()
            total = total + chunk.detach()
        return total

    def get_config_dict(self) -> dict[str, Any]:
        return self.guided_config(
            mini_batch_size=self.mini_batch_size, mini_batch_num_tokens=self.mini_batch_num_tokens
        )
