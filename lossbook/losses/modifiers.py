"""Loss modifiers: wrap any loss and apply it to truncated embeddings (MatryoshkaLoss).

``AdaptiveLayerLoss`` and ``Matryoshka2dLoss`` (the same idea along the layers) are in
``adaptive_layer``. A modifier reaches its inner loss in one of three ways, chosen by the inner loss's
``embedding_path`` (``lossbook.losses.base``):

* a GradCache loss (``takes_loss_on_embeddings``): hand the per-variant maths to its
  ``forward(..., loss_on_embeddings=...)``, so it keeps its mini-batched embedding and replayed backward;
* a loss whose maths is on embeddings (``embeds_then_computes``): embed once, then call the inner
  ``compute_loss_from_embeddings`` on each variant of the embeddings;
* any other ``nn.Module`` loss that calls ``self.model(features)``: temporarily replace the model's
  ``forward`` so that each call returns the variant being trained, as sentence-transformers does.

The modifier declares the path of the loss it wraps: around a plain loss it is plain (``train`` may embed
for it), around a GradCache loss it takes ``loss_on_embeddings`` itself, and so on.
"""

from __future__ import annotations

import logging
import random
import warnings
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lossbook.formats import FORMATS
from lossbook.losses.base import EmbeddingLoss, EmbeddingPath, embedding_path_of

__all__ = ["MatryoshkaLoss", "replaced_forward", "shrink"]

logger = logging.getLogger(__name__)


def model_dimension(model: nn.Module | None) -> int | None:
    """The model's embedding size, for lossbook models and sentence-transformers alike (None if unknown)."""
    for getter in ("get_embedding_dimension", "get_sentence_embedding_dimension"):
        if hasattr(model, getter):
            return getattr(model, getter)()
    return None


def as_scalar(value: Tensor | dict[str, Tensor]) -> Tensor:
    """A dict of named loss parts (e.g. from GlobalOrthogonalRegularizationLoss) counts as their sum."""
    return torch.stack(list(value.values())).sum() if isinstance(value, dict) else value


def shrink(embeddings: Tensor, dim: int) -> Tensor:
    """Keep the first ``dim`` components and L2-normalise again."""
    if dim > embeddings.shape[-1]:
        raise ValueError(
            f"Cannot truncate {embeddings.shape[-1]}-dim embeddings to {dim} dims: every matryoshka_dims entry "
            f"must be at most the model's embedding size ({embeddings.shape[-1]})."
        )
    return F.normalize(embeddings[..., :dim], p=2, dim=-1)


@contextmanager
def replaced_forward(model: nn.Module, make_replacement):
    """Within the block, ``model(...)`` calls ``make_replacement(model.forward)``; afterwards the old forward
    is back."""
    own = vars(model).get("forward")
    replacement = make_replacement(model.forward)
    model.forward = replacement
    try:
        yield replacement
    finally:
        if own is not None:
            model.forward = own
        else:
            del model.forward


class _TruncatingForward:
    """Stands in for ``model.forward`` while a generic inner loss runs once per dimension.

    The first pass (largest dim) runs the real forwards and keeps them; the later passes replay the
    kept outputs in call order, so each column is encoded once, whatever the number of dims.
    """

    def __init__(self, forward) -> None:
        self.forward = forward
        self.outputs: list[dict[str, Tensor]] = []
        self.full: list[Tensor] = []
        self.dim: int | None = None
        self.filling = True
        self.index = 0

    def start(self, dim: int, first: bool) -> None:
        self.dim, self.filling, self.index = dim, first, 0

    def __call__(self, features: dict[str, Tensor], *args, **kwargs) -> dict[str, Tensor]:
        if self.filling:
            output = self.forward(features, *args, **kwargs)
            self.outputs.append(output)
            self.full.append(output["sentence_embedding"])
        elif self.index >= len(self.outputs):
            raise RuntimeError("MatryoshkaLoss: the inner loss called the model more often for a smaller dim.")
        output, full = self.outputs[self.index], self.full[self.index]
        self.index += 1
        return {**output, "sentence_embedding": shrink(full, self.dim)}


