"""Embedding distillation: the student imitates a teacher's pre-computed sentence embeddings.

The teacher is never run inside the loss: its embeddings are pre-computed and arrive as the label
column (``lossbook.convert.add_teacher_embeddings`` adds them to a data set). The score-based
distillation losses (MarginMSELoss, DistillKLDivLoss) are in ``distillation_scores``.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lossbook.formats import FORMATS
from lossbook.losses.base import EmbeddingLoss, LossInputError, check_labels_present
from lossbook.similarity import pairwise_euclidean_distance, torch_cosine_distance

__all__ = ["EmbedDistillLoss", "MSELoss"]

_EMBEDDINGS_HINT = "Add them with lossbook.convert.add_teacher_embeddings(dataset, teacher_model)."


def _model_dimension(model: nn.Module | None) -> int | None:
    for getter in ("get_embedding_dimension", "get_sentence_embedding_dimension"):
        if hasattr(model, getter):
            return getattr(model, getter)()
    return None


def _model_device(model: nn.Module | None) -> torch.device | None:
    if model is None:
        return None
    device = getattr(model, "device", None)
    return device if isinstance(device, torch.device) else next(model.parameters()).device


class EmbedDistillLoss(EmbeddingLoss):
    r"""Pull each column's student embedding onto the teacher's pre-computed embedding.

    .. math::
        L = \frac{1}{N} \sum_{c=1}^{N} \frac{1}{B} \sum_{i=1}^{B} d\big(P(s_{c,i}),\, t_{c,i}\big)

    with ``s_c = model(column c)``, ``t_c`` the teacher embedding of column ``c`` (the same ``t`` for
    every column when the labels are 2-D), ``P`` the optional projection (identity without one) and
    ``d`` the distance: ``"cosine"`` :math:`1-\cos(s,t)`; ``"l2"`` :math:`\lVert s-t \rVert_2`;
    ``"mse"`` :math:`\frac{1}{D}\lVert s-t \rVert_2^2` (so the inner mean runs over all B·D entries).

    Args:
        model: the student (lossbook ``EmbeddingModel`` or a ``SentenceTransformer``).
        distance_metric: ``"cosine"`` (default), ``"l2"`` (the EmbedDistill paper's) or ``"mse"``.
        projection_dim: when set, a trainable ``nn.Linear(student_dim, projection_dim)`` maps the
            student into the teacher's space (for a teacher of another size). It lives on the loss,
            is trained with the model but is not saved with it: use ``save_projection`` /
            ``load_projection``.

    Inputs:
        sentence + teacher embeddings ``(B, D)``, or sentence_1 ... sentence_N + teacher embeddings
        ``(B, D)`` (one target shared by every column, e.g. a sentence and its translations) or
        ``(B, N, D)`` (one target per column).

    Relations:
        :class:`MSELoss` is this loss with ``distance_metric="mse"``. :class:`MarginMSELoss` and
        :class:`DistillKLDivLoss` distil the teacher's *scores* instead of its embeddings, which works
        across embedding sizes without a projection.

    Example:
        >>> loss = EmbedDistillLoss(model, distance_metric="cosine")
        >>> teacher = teacher_model.encode(texts)  # (B, D), pre-computed
        >>> loss([model.tokenize(texts)], teacher)  # doctest: +SKIP

    Reference:
        Kim et al., "EmbedDistill: A Geometric Knowledge Distillation for Information Retrieval", 2023
        (arXiv 2301.12005).
    """

    formats = (FORMATS["sentence-teacher-embedding"], FORMATS["sentences-teacher-embedding"])
    label_hint = _EMBEDDINGS_HINT

    def __init__(
        self,
        model: nn.Module,
        distance_metric: Literal["mse", "l2", "cosine"] = "cosine",
        projection_dim: int | None = None,
    ) -> None:
        super().__init__(model)
        if distance_metric not in ("mse", "l2", "cosine"):
            raise ValueError(f"distance_metric must be one of 'mse', 'l2', 'cosine', but got {distance_metric!r}.")
        self.distance_metric = distance_metric
        self.projection_dim = projection_dim
        self.projection: nn.Linear | None = None
        if projection_dim is not None:
            self.projection = nn.Linear(_model_dimension(model), projection_dim, device=_model_device(model))

    def check_labels(self, embeddings: list[Tensor], labels: Tensor | list[Tensor] | None) -> list[Tensor]:
        """Split the label tensor into one teacher tensor per input column, checking every shape."""
        name = type(self).__name__
        if isinstance(labels, (list, tuple)):  # already one tensor per column (the reference's own form)
            teachers = [torch.as_tensor(t) for t in labels]
            if len(teachers) != len(embeddings):
                raise LossInputError(f"{name} got {len(teachers)} teacher tensors for {len(embeddings)} input columns.")
        else:
            labels = check_labels_present(
                self,
                labels,
                what="the teacher's embeddings, shape (batch, dim) or (batch, columns, dim)",
                hint=self.label_hint,
            )
            batch, columns = embeddings[0].shape[0], len(embeddings)
            if labels.dim() == 2:
                teachers = [labels] * columns
            elif labels.dim() == 3:
                if labels.shape[1] != columns:
                    raise LossInputError(
                        f"{name} got per-column teacher embeddings for {labels.shape[1]} columns (shape "
                        f"{tuple(labels.shape)}) but {columns} input columns. Expected ({batch}, {columns}, dim), or "
                        f"({batch}, dim) to share one teacher embedding across all columns. {_EMBEDDINGS_HINT}"
                    )
                teachers = list(labels.unbind(dim=1))
            else:
                raise LossInputError(
                    f"{name} expects teacher embeddings of shape ({batch}, dim) or ({batch}, {columns}, dim), "
                    f"got shape {tuple(labels.shape)}. Scalar scores or margins belong to MarginMSELoss / "
                    f"DistillKLDivLoss. {_EMBEDDINGS_HINT}"
                )
        student_dim = self.projection_dim if self.projection is not None else embeddings[0].shape[-1]
        for column, (student, teacher) in enumerate(zip(embeddings, teachers)):
            if teacher.shape[0] != student.shape[0] or teacher.shape[-1] != student_dim:
                fix = (
                    f" Pass projection_dim={teacher.shape[-1]} to learn a projection."
                    if (teacher.shape[0] == student.shape[0])
                    else ""
                )
                raise LossInputError(
                    f"{name}: column {column} has student embeddings of shape ({student.shape[0]}, {student_dim}) "
                    f"but teacher embeddings of shape {tuple(teacher.shape)}; expected ({student.shape[0]}, "
                    f"{student_dim}).{fix} {_EMBEDDINGS_HINT}"
                )
        return [t.detach().to(device=s.device, dtype=s.dtype) for s, t in zip(embeddings, teachers)]

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: list[Tensor]) -> Tensor:
        """``labels``: the teacher's embeddings of each column (``check_labels`` splits and checks them)."""
        per_column = []
        for student, teacher in zip(embeddings, labels):
            if self.projection is not None:
                student = self.projection(student)  # (batch, projection_dim)
            if self.distance_metric == "mse":
                per_column.append(F.mse_loss(student, teacher))
            elif self.distance_metric == "l2":
                per_column.append(pairwise_euclidean_distance(student, teacher).mean())
            else:
                per_column.append(torch_cosine_distance(student, teacher).mean())
        return torch.stack(per_column).mean()

    def save_projection(self, path) -> None:
        """Write the projection's weights (safetensors), since saving the model does not include them."""
        from safetensors.torch import save_model

        if self.projection is None:
            raise ValueError(f"{type(self).__name__} has no projection to save; build it with projection_dim=<int>.")
        save_model(self.projection, str(path))

    def load_projection(self, path) -> None:
        """Load weights written by ``save_projection``, creating the projection if there is none yet."""
        from safetensors.torch import load_file

        state = load_file(str(path))
        out_features, in_features = state["weight"].shape
        if self.projection is None:
            student_dim = _model_dimension(self.model)
            if in_features != student_dim:
                raise ValueError(
                    f"The saved projection takes {in_features}-dim embeddings but the student gives {student_dim}."
                )
            self.projection = nn.Linear(in_features, out_features, device=_model_device(self.model))
            self.projection_dim = out_features
        elif (self.projection.in_features, self.projection.out_features) != (in_features, out_features):
            raise ValueError(
                f"The saved projection maps {in_features} -> {out_features}, this loss's maps "
                f"{self.projection.in_features} -> {self.projection.out_features}."
            )
        self.projection.load_state_dict(state)

    def get_config_dict(self) -> dict[str, Any]:
        return {"distance_metric": self.distance_metric, "projection_dim": self.projection_dim}

    @property
    def citation(self) -> str:
        return """
@article{kim2023embeddistill,
    title={EmbedDistill: A Geometric Knowledge Distillation for Information Retrieval},
    author={Kim, Seungyeon and Rawat, Ankit Singh and Zaheer, Manzil and Jayasumana, Sadeep and \
Sadhanala, Veeranjaneyulu and Jitkrittum, Wittawat and Menon, Aditya Krishna and Fergus, Rob and Kumar, Sanjiv},
    year={2023},
    eprint={2301.12005},
    archivePrefix={arXiv},
    primaryClass={cs.IR}
}
"""


class MSELoss(EmbedDistillLoss):
    r"""Mean squared error between the student's and the teacher's embeddings, averaged over columns.

    .. math::
        L = \frac{1}{N} \sum_{c=1}^{N} \frac{1}{B\,D} \sum_{i=1}^{B} \sum_{k=1}^{D} \big(P(s_{c,i})_k - t_{c,i,k}\big)^2

    ``s_c = model(column c)``; ``t_c`` is the teacher embedding for column ``c`` (2-D labels are shared
    by every column); ``P`` is the optional projection.

    Args:
        model: the student (lossbook ``EmbeddingModel`` or a ``SentenceTransformer``).
        projection_dim: optional trainable ``Linear(student_dim, projection_dim)``, as in
            :class:`EmbedDistillLoss`.

    Inputs:
        sentence + teacher embeddings ``(B, D)``; sentence_1 ... sentence_N + teacher embeddings
        ``(B, D)`` (broadcast) or ``(B, N, D)`` (per column).

    Relations:
        :class:`EmbedDistillLoss` with ``distance_metric="mse"``. With equal batch sizes per column the
        mean over columns equals one MSE over all columns stacked (the older formulation). Wrapped in
        :class:`MatryoshkaLoss`, the teacher embeddings are truncated along with the student's but not
        re-normalised.

    Example:
        >>> loss = MSELoss(student)
        >>> loss([student.tokenize(english), student.tokenize(german)], teacher.encode(english))  # doctest: +SKIP

    Reference:
        Reimers & Gurevych, "Making Monolingual Sentence Embeddings Multilingual using Knowledge
        Distillation", EMNLP 2020 (arXiv 2004.09813).
    """

    commonly_used = (FORMATS["sentence-teacher-embedding"], FORMATS["sentences-teacher-embedding"])

    def __init__(self, model: nn.Module, projection_dim: int | None = None) -> None:
        super().__init__(model, distance_metric="mse", projection_dim=projection_dim)

    def get_config_dict(self) -> dict[str, Any]:
        return {"projection_dim": self.projection_dim}

    @property
    def citation(self) -> str:
        return """
@inproceedings{reimers-2020-multilingual-sentence-bert,
    title = "Making Monolingual Sentence Embeddings Multilingual using Knowledge Distillation",
    author = "Reimers, Nils and Gurevych, Iryna",
    booktitle = "Proceedings of the 2020 Conference on Empirical Methods in Natural Language Processing",
    month = "11",
    year = "2020",
    publisher = "Association for Computational Linguistics",
    url = "https://arxiv.org/abs/2004.09813",
}
"""
