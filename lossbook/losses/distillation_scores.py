"""Score distillation: the student imitates a teacher's (query, passage) scores, as margins or as a distribution.

The teacher's scores are pre-computed and arrive as the label column
(``lossbook.convert.add_teacher_margins`` / ``add_teacher_scores`` add them to a data set).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import torch
from torch import Tensor, nn

from lossbook.formats import FORMATS
from lossbook.losses.base import EmbeddingLoss, LossInputError, check_labels_present
from lossbook.similarity import pairwise_dot_score, similarity_name

__all__ = ["DistillKLDivLoss", "MarginMSELoss"]

logger = logging.getLogger(__name__)

_MARGINS_HINT = (
    "Add margins with lossbook.convert.add_teacher_margins(dataset, teacher) or raw scores with "
    "lossbook.convert.add_teacher_scores(dataset, teacher)."
)
_SCORES_HINT = "Add them with lossbook.convert.add_teacher_scores(dataset, teacher)."


class MarginMSELoss(EmbeddingLoss):
    r"""Match the student's score margins ``sim(q, p) - sim(q, n_j)`` to the teacher's margins.

    .. math::
        L = \frac{1}{B\,k} \sum_{i=1}^{B} \sum_{j=1}^{k}
            \Big(\big(\mathrm{sim}(q_i, p_i) - \mathrm{sim}(q_i, n_{j,i})\big) - m_{i,j}\Big)^2

    where ``m`` is the label: margins ``(B,)`` (k = 1) or ``(B, k)``, or raw teacher scores ``(B, k+1)``
    ``[t(q,p), t(q,n_1), ...]``, turned into ``m_{i,j} = t_{i,0} - t_{i,j}``. ``sim`` is the dot product
    by default. The labels are detached.

    Args:
        model: the student (lossbook ``EmbeddingModel`` or a ``SentenceTransformer``).
        similarity_fct: pairwise score of two ``(B, D)`` tensors, giving ``(B,)``;
            :func:`pairwise_dot_score` by default.

    Inputs:
        (query, passage_one, passage_two) triplets + margin, or (query, positive, negative_1, ...,
        negative_k) + k margins or k+1 teacher scores. The two passages need not be a true positive
        and negative: only the teacher's margin matters.

    Relations:
        :class:`DistillKLDivLoss` takes the same raw teacher scores but matches a softmax distribution
        instead of differences. Each query meets only its own passages, so this loss sees far fewer
        comparisons per batch than :class:`MultipleNegativesRankingLoss`.

    Example:
        >>> loss = MarginMSELoss(model)
        >>> loss([model.tokenize(q), model.tokenize(p), model.tokenize(n)], torch.tensor([4.2, 1.3]))  # doctest: +SKIP

    Reference:
        Hofstätter et al., "Improving Efficient Neural Ranking Models with Cross-Architecture Knowledge
        Distillation", 2020 (arXiv 2010.02666).
    """

    formats = (FORMATS["triplet-margin"],)
    commonly_used = (FORMATS["triplet-margin"],)
    column_hint = "Give (query, passage_one, passage_two, ...) columns."
    label_hint = _MARGINS_HINT

    def __init__(self, model: nn.Module, similarity_fct=pairwise_dot_score) -> None:
        super().__init__(model)
        self.similarity_fct = similarity_fct
        self.loss_fct = nn.MSELoss()

    def check_labels(self, embeddings: list[Tensor], labels: Tensor | None) -> Tensor:
        """The labels as ``(B, k)`` margins, whichever accepted shape they came in."""
        batch, negatives = embeddings[0].shape[0], len(embeddings) - 2
        labels = check_labels_present(self, labels, what="teacher margins or teacher scores", hint=self.label_hint)
        if labels.shape == (batch, negatives + 1):
            labels = labels[:, :1] - labels[:, 1:]
        elif labels.shape == (batch,):
            labels = labels.unsqueeze(1)
        if labels.shape != (batch, negatives):
            raise LossInputError(
                f"MarginMSELoss got labels of shape {tuple(labels.shape)} for {batch} rows with {negatives} "
                f"negative column(s). Expected margins ({batch}, {negatives})"
                + (f" or ({batch},)" if negatives == 1 else "")
                + f", or raw teacher scores ({batch}, {negatives + 1}) = [score(q, pos), score(q, neg_1), ...]. "
                + self.label_hint
            )
        return labels.detach().to(embeddings[0].device)

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor) -> Tensor:
        """``labels``: the teacher's margins, ``(batch, k)`` (``check_labels`` turns raw scores into them)."""
        query, positive, negatives = embeddings[0], embeddings[1], embeddings[2:]
        positive_scores = self.similarity_fct(query, positive)  # (batch,)
        predicted = torch.stack([positive_scores - self.similarity_fct(query, n) for n in negatives], dim=1)  # (B, k)
        return self.loss_fct(predicted, labels.to(predicted.dtype))

    def get_config_dict(self) -> dict[str, Any]:
        return {"similarity_fct": similarity_name(self.similarity_fct)}

    @property
    def citation(self) -> str:
        return """
@misc{hofstätter2021improving,
    title={Improving Efficient Neural Ranking Models with Cross-Architecture Knowledge Distillation},
    author={Sebastian Hofstätter and Sophia Althammer and Michael Schröder and Mete Sertkan and Allan Hanbury},
    year={2021},
    eprint={2010.02666},
    archivePrefix={arXiv},
    primaryClass={cs.IR}
}
"""


