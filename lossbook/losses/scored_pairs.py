"""Losses for (sentence_A, sentence_B) pairs with a float similarity score."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from lossbook.formats import FORMATS
from lossbook.losses.base import EmbeddingLoss, LossInputError, check_label_count
from lossbook.similarity import as_float_tensor, pairwise_angle_sim, pairwise_cos_sim, similarity_name

__all__ = ["AnglELoss", "CoSENTLoss", "CosineSimilarityLoss", "cosent", "cosent_plain"]

_SCORE_HINT = "Use (sentence_A, sentence_B) pairs with a 'score' column in [0, 1] (e.g. lossbook.load_dataset('stsb'))."


def _fullname(module: nn.Module) -> str:
    return f"{type(module).__module__}.{type(module).__qualname__}"


def cosent_plain(scores: Tensor, labels: Tensor) -> Tensor:
    """CoSENT as its formula reads: ``log(1 + sum over (i, j) with y_i < y_j of exp(s_i - s_j))``, B x B terms."""
    differences = scores[:, None] - scores[None, :]  # (batch, batch): s_i - s_j
    lower_label = labels[:, None] < labels[None, :]  # (batch, batch): y_i < y_j
    return torch.logsumexp(torch.cat((scores.new_zeros(1), differences[lower_label])), dim=0)


def cosent(scores: Tensor, labels: Tensor) -> Tensor:
    """``cosent_plain`` in O(B log B): sorted by label, each pair's sum over higher labels is a suffix logcumsumexp."""
    labels, order = labels.sort()
    scores = scores[order]
    # higher_from[i]: the first sorted position whose label is strictly above labels[i] (ties excluded).
    higher_from = torch.searchsorted(labels, labels, right=True)
    # log sum_{k >= m} exp(-scores[k]) for every m, plus an empty sum (-inf) for "no higher label".
    suffix = torch.logcumsumexp(-scores.flip(0), dim=0).flip(0)
    suffix = torch.cat((suffix, scores.new_full((1,), -torch.inf)))  # (batch + 1,)
    # log sum_{j: y_j > y_i} exp(s_i - s_j), one per pair i; the leading 0 is the "1 +".
    per_pair = scores + suffix[higher_from]
    return torch.logsumexp(torch.cat((scores.new_zeros(1), per_pair)), dim=0)


