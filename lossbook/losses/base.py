"""What every lossbook loss shares: embedding the columns, the calling convention, input checks.

A loss is a small ``nn.Module``:

* ``__init__(model, ...)`` with sentence-transformers' parameter names and defaults;
* ``forward(sentence_features, labels)`` embeds each column (``model(features)["sentence_embedding"]``)
  and calls ``compute_loss_from_embeddings(embeddings, labels)``, where the maths lives;
* ``formats``: the data formats it accepts (the loss table is built from these);
* ``get_config_dict()`` and ``citation``, as in sentence-transformers.

The model may be lossbook's ``EmbeddingModel`` or a ``sentence_transformers.SentenceTransformer``:
both map a tokenized column to a dict holding ``"sentence_embedding"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from lossbook.formats import Format

__all__ = [
    "EmbeddingLoss",
    "LossInputError",
    "UnsupportedModelError",
    "check_batch_size",
    "check_column_count",
    "check_labels_present",
]


class LossInputError(ValueError):
    """The batch does not fit the loss: wrong columns, labels or sizes. The message says how to fix it."""


class UnsupportedModelError(TypeError, ValueError):
    """The loss cannot work with this kind of model (no readable layers, no tokenizer, unsplittable inputs).

    Both a ``TypeError`` (what lossbook raised before) and a ``ValueError`` (what sentence-transformers
    raises for the same models), so code written against either library catches it.
    """


class EmbeddingLoss(nn.Module):
    """Base class of lossbook's losses: embed each column, then compute the loss from the embeddings."""

    #: The data formats this loss accepts; ``lossbook.table`` reads them.
    formats: ClassVar[tuple[Format, ...]] = ()
    #: Losses marked as commonly used for a format are listed first in the table.
    commonly_used: ClassVar[tuple[Format, ...]] = ()
    #: True for losses that read token ids or layers, not just sentence embeddings (they cannot be
    #: trained on cached embeddings).
    needs_tokens: ClassVar[bool] = False

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def embed(self, sentence_features: Iterable[dict[str, Tensor]]) -> list[Tensor]:
        """One ``(batch, dim)`` embedding tensor per input column."""
        return [self.model(features)["sentence_embedding"] for features in sentence_features]

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        return self.compute_loss_from_embeddings(self.embed(sentence_features), labels)

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor | None) -> Tensor:
        raise NotImplementedError

    def get_config_dict(self) -> dict[str, Any]:
        """The loss's hyper-parameters (shown in model cards and in the loss explorer)."""
        return {}

    @property
    def citation(self) -> str | None:
        return None

    def extra_repr(self) -> str:
        return ", ".join(f"{key}={value!r}" for key, value in self.get_config_dict().items())


def _format_names(formats: Sequence[Format]) -> str:
    return " or ".join(f"'{fmt.title}'" for fmt in formats)


def check_column_count(
    loss: nn.Module, embeddings: Sequence[Tensor], *, minimum: int, maximum: int | None = None, hint: str = ""
) -> None:
    """Raise a ``LossInputError`` naming the expected format when the number of columns is wrong."""
    n = len(embeddings)
    if n >= minimum and (maximum is None or n <= maximum):
        return
    expected = (
        f"{minimum}" if maximum == minimum else f"{minimum} or more" if maximum is None else f"{minimum} to {maximum}"
    )
    formats = getattr(loss, "formats", ())
    message = f"{type(loss).__name__} expects {expected} input column(s)"
    if formats:
        message += f" ({_format_names(formats)})"
    message += f", but got {n}."
    if hint:
        message += " " + hint
    raise LossInputError(message)


def check_labels_present(loss: nn.Module, labels: Tensor | None, *, what: str, hint: str = "") -> Tensor:
    """Raise when a loss that needs labels got none; return the labels as a tensor otherwise."""
    if labels is None:
        message = (
            f"{type(loss).__name__} needs labels ({what}) but got none. Give the data set a column named "
            "'label' or 'score'."
        )
        raise LossInputError(message + (" " + hint if hint else ""))
    return labels if isinstance(labels, Tensor) else torch.as_tensor(labels)


def check_batch_size(loss: nn.Module, embeddings: Sequence[Tensor], *, minimum: int, why: str) -> None:
    """Raise when the batch is too small for the loss to mean anything (e.g. in-batch negatives)."""
    batch = embeddings[0].shape[0] if embeddings else 0
    if batch < minimum:
        raise LossInputError(
            f"{type(loss).__name__} needs a batch of at least {minimum} rows ({why}); got {batch}. "
            "Increase the batch size."
        )