class DistillKLDivLoss(EmbeddingLoss):
    r"""KL divergence from the teacher's softmax over the candidates to the student's.

    .. math::
        L = \frac{T_s^2}{B} \sum_{i=1}^{B} \sum_{j=0}^{k} \pi_{i,j}
            \Big(\log \pi_{i,j} - \log \operatorname{softmax}_j\big(\mathrm{sim}(q_i, c_{j,i}) / T_s\big)\Big),
        \qquad \pi_{i,\cdot} = \operatorname{softmax}(t_{i,\cdot} / T_t)

    with candidates ``c_0 = positive, c_1..c_k = negatives``, ``t`` the teacher's raw scores
    ``(B, k+1)``, ``T_s`` = ``student_temperature`` and ``T_t`` = ``teacher_temperature`` (both default
    to ``temperature``). ``sim`` is the dot product by default. The :math:`T_s^2` factor keeps the
    gradient size independent of the temperature (Hinton et al.).

    Args:
        model: the student (lossbook ``EmbeddingModel`` or a ``SentenceTransformer``).
        similarity_fct: pairwise score, :func:`pairwise_dot_score` by default.
        temperature: softens both distributions; 1.0 by default (sentence-transformers changed the
            default from 2.0 to 1.0 in v5.0.1; its sparse variant still uses 2.0).
        student_temperature: overrides ``temperature`` for the student side (and the :math:`T_s^2` factor).
        teacher_temperature: overrides ``temperature`` for the teacher side. A float32 softmax
            underflows to exact zeros once a row's score spread divided by it exceeds about 100; the
            first batch is checked and a warning says so.

    Inputs:
        (query, positive, negative_1, ..., negative_k), k >= 1, + the teacher's **raw** scores
        ``(B, k+1)``, not margins.

    Relations:
        :class:`MarginMSELoss` uses the same scores through their differences; this loss keeps the
        teacher's whole ranking distribution.

    Example:
        >>> loss = DistillKLDivLoss(model, temperature=2.0)
        >>> loss([model.tokenize(q), model.tokenize(p), model.tokenize(n)],
        ...      torch.tensor([[9.1, 2.3]]))  # doctest: +SKIP

    Reference:
        Lin, Yang & Lin, "Distilling Dense Representations for Ranking using Tightly-Coupled Teachers",
        2020 (arXiv 2010.11386). Separate student/teacher temperatures follow DenseOn/LateOn.
    """

    formats = (FORMATS["n-tuple-teacher-scores"],)
    column_hint = "A softmax over a single candidate is constant (zero loss, zero gradient): add a negative column."
    label_hint = _SCORES_HINT

    def __init__(
        self,
        model: nn.Module,
        similarity_fct=pairwise_dot_score,
        temperature: float = 1.0,
        student_temperature: float | None = None,
        teacher_temperature: float | None = None,
    ) -> None:
        super().__init__(model)
        self.similarity_fct = similarity_fct
        self.temperature = temperature
        self.student_temperature = temperature if student_temperature is None else student_temperature
        self.teacher_temperature = temperature if teacher_temperature is None else teacher_temperature
        for name in ("temperature", "student_temperature", "teacher_temperature"):
            value = getattr(self, name)
            if not 0 < value < math.inf:
                raise ValueError(f"{name} must be a positive finite number, got {value}.")
        self.loss_fct = nn.KLDivLoss(reduction="batchmean")
        self._checked_teacher_scale = False

    def check_labels(self, embeddings: list[Tensor], labels: Tensor | None) -> Tensor:
        """The teacher's raw scores, ``(batch, candidates)``; on the first batch, NaN and softmax underflow too."""
        batch, n_candidates = embeddings[0].shape[0], len(embeddings) - 1
        labels = check_labels_present(
            self, labels, what=f"raw teacher scores, shape ({batch}, {n_candidates})", hint=self.label_hint
        )
        if labels.shape != (batch, n_candidates):
            margins = (
                " (that looks like margins; this loss needs the raw scores)"
                if labels.shape == (batch, n_candidates - 1)
                else ""
            )
            raise LossInputError(
                f"DistillKLDivLoss expects raw teacher scores of shape ({batch}, {n_candidates}) = [score(q, pos), "
                f"score(q, neg_1), ...] for {n_candidates} candidate columns, got {tuple(labels.shape)}{margins}. "
                + self.label_hint
            )
        labels = labels.detach().to(embeddings[0].device)
        if not self._checked_teacher_scale:
            self._checked_teacher_scale = True
            # In the precision of the default (dot product) student scores: float32 or wider.
            student_dtype = torch.promote_types(embeddings[0].dtype, torch.float32)
            self._check_teacher(labels, self.teacher_probabilities(labels, student_dtype))
        return labels

    def teacher_probabilities(self, scores: Tensor, dtype: torch.dtype) -> Tensor:
        """``softmax(t / T_t)`` over the candidates, in ``dtype``: ``(batch, candidates)``."""
        return torch.softmax(scores.to(dtype) / self.teacher_temperature, dim=1)

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor) -> Tensor:
        """``labels``: the teacher's raw scores, ``(batch, candidates)``."""
        query, candidates = embeddings[0], embeddings[1:]
        student = torch.stack([self.similarity_fct(query, c) for c in candidates], dim=1)  # (batch, candidates)
        student = student / self.student_temperature
        teacher = self.teacher_probabilities(labels, student.dtype)
        return self.loss_fct(torch.log_softmax(student, dim=1), teacher) * self.student_temperature**2

    def _check_teacher(self, scores: Tensor, probabilities: Tensor) -> None:
        """Once per loss: NaN teacher scores are an error, softmax underflow a warning."""
        scores = scores.float()
        if scores.isnan().any():
            raise LossInputError(
                "DistillKLDivLoss: the teacher scores contain NaN, which would make the loss and every gradient "
                "NaN. Check the label column. " + self.label_hint
            )
        if scores.isinf().any():  # -inf marks a candidate excluded on purpose
            return
        collapsed = int((probabilities == 0).sum())
        if collapsed:
            spread = (scores.max(dim=-1).values - scores.min(dim=-1).values).max().item()
            logger.warning(
                "DistillKLDivLoss: teacher_temperature=%s underflows %d of %d teacher probabilities to exactly 0 "
                "(widest row spread %.1f); raise teacher_temperature above %.3g.",
                self.teacher_temperature,
                collapsed,
                probabilities.numel(),
                spread,
                spread / 100,
            )

    def get_config_dict(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "similarity_fct": similarity_name(self.similarity_fct),
            "temperature": self.temperature,
        }
        if self.student_temperature != self.temperature:
            config["student_temperature"] = self.student_temperature
        if self.teacher_temperature != self.temperature:
            config["teacher_temperature"] = self.teacher_temperature
        return config

    @property
    def citation(self) -> str:
        return """
@misc{lin2020distillingdenserepresentationsranking,
      title={Distilling Dense Representations for Ranking using Tightly-Coupled Teachers},
      author={Sheng-Chieh Lin and Jheng-Hong Yang and Jimmy Lin},
      year={2020},
      eprint={2010.11386},
      archivePrefix={arXiv},
      primaryClass={cs.IR},
      url={https://arxiv.org/abs/2010.11386},
}
"""