class CosineSimilarityLoss(EmbeddingLoss):
    r"""Regress the cosine similarity of each pair onto its gold score.

    .. math::
        L = \frac{1}{B} \sum_{i=1}^{B} \big(y_i - f(\cos(u_i, v_i))\big)^2

    with ``u = model(A)``, ``v = model(B)``, ``f`` = ``cos_score_transformation`` (identity by
    default) and the squared error replaced by ``loss_fct`` when given.

    Args:
        model: the embedding model (lossbook ``EmbeddingModel`` or a ``SentenceTransformer``).
        loss_fct: compares ``f(cos)`` with the score; ``nn.MSELoss()`` by default.
        cos_score_transformation: applied to the cosine first; ``nn.Identity()`` by default.

    Inputs:
        (sentence_A, sentence_B) pairs + a float similarity score, usually in [0, 1]. With the default
        (identity) transformation a score outside [-1, 1], which no cosine can reach, raises a
        ``LossInputError`` (the reference accepts it silently); a negative score warns once.

    Relations:
        :class:`CoSENTLoss` and :class:`AnglELoss` only ask that the pairs be *ranked* like the
        scores, which trains better than matching the exact values; this loss is the classic baseline.

    Example:
        >>> from lossbook import load_model
        >>> from lossbook.losses import CosineSimilarityLoss
        >>> model = load_model()
        >>> loss = CosineSimilarityLoss(model)
        >>> features = [model.tokenize(["A plane takes off."]), model.tokenize(["An airplane departs."])]
        >>> loss(features, torch.tensor([0.9]))  # doctest: +SKIP

    Reference:
        Reimers & Gurevych, Sentence-BERT (EMNLP 2019); the regression objective of its STS experiments.
        sentence-transformers defines no ``citation`` for this loss.
    """

    formats = (FORMATS["pair-score"],)
    commonly_used = (FORMATS["pair-score"],)
    label_hint = _SCORE_HINT

    def __init__(
        self, model: nn.Module, loss_fct: nn.Module | None = None, cos_score_transformation: nn.Module | None = None
    ) -> None:
        super().__init__(model)
        self.loss_fct = nn.MSELoss() if loss_fct is None else loss_fct
        self.cos_score_transformation = nn.Identity() if cos_score_transformation is None else cos_score_transformation
        self._warned_negative_scores = False

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor) -> Tensor:
        cosine = torch.cosine_similarity(*embeddings)  # (batch,); torch's, as in the reference
        return self.loss_fct(self.cos_score_transformation(cosine), labels.to(cosine.dtype))

    def check_labels(self, embeddings: list[Tensor], labels: Tensor | None) -> Tensor:
        scores = super().check_labels(embeddings, labels)
        # Only the identity transformation has a known range ([-1, 1]); a custom one may map anywhere.
        if not isinstance(self.cos_score_transformation, nn.Identity) or scores.numel() == 0:
            return scores
        low, high = scores.min().item(), scores.max().item()
        if low < -1 or high > 1:
            raise LossInputError(
                f"{type(self).__name__} regresses the cosine onto the score, so scores must lie in [-1, 1] "
                f"(usually [0, 1]); got scores from {low:g} to {high:g}. Rescale them first, e.g. divide "
                "STS-B's 0-5 scores by 5. " + _SCORE_HINT
            )
        if low < 0 and not self._warned_negative_scores:
            self._warned_negative_scores = True
            warnings.warn(
                f"{type(self).__name__} expects scores in [0, 1] (format 'pair-score'); got a score of {low:g}. "
                "Negative targets push those pairs towards opposite directions, which is rarely meant; "
                "for 0/1 match labels use ContrastiveLoss ('pair-binary').",
                UserWarning,
                stacklevel=4,
            )
        return scores

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "loss_fct": _fullname(self.loss_fct),
            "cos_score_transformation": _fullname(self.cos_score_transformation),
        }