class MatryoshkaLoss(EmbeddingLoss):
    r"""Train every prefix of the embedding to work on its own, so that embeddings can be truncated later.

    .. math::
        L = \sum_{d \in \mathcal{D}} w_d \;
        L_{\text{inner}}\Big(\big[\,\tfrac{e_c[:d]}{\lVert e_c[:d] \rVert}\,\big]_{c},\ y_d\Big)

    over the columns' embeddings :math:`e_c`, a **weighted sum** (not a mean) over the dims
    :math:`\mathcal{D}` (all of them, or ``n_dims_per_step`` drawn at random each step). Every prefix is
    re-normalised, the full dim too, so a dot-product inner loss sees unit vectors. :math:`y_d` is the
    label; teacher embeddings (labels whose last size equals the model's dimension) are cut to
    their first ``d`` components **without** re-normalisation.

    Args:
        model: the embedding model (lossbook ``EmbeddingModel`` or a ``SentenceTransformer``).
        loss: the loss to apply at each dim: any lossbook loss that works on embeddings, a cached
            (GradCache) loss, or any ``nn.Module`` loss that embeds with ``model(features)``.
        matryoshka_dims: the prefix sizes, e.g. ``[768, 512, 256, 128, 64]``, in any order (they are
            sorted descending, together with their weights). Include the full dimension.
        matryoshka_weights: one weight per dim, 1 by default.
        n_dims_per_step: when > 0, only that many dims (drawn with Python's ``random``) per step.

    Inputs:
        whatever the inner loss takes, labels included.

    Relations:
        :class:`AdaptiveLayerLoss` does the same along the layers; :class:`Matryoshka2dLoss` combines
        both. Use ``model.encode(texts, dim=d)`` to embed with a prefix at inference time.

    Notes:
        * With a cached loss (e.g. :class:`CachedMultipleNegativesRankingLoss`) the truncation happens
          on the cached mini-batch embeddings: the result equals Matryoshka over the uncached loss.
        * Each column is encoded once, whatever the number of dims.
        * A dim listed twice is trained twice per step (its weight doubled), as in sentence-transformers;
          lossbook warns when it sees one.
        * Losses that compare against their own full-size copy of the model or decode from the
          embedding (ContrastiveTension*, DenoisingAutoEncoderLoss) cannot be truncated and are refused.

    Example:
        >>> inner = MultipleNegativesRankingLoss(model)
        >>> loss = MatryoshkaLoss(model, inner, [384, 256, 128, 64])
        >>> loss([model.tokenize(anchors), model.tokenize(positives)])  # doctest: +SKIP

    Reference:
        Kusupati et al., "Matryoshka Representation Learning", NeurIPS 2022 (arXiv 2205.13147).
    """

    formats = (FORMATS["any"],)
    commonly_used = (FORMATS["any"],)

    def __init__(
        self,
        model: nn.Module,
        loss: nn.Module,
        matryoshka_dims: Sequence[int],
        matryoshka_weights: Sequence[float] | Sequence[int] | None = None,
        n_dims_per_step: int = -1,
    ) -> None:
        super().__init__(model)
        self.loss = loss
        if not matryoshka_dims:
            raise ValueError("matryoshka_dims must hold at least one dimension, e.g. [384, 256, 128, 64].")
        if any(isinstance(d, bool) or not isinstance(d, int) or d <= 0 for d in matryoshka_dims):
            raise ValueError(f"Every entry of matryoshka_dims must be a positive int; got {list(matryoshka_dims)}.")
        repeated = sorted({d for d in matryoshka_dims if list(matryoshka_dims).count(d) > 1})
        if repeated:
            # Kept, as in sentence-transformers: each repeat is one more term of the sum (a doubled weight).
            warnings.warn(
                f"matryoshka_dims {list(matryoshka_dims)} repeat {repeated}: each repeat adds the loss at that dim "
                "once more per step (as in sentence-transformers), i.e. weighs it double. Remove the repeat, and "
                "set matryoshka_weights to weigh a dim more.",
                UserWarning,
                stacklevel=2,
            )
        if matryoshka_weights is None:
            matryoshka_weights = [1] * len(matryoshka_dims)
        elif len(matryoshka_weights) != len(matryoshka_dims):
            raise ValueError(
                f"matryoshka_weights has {len(matryoshka_weights)} entries but matryoshka_dims has "
                f"{len(matryoshka_dims)}; give one weight per dim."
            )
        self.model_dim = model_dimension(model)
        if self.model_dim is not None:
            too_large = [d for d in matryoshka_dims if d > self.model_dim]
            if too_large:
                raise ValueError(
                    f"matryoshka_dims {too_large} exceed the model's embedding dimension ({self.model_dim}); "
                    f"use dims between 1 and {self.model_dim}."
                )
            if self.model_dim not in matryoshka_dims:
                logger.warning(
                    "matryoshka_dims %s do not include the model's full dimension %d, so the untruncated embedding "
                    "is not trained; add %d unless you will always truncate.",
                    list(matryoshka_dims),
                    self.model_dim,
                    self.model_dim,
                )
        inner_path = embedding_path_of(loss)
        if isinstance(loss, EmbeddingLoss) and inner_path is EmbeddingPath.OWN_FORWARD:
            raise TypeError(
                f"MatryoshkaLoss cannot truncate the embeddings of {type(loss).__name__}: it reads token ids or "
                "layers, or compares against a full-size copy of the model. For layers and dims together use "
                "Matryoshka2dLoss / AdaptiveLayerLoss(model, MatryoshkaLoss(model, loss, dims))."
            )
        pairs = sorted(zip(matryoshka_dims, matryoshka_weights), key=lambda pair: pair[0], reverse=True)
        self.matryoshka_dims: tuple[int, ...] = tuple(d for d, _ in pairs)
        self.matryoshka_weights: tuple[float, ...] = tuple(w for _, w in pairs)
        self.n_dims_per_step = n_dims_per_step
        # Truncating keeps the inner loss's way of getting embeddings (a loss from elsewhere: through
        # model.forward, so a modifier around this one goes through model.forward as well).
        self.embedding_path = inner_path

    def sampled_dims(self) -> list[tuple[int, float]]:
        """The (dim, weight) pairs of this step, largest dim first."""
        indices = range(len(self.matryoshka_dims))
        if 0 < self.n_dims_per_step < len(indices):
            indices = sorted(random.sample(indices, self.n_dims_per_step))
        return [(self.matryoshka_dims[i], self.matryoshka_weights[i]) for i in indices]

    def labels_for_dim(self, labels: Any, dim: int) -> Any:
        """Teacher embeddings are cut to the same prefix as the student's (not re-normalised)."""
        if isinstance(labels, Tensor) and labels.dim() in (2, 3) and labels.shape[-1] == self.model_dim:
            return labels[..., :dim]
        return labels

    def forward(
        self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None, loss_on_embeddings=None
    ) -> Tensor:
        sentence_features = list(sentence_features)
        if self.embedding_path.takes_loss_on_embeddings:
            # The maths of a modifier around this one (which calls ours per variant), or ours.
            maths = loss_on_embeddings or self.compute_loss_from_embeddings
            return self.loss(sentence_features, labels, loss_on_embeddings=maths)
        if self.embedding_path.embeds_then_computes:
            return self.compute_loss_from_embeddings(self.loss.embed(sentence_features), labels)
        return self._forward_through_model(sentence_features, labels)

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor | None) -> Tensor:
        total = None
        for dim, weight in self.sampled_dims():
            value = self.loss.compute_loss_from_embeddings(
                [shrink(e, dim) for e in embeddings], self.labels_for_dim(labels, dim)
            )
            total = weight * as_scalar(value) if total is None else total + weight * as_scalar(value)
        return total

    def _forward_through_model(self, sentence_features: list[dict[str, Tensor]], labels: Tensor | None) -> Tensor:
        with replaced_forward(self.model, _TruncatingForward) as truncating:
            total = None
            for position, (dim, weight) in enumerate(self.sampled_dims()):
                truncating.start(dim, first=position == 0)
                value = as_scalar(self.loss(sentence_features, self.labels_for_dim(labels, dim)))
                total = weight * value if total is None else total + weight * value
        return total

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "loss": type(self.loss).__name__,
            "matryoshka_dims": self.matryoshka_dims,
            "matryoshka_weights": self.matryoshka_weights,
            "n_dims_per_step": self.n_dims_per_step,
        }

    @property
    def citation(self) -> str:
        return """
@misc{kusupati2024matryoshka,
    title={Matryoshka Representation Learning},
    author={Aditya Kusupati and Gantavya Bhatt and Aniket Rege and Matthew Wallingford and Aditya Sinha and \
Vivek Ramanujan and William Howard-Snyder and Kaifeng Chen and Sham Kakade and Prateek Jain and Ali Farhadi},
    year={2024},
    eprint={2205.13147},
    archivePrefix={arXiv},
    primaryClass={cs.LG}
}
"""
