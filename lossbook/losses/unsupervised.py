"""Contrastive Tension: unsupervised losses that train two copies of the encoder to agree on identical texts.

Both losses keep a deep copy of the model (``model1``) next to the model being fine-tuned (``model``,
called ``model2`` by sentence-transformers). The copy is a parameter of the loss: it is trained too,
but only ``model`` is kept (and saved) after training.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from lossbook.formats import FORMATS
from lossbook.losses.base import EmbeddingLoss, EmbeddingPath, LossInputError, check_batch_size, check_column_count
from lossbook.similarity import cos_sim, pairwise_dot_score, similarity_name

__all__ = ["ContrastiveTensionLoss", "ContrastiveTensionLossInBatchNegatives", "identical_rows"]

_CITATION = """
@inproceedings{carlsson2021semantic,
    title={Semantic Re-tuning with Contrastive Tension},
    author={Fredrik Carlsson and Amaru Cuba Gyllensten and Evangelia Gogoulou and \
Erik Ylip{\"a}{\"a} Hellqvist and Magnus Sahlgren},
    booktitle={International Conference on Learning Representations},
    year={2021},
    url={https://openreview.net/forum?id=Ov_sMNau-PF}
}
"""


def identical_rows(features_1: dict[str, Tensor], features_2: dict[str, Tensor]) -> Tensor:
    """1.0 where row i of both tokenized columns holds the same token ids (padding ignored), else 0.0."""
    ids_1, ids_2 = features_1["input_ids"], features_2["input_ids"]
    mask_1, mask_2 = features_1.get("attention_mask"), features_2.get("attention_mask")
    if mask_1 is None or mask_2 is None:
        if ids_1.shape != ids_2.shape:
            return torch.zeros(ids_1.shape[0])
        return (ids_1 == ids_2).all(dim=1).float()
    # Compare only the real tokens, so that padding to different lengths does not matter.
    return torch.tensor(
        [torch.equal(a[m], b[n]) for a, m, b, n in zip(ids_1, mask_1.bool(), ids_2, mask_2.bool())],
        dtype=torch.float32,
    )


class ContrastiveTensionLoss(EmbeddingLoss):
    r"""Binary cross-entropy on the dot product of two encoders' embeddings: identical texts 1, others 0.

    .. math::
        L = \sum_{i=1}^{B} \Big[ \log\big(1 + e^{z_i}\big) - y_i z_i \Big], \qquad
        z_i = m_1(a_i) \cdot m_2(b_i)

    (BCE with logits, **summed** over the batch, so its size grows with the batch size.) ``m_1`` is the
    loss's copy of the model (``model1``), ``m_2`` the model being trained; ``y_i = 1`` when ``a_i``
    and ``b_i`` tokenize to the same ids (derived automatically when no labels are given), else 0.

    Args:
        model: the embedding model (lossbook ``EmbeddingModel`` or a ``SentenceTransformer``).
            A deep copy becomes ``model1``; ``model`` (``model2`` in sentence-transformers) is the one kept.

    Inputs:
        (anchor, anchor) pairs: two text columns where some rows hold the same text twice (positives)
        and the rest two different texts (negatives); the original recipe uses 1 identical pair per 8.
        ``lossbook.convert.sentences_to_anchor_pairs`` builds them from single sentences. Labels are
        optional: none (derived from the token ids) or 0/1 per row.

    Relations:
        :class:`ContrastiveTensionLossInBatchNegatives` needs only one column and uses every other text
        in the batch as a negative, a stronger signal; sentence-transformers recommends it over this loss.
        Both copy the model, so they cost twice the memory of one encoder.

    Notes:
        sentence-transformers' loss overview lists this loss under "single inputs" and the in-batch
        variant under "(anchor, anchor) pairs": it is the other way round in the code (this loss needs
        exactly 2 columns), and lossbook follows the code.

    Example:
        >>> loss = ContrastiveTensionLoss(model)
        >>> a = ["A man plays guitar.", "It rains."]; b = ["A man plays guitar.", "Stocks fell."]
        >>> loss([model.tokenize(a), model.tokenize(b)])  # doctest: +SKIP   (labels derived: [1, 0])

    Reference:
        Carlsson et al., "Semantic Re-tuning with Contrastive Tension", ICLR 2021
        (OpenReview Ov_sMNau-PF).
    """

    formats = (FORMATS["anchor-anchor"],)
    # The seed table lists CT for unlabelled data; after correcting its swap, that is this format.
    commonly_used = (FORMATS["anchor-anchor"],)
    embedding_path = EmbeddingPath.OWN_FORWARD  # it compares with its own copy of the model
    column_hint = (
        "Build pairs with lossbook.convert.sentences_to_anchor_pairs, or use ContrastiveTensionLossInBatchNegatives "
        "for a single column of sentences."
    )

    def __init__(self, model: nn.Module) -> None:
        super().__init__(model)
        self.model1 = copy.deepcopy(model)
        self.criterion = nn.BCEWithLogitsLoss(reduction="sum")

    @property
    def model2(self) -> nn.Module:
        """sentence-transformers' name for the model being trained (``self.model``)."""
        return self.model

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        sentence_features = list(sentence_features)
        self.check_columns(sentence_features)
        first, second = sentence_features
        embeddings = [self.model1(first)["sentence_embedding"], self.model(second)["sentence_embedding"]]
        if labels is None:
            labels = identical_rows(first, second)
        return self.compute_loss_from_embeddings(embeddings, labels)

    def check_labels(self, embeddings: list[Tensor], labels: Tensor | None) -> Tensor:
        """0/1 per row, required here: ``forward`` derives them from the token ids."""
        batch = embeddings[0].shape[0]
        if labels is None:
            raise LossInputError(
                "ContrastiveTensionLoss.compute_loss_from_embeddings needs 0/1 labels; forward() derives them "
                "from the token ids (1 where both columns hold the same text)."
            )
        labels = torch.as_tensor(labels).reshape(-1)
        if (
            labels.numel() != batch
            or not torch.isin(labels.float(), torch.tensor([0.0, 1.0], device=labels.device)).all()
        ):
            raise LossInputError(
                f"ContrastiveTensionLoss expects one label per pair, 1 (identical texts) or 0 (different texts); "
                f"got {labels.numel()} labels for {batch} pairs with values {sorted(set(labels.tolist()))[:5]}. "
                "Leave the labels out to derive them from the texts."
            )
        return labels.to(embeddings[0].device)

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor) -> Tensor:
        """``embeddings = [model1(column 0), model(column 1)]``; ``labels`` 1 for identical texts, else 0."""
        logits = pairwise_dot_score(*embeddings)  # (batch,)
        return self.criterion(logits, labels.to(logits.dtype))

    def get_config_dict(self) -> dict[str, Any]:
        return {}

    @property
    def citation(self) -> str:
        return _CITATION


class ContrastiveTensionLossInBatchNegatives(EmbeddingLoss):
    r"""Contrastive Tension with in-batch negatives: each text must find itself, across the two encoders.

    .. math::
        S_{ij} = e^{\lambda}\, \mathrm{sim}\big(m_1(x_i), m_2(x_j)\big), \qquad
        L = \frac{1}{2B} \sum_{i=1}^{B} \Big[
            \Big(\log \sum_{j} e^{S_{ij}} - S_{ii}\Big) + \Big(\log \sum_{j} e^{S_{ji}} - S_{ii}\Big) \Big]

    i.e. the mean of the cross-entropy over the rows and over the columns of ``S`` with the diagonal
    as the target. ``m_1`` is the loss's copy of the model (``model1``), ``m_2`` the model being
    trained, ``sim`` is cosine by default and :math:`\lambda` = ``logit_scale`` is a **trainable**
    parameter starting at :math:`\ln(\text{scale})`.

    Args:
        model: the embedding model (lossbook ``EmbeddingModel`` or a ``SentenceTransformer``).
        scale: initial value of :math:`e^{\lambda}` (20.0, i.e. temperature 0.05); it is then learned (and,
            like ``model1``, not saved with the model).
        similarity_fct: all-pairs similarity, :func:`cos_sim` by default (use a dot product with scale 1).

    Inputs:
        single sentences, no labels: **one** column. The same texts go through both encoders.

    Relations:
        :class:`ContrastiveTensionLoss` is the pairwise form (2 columns, BCE). With dropout off and the
        copy still equal to the model, the diagonal dominates and the loss starts near 0; the training
        signal comes from dropout and from the two encoders drifting apart.

    Notes:
        sentence-transformers' loss overview lists this loss under "(anchor, anchor) pairs" and the
        pairwise loss under "single inputs": it is the other way round in the code, which reads only
        column 0 (a second column is silently ignored there; lossbook rejects it instead).

    Example:
        >>> loss = ContrastiveTensionLossInBatchNegatives(model)
        >>> loss([model.tokenize(["It rains.", "A man plays guitar.", "Stocks fell."])])  # doctest: +SKIP

    Reference:
        Carlsson et al., "Semantic Re-tuning with Contrastive Tension", ICLR 2021
        (OpenReview Ov_sMNau-PF).
    """

    formats = (FORMATS["sentences"],)
    # The seed table lists the in-batch variant for unlabelled data; after correcting its swap, that is single
    # sentences.
    commonly_used = (FORMATS["sentences"],)
    embedding_path = EmbeddingPath.OWN_FORWARD  # it compares with its own copy of the model
    column_hint = (
        "Each text is paired with itself through the two encoders; for (anchor, anchor) pairs use "
        "ContrastiveTensionLoss."
    )

    def __init__(self, model: nn.Module, scale: float = 20.0, similarity_fct=cos_sim) -> None:
        super().__init__(model)
        self.model1 = copy.deepcopy(model)
        self.similarity_fct = similarity_fct
        self.cross_entropy_loss = nn.CrossEntropyLoss()
        self.logit_scale = nn.Parameter(torch.ones([]) * math.log(scale))

    @property
    def model2(self) -> nn.Module:
        """sentence-transformers' name for the model being trained (``self.model``)."""
        return self.model

    def forward(self, sentence_features: Sequence[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        sentence_features = list(sentence_features)
        self.check_columns(sentence_features)
        features = sentence_features[0]
        embeddings = [self.model1(features)["sentence_embedding"], self.model(features)["sentence_embedding"]]
        return self.compute_loss_from_embeddings(embeddings, labels)

    def check_inputs(self, embeddings: list[Tensor], labels: Tensor | None) -> None:
        """Its one data column arrives twice, through both encoders: ``[model1(texts), model(texts)]``."""
        check_column_count(
            self,
            embeddings,
            minimum=2,
            maximum=2,
            hint="Pass [model1(texts), model(texts)], the same texts through both encoders.",
        )
        check_batch_size(self, embeddings, minimum=2, why="the other texts of the batch are the negatives")
        return None  # labels are ignored

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor | None = None) -> Tensor:
        """``embeddings = [model1(texts), model(texts)]``; labels are ignored."""
        scores = self.similarity_fct(*embeddings) * self.logit_scale.exp()  # (batch, batch): model1 x model
        targets = torch.arange(scores.shape[0], device=scores.device)
        return (self.cross_entropy_loss(scores, targets) + self.cross_entropy_loss(scores.t(), targets)) / 2

    def get_config_dict(self) -> dict[str, Any]:
        return {"scale": self.logit_scale.exp().item(), "similarity_fct": similarity_name(self.similarity_fct)}

    @property
    def citation(self) -> str:
        return _CITATION