class CoSENTLoss(EmbeddingLoss):
    r"""Rank the pairs of a batch like their gold scores: a softplus over every wrongly-ordered couple of pairs.

    With :math:`s_i = \text{similarity\_fct}(u_i, v_i)` for pair :math:`i` and :math:`\lambda` = ``scale``:

    .. math::
        L = \log\Big(1 + \sum_{(i, j):\, y_i < y_j} e^{\lambda (s_i - s_j)}\Big)

    Every couple where pair ``i`` has the *lower* gold score adds :math:`e^{\lambda(s_i - s_j)}`: large
    when the model scores it above pair ``j``. Equal gold scores (ties) add nothing. Only the order of
    the labels matters, so any real-valued scores work.

    The result is **one log-sum-exp for the whole batch**, not a mean over pairs: the number of terms
    grows with the square of the batch size, so values from different batch sizes are not comparable.
    Computed in :math:`O(B \log B)`: the pairs are sorted by label and, for each pair, the sum over all
    pairs with a strictly higher label is a suffix ``logcumsumexp`` (:func:`cosent`); the value is the same
    as summing the :math:`B \times B` matrix (:func:`cosent_plain`, which the tests compare it with).
    Half-precision similarities are computed in float32.

    Args:
        model: the embedding model (lossbook ``EmbeddingModel`` or a ``SentenceTransformer``).
        scale: multiplies the similarities (inverse temperature); 20 by default.
        similarity_fct: row-wise similarity of the two columns, ``pairwise_cos_sim`` by default (see
            :mod:`lossbook.similarity`).

    Inputs:
        (sentence_A, sentence_B) pairs + a float similarity score (format 'pair-score'). Boolean labels
        are read as 0/1.

    Relations:
        :class:`AnglELoss` is this loss with ``pairwise_angle_sim``. :class:`CosineSimilarityLoss`
        regresses each cosine onto its score; CoSENT only asks for the right order, which usually trains
        faster and better, so it is a drop-in replacement (and sentence-transformers' default loss).

    Note:
        Earlier sentence-transformers docstrings (after PR #3230, until PR #3984) wrote the term as
        :math:`e^{s(i,j) - s(k,l)}` for pairs with label :math:`(i,j) > (k,l)`: the inequality reversed
        relative to the code (issue #3368). The code has always computed the formula above (lower-labelled
        pair minus higher-labelled pair), and so does this class.

    Example:
        >>> from lossbook import load_model
        >>> from lossbook.losses.scored_pairs import CoSENTLoss
        >>> model = load_model()
        >>> loss = CoSENTLoss(model)
        >>> a = model.tokenize(["A plane takes off.", "A man plays chess."])
        >>> b = model.tokenize(["An airplane departs.", "A cat sleeps."])
        >>> loss([a, b], torch.tensor([0.9, 0.1]))  # doctest: +SKIP

    Reference:
        Huang et al., "CoSENT: Consistent Sentence Embedding via Similarity Ranking", IEEE/ACM TASLP 2024
        (first described by Su Jianlin, https://kexue.fm/archives/8847).
    """

    formats = (FORMATS["pair-score"],)
    commonly_used = (FORMATS["pair-score"],)
    column_hint = (
        "For (anchor, positive, negative) tuples use AnglELoss, or convert them with "
        "lossbook.convert.triplets_to_scored_pairs."
    )
    label_hint = _SCORE_HINT

    def __init__(
        self,
        model: nn.Module,
        scale: float = 20.0,
        similarity_fct: Callable[[Tensor, Tensor], Tensor] = pairwise_cos_sim,
    ) -> None:
        super().__init__(model)
        self.scale = scale
        self.similarity_fct = similarity_fct

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor) -> Tensor:
        return self.ranking_loss(*embeddings, labels)

    def ranking_loss(self, first: Tensor, second: Tensor, labels: Tensor) -> Tensor:
        """CoSENT over the pairs ``(first[i], second[i])`` with gold scores ``labels[i]``."""
        scores = as_float_tensor(self.similarity_fct(first, second)) * self.scale  # (pairs,)
        return cosent(scores, labels)

    def get_config_dict(self) -> dict[str, Any]:
        return {"scale": self.scale, "similarity_fct": similarity_name(self.similarity_fct)}

    @property
    def citation(self) -> str:
        return """
@article{10531646,
    author={Huang, Xiang and Peng, Hao and Zou, Dongcheng and Liu, Zhiwei and Li, Jianxin and Liu, Kay and \
Wu, Jia and Su, Jianlin and Yu, Philip S.},
    journal={IEEE/ACM Transactions on Audio, Speech, and Language Processing},
    title={CoSENT: Consistent Sentence Embedding via Similarity Ranking},
    year={2024},
    doi={10.1109/TASLP.2024.3402087}
}
"""


class AnglELoss(CoSENTLoss):
    r"""CoSENT on AnglE's ``|cos + sin|`` similarity; also takes unlabeled (anchor, positive, negatives...) tuples.

    .. math::
        L = \log\Big(1 + \sum_{(i, j):\, y_i < y_j} e^{\lambda (s_i - s_j)}\Big), \qquad
        s_i = \operatorname{angle\_sim}(u_i, v_i)

    where ``angle_sim`` is :func:`lossbook.similarity.pairwise_angle_sim`: both vectors are read
    as complex numbers (first half = real part, second half = imaginary part), and
    :math:`\operatorname{angle\_sim} = |\cos + \sin|` with the "sine" being the imaginary part of
    :math:`\hat u \cdot \overline{\hat v}`. It is not symmetric in ``(u, v)`` and not a geometric angle.

    With :math:`k + 2` columns ``(a, p, n_1, ..., n_k)`` the batch is first unrolled into
    :math:`B(k+1)` pairs: :math:`(a_i, p_i)` with label :math:`y_i` (1 when ``labels`` is None) and each
    :math:`(a_i, n_{m,i})` with label :math:`1 - y_i` (0 by default); then the formula above runs on
    those pairs. As for :class:`CoSENTLoss`, the value is one log-sum-exp over the whole (unrolled)
    batch, so it grows with the batch size and the number of negatives.

    Args:
        model: the embedding model (lossbook ``EmbeddingModel`` or a ``SentenceTransformer``).
        scale: multiplies the similarities (inverse temperature); 20 by default.

    Inputs:
        (sentence_A, sentence_B) pairs + a float similarity score ('pair-score'); or (anchor, positive,
        negative) triplets / (anchor, positive, negative_1, ..., negative_n) tuples without labels
        ('triplet', 'n-tuple'). Pairs need labels.

    Relations:
        :class:`CoSENTLoss` is the same ranking objective on the cosine. The AnglE paper trains it
        together with an in-batch-negatives loss (``MultipleNegativesRankingLoss``).

    Note:
        The sum runs over couples where pair ``i`` has the *lower* label, as the code always did; earlier
        sentence-transformers docstrings of CoSENT and AnglE had that inequality reversed (issue #3368,
        PR #3984), and equation 3 of the AnglE paper writes the difference in the opposite order of the
        authors' code.
        ``get_config_dict`` reports ``similarity_fct = 'pairwise_angle_sim'`` as the reference does.

    Example:
        >>> from lossbook import load_model
        >>> from lossbook.losses.scored_pairs import AnglELoss
        >>> model = load_model()
        >>> loss = AnglELoss(model)
        >>> columns = [model.tokenize(["Who wrote Hamlet?"]), model.tokenize(["Shakespeare wrote Hamlet."]),
        ...            model.tokenize(["Hamlet is set in Denmark."])]
        >>> loss(columns, None)  # doctest: +SKIP

    Reference:
        Li & Li, "AoE: Angle-optimized Embeddings for Semantic Textual Similarity", ACL 2024
        (arXiv 2309.12871).
    """

    formats = (FORMATS["pair-score"], FORMATS["triplet"], FORMATS["n-tuple"])
    commonly_used = (FORMATS["pair-score"],)
    column_hint = ""
    label_hint = "Unlabeled data works as (anchor, positive, negative...) tuples of 3 or more columns. " + _SCORE_HINT

    def __init__(self, model: nn.Module, scale: float = 20.0) -> None:
        super().__init__(model, scale, similarity_fct=pairwise_angle_sim)

    def check_labels(self, embeddings: list[Tensor], labels: Tensor | None) -> Tensor:
        """Pairs need scores; tuples take one label per tuple, 1 (the positive is the match) when none."""
        if len(embeddings) == 2:
            return super().check_labels(embeddings, labels)
        batch = embeddings[0].shape[0]
        if labels is None:
            return torch.ones(batch, device=embeddings[0].device)
        labels = torch.as_tensor(labels)
        check_label_count(self, labels, batch, row="tuple", alternative=f" or none for {len(embeddings)}-column tuples")
        labels = labels.reshape(-1).to(embeddings[0].device)
        return labels if labels.is_floating_point() else labels.float()

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor) -> Tensor:
        if len(embeddings) == 2:
            return self.ranking_loss(*embeddings, labels)
        # (a, p, n_1..n_k) unrolled into B(k+1) pairs: (a_i, p_i) labelled y_i, each (a_i, n_m,i) labelled 1 - y_i.
        anchors, candidates = embeddings[0], embeddings[1:]
        pair_labels = torch.cat([labels] + [1 - labels] * (len(candidates) - 1))  # (batch * (columns - 1),)
        return self.ranking_loss(anchors.repeat(len(candidates), 1), torch.cat(candidates), pair_labels)

    @property
    def citation(self) -> str:
        return """
@inproceedings{li-li-2024-aoe,
    title = "{A}o{E}: Angle-optimized Embeddings for Semantic Textual Similarity",
    author = "Li, Xianming and Li, Jing",
    year = "2024",
    publisher = "Association for Computational Linguistics",
    url = "https://aclanthology.org/2024.acl-long.101/",
    doi = "10.18653/v1/2024.acl-long.101"
}
"""
