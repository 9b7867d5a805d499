"""What every lossbook loss shares: embedding the columns, the calling convention, input checks.

A loss is a small ``nn.Module``:

* ``__init__(model, ...)`` with sentence-transformers' parameter names and defaults;
* ``forward(sentence_features, labels)`` embeds each column (``model(features)["sentence_embedding"]``)
  and calls ``compute_loss_from_embeddings(embeddings, labels)``, where the maths lives;
* ``formats``: the data formats it accepts (the loss table is built from these, and so are the checks);
* ``get_config_dict()`` and ``citation``, as in sentence-transformers.

Checks, then the formula
------------------------
A loss's ``compute_loss_from_embeddings`` holds its formula and nothing else: ``EmbeddingLoss.__init_subclass__``
wraps the one each subclass defines (or takes from a mixin) so that ``self.check_inputs(embeddings, labels)``
runs first and the formula receives the labels it returns. Every way into the maths goes through the wrapper:
``forward``, ``lossbook.step`` for plain losses, a modifier calling its inner loss, a test calling it directly
with a wrong batch. Wrapping (rather than a public method calling a differently named formula) keeps the maths
under the name sentence-transformers and the notebooks use; ``inspect.getsource`` shows the formula.

``check_inputs`` reads the declared ``formats``:

* the number of columns must fit one of them (``check_columns``; it works on tokenized columns too, so
  a loss can reject a batch before embedding it);
* the labels must be what the matching format's ``LabelKind`` says (``check_labels``): one integer class
  id per row (``CLASS``), one value in [0, 1] per pair (``BINARY``) or one number per pair (``SCORE``), and
  the formula gets them as a flat tensor on the embeddings' device. Other kinds reach it as given.

``column_hint`` and ``label_hint`` end the messages with how to fix the data. A loss with a rule of its own
overrides ``check_labels`` (teacher shapes, a range, a warning) or ``check_inputs`` (rows per column), calling
``super()`` for the rest. The checks are idempotent, so a subclass whose maths calls ``super()``'s is
checked twice, harmlessly.

The model may be lossbook's ``EmbeddingModel`` or a ``sentence_transformers.SentenceTransformer``:
both map a tokenized column to a dict holding ``"sentence_embedding"``.

How ``lossbook.train`` runs a loss is decided by one class attribute, ``embedding_path`` (an
``EmbeddingPath``), and nothing else:

* ``GIVEN`` (the default): all the maths is in ``compute_loss_from_embeddings``, so ``train`` embeds the
  columns as it likes (all texts of a step in length-sorted chunks; with ``freeze_encoder=True``, from a
  cache of frozen-transformer outputs) and calls it. Modifiers embed once and call it per variant.
* ``GRADIENT_CACHE``: the loss embeds in mini-batches without a graph and replays the backward itself
  (``lossbook.losses.cached``); ``train`` calls its ``forward``, modifiers hand it their maths as
  ``forward(features, labels, loss_on_embeddings=...)``; ``freeze_encoder=True`` needs no cache.
* ``WITH_GUIDE``: the loss also embeds the texts with a guide model (GISTEmbed); ``train`` calls its
  ``forward``; modifiers call its ``embed`` (which embeds with both) and then the maths per variant.
* ``GRADIENT_CACHE_WITH_GUIDE``: both of the above (CachedGISTEmbed).
* ``OWN_FORWARD``: the loss reads token ids or layers, or keeps its own copy of the model (contrastive
  tension, denoising auto-encoder, adaptive layers); only its ``forward`` can compute it.

A subclass that overrides ``forward`` or ``embed`` and declares nothing gets ``OWN_FORWARD``, so that
``train`` never goes around code it wrote.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from lossbook.formats import Format, LabelKind

__all__ = [
    "EmbeddingLoss",
    "EmbeddingPath",
    "LossInputError",
    "UnsupportedModelError",
    "check_batch_size",
    "check_column_count",
    "check_label_count",
    "check_labels_present",
    "column_bounds",
    "embedding_path_of",
]


class LossInputError(ValueError):
    """The batch does not fit the loss: wrong columns, labels or sizes. The message says how to fix it."""


class UnsupportedModelError(TypeError, ValueError):
    """The loss cannot work with this kind of model (no readable layers, no tokenizer, unsplittable inputs).

    Both a ``TypeError`` (what lossbook raised before) and a ``ValueError`` (what sentence-transformers
    raises for the same models), so code written against either library catches it.
    """


class EmbeddingPath(enum.Enum):
    """How a loss gets its embeddings (see the module docstring); ``train`` and modifiers read only this."""

    GIVEN = "from the embeddings it is given"
    GRADIENT_CACHE = "through a gradient cache"
    WITH_GUIDE = "with a guide model"
    GRADIENT_CACHE_WITH_GUIDE = "through a gradient cache, with a guide model"
    OWN_FORWARD = "from token ids or layers, in its own forward"

    @property
    def embeds_any_way(self) -> bool:
        """``train`` may embed the columns itself (length-sorted chunks) and call the maths."""
        return self is EmbeddingPath.GIVEN

    @property
    def trains_on_cached_embeddings(self) -> bool:
        """``freeze_encoder=True`` works: the maths needs nothing but (cached) sentence embeddings."""
        return self in (EmbeddingPath.GIVEN, EmbeddingPath.GRADIENT_CACHE)

    @property
    def takes_loss_on_embeddings(self) -> bool:
        """``forward(features, labels, loss_on_embeddings=maths)`` runs a modifier's maths inside the cache."""
        return self in (EmbeddingPath.GRADIENT_CACHE, EmbeddingPath.GRADIENT_CACHE_WITH_GUIDE)

    @property
    def embeds_then_computes(self) -> bool:
        """``embed(features)`` then ``compute_loss_from_embeddings`` is the whole loss (modifiers use this)."""
        return self is not EmbeddingPath.OWN_FORWARD


def embedding_path_of(loss: nn.Module) -> EmbeddingPath:
    """The loss's declared ``embedding_path``; a loss from elsewhere (sentence-transformers) runs its own forward."""
    return getattr(loss, "embedding_path", EmbeddingPath.OWN_FORWARD)


class EmbeddingLoss(nn.Module):
    """Base class of lossbook's losses: embed each column, then compute the loss from the embeddings."""

    #: The data formats this loss accepts; ``lossbook.table`` reads them.
    formats: ClassVar[tuple[Format, ...]] = ()
    #: Losses marked as commonly used for a format are listed first in the table.
    commonly_used: ClassVar[tuple[Format, ...]] = ()
    #: How the loss gets its embeddings, the one thing ``train`` reads to decide how to run it.
    embedding_path: ClassVar[EmbeddingPath] = EmbeddingPath.GIVEN
    #: Ends the message about a wrong number of columns: how to get the right ones.
    column_hint: ClassVar[str] = ""
    #: Ends the messages about wrong or missing labels: where the right ones come from.
    label_hint: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Own code in forward/embed with nothing declared: train() must call that code, not go around it.
        if "embedding_path" not in cls.__dict__ and ("forward" in cls.__dict__ or "embed" in cls.__dict__):
            cls.embedding_path = EmbeddingPath.OWN_FORWARD
        # The maths the subclass defines, or takes from a mixin, runs behind check_inputs (see the module docstring).
        maths = cls.compute_loss_from_embeddings
        if not getattr(maths, "checks_inputs", False):
            cls.compute_loss_from_embeddings = _behind_checks(maths)

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def embed(self, sentence_features: Iterable[dict[str, Tensor]]) -> list[Tensor]:
        """One ``(batch, dim)`` embedding tensor per input column."""
        return [self.model(features)["sentence_embedding"] for features in sentence_features]

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        return self.compute_loss_from_embeddings(self.embed(sentence_features), labels)

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor | None = None) -> Tensor:
        """The loss from one ``(batch, dim)`` tensor per column (a subclass's, behind ``check_inputs``)."""
        raise NotImplementedError(f"{type(self).__name__} does not define compute_loss_from_embeddings.")

    compute_loss_from_embeddings.checks_inputs = True  # nothing to check in front of an error

    # -- input checks (see the module docstring) ----------------------------------------------------
    def check_inputs(self, embeddings: Sequence[Tensor], labels: Any) -> Any:
        """Raise a ``LossInputError`` saying how to fix the batch; return the labels as the formula reads them."""
        self.check_columns(embeddings)
        return self.check_labels(embeddings, labels)

    def check_columns(self, columns: Sequence[Any]) -> None:
        """The number of columns (embeddings or tokenized features) must fit one of the declared formats."""
        minimum, maximum = column_bounds(self.formats)
        check_column_count(self, columns, minimum=minimum, maximum=maximum, hint=self.column_hint)

    def format_for(self, columns: int) -> Format | None:
        """The first declared format that takes this many columns (the one whose labels are expected)."""
        return next((fmt for fmt in self.formats if fmt.accepts_column_count(columns)), None)

    def check_labels(self, embeddings: Sequence[Tensor], labels: Any) -> Any:
        """Class ids, binary labels and scores: one per row, as a flat tensor (``long`` ids, float otherwise)."""
        fmt = self.format_for(len(embeddings))
        if fmt is None or fmt.label not in _ONE_PER_ROW:
            return labels
        noun, row, what = _ONE_PER_ROW[fmt.label]
        labels = check_labels_present(self, labels, what=what, hint=self.label_hint)
        check_label_count(self, labels, embeddings[0].shape[0], noun=noun, row=row)
        labels = labels.reshape(-1).to(embeddings[0].device)
        if fmt.label is LabelKind.CLASS:
            return _class_ids(self, labels, fmt, self.label_hint)
        if fmt.label is LabelKind.BINARY and labels.numel() and (labels.min() < 0 or labels.max() > 1):
            raise LossInputError(
                f"{type(self).__name__} needs labels in [0, 1] (1 = match, 0 = no match), got values from "
                f"{labels.min().item():g} to {labels.max().item():g}. Map -1/+1 labels to 0/1. " + self.label_hint
            )
        return labels if labels.is_floating_point() else labels.float()

    def get_config_dict(self) -> dict[str, Any]:
        """The loss's hyper-parameters (shown in model cards and in the loss explorer)."""
        return {}

    @property
    def citation(self) -> str | None:
        return None

    def extra_repr(self) -> str:
        return ", ".join(f"{key}={value!r}" for key, value in self.get_config_dict().items())


def _behind_checks(maths: Callable[..., Any]) -> Callable[..., Any]:
    """``maths`` (a loss's formula) called with the labels that ``check_inputs`` returns."""

    @functools.wraps(maths)
    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Any = None, *args: Any, **kwargs: Any):
        return maths(self, embeddings, self.check_inputs(embeddings, labels), *args, **kwargs)

    compute_loss_from_embeddings.checks_inputs = True
    return compute_loss_from_embeddings


# Label kinds with one value per row: what the values are called, what a row is, what the loss needs.
_ONE_PER_ROW = {
    LabelKind.CLASS: ("class ids", "row", "an integer class id per row"),
    LabelKind.BINARY: ("labels", "pair", "1 for a matching pair, 0 otherwise"),
    LabelKind.SCORE: ("scores", "pair", "a float similarity score per pair"),
}


def _format_names(formats: Sequence[Format]) -> str:
    return " or ".join(f"'{fmt.title}'" for fmt in formats)


def column_bounds(formats: Sequence[Format]) -> tuple[int, int | None]:
    """The fewest and most columns (None: no limit) that any of the formats takes; always at least one."""
    if not formats:
        return 1, None
    maxima = [fmt.max_columns for fmt in formats]
    return max(1, min(fmt.min_columns for fmt in formats)), None if None in maxima else max(maxima)


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
    message = f"{type(loss).__name__} expects {expected} input column{'' if maximum == minimum == 1 else 's'}"
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


def check_label_count(
    loss: nn.Module, labels: Tensor, batch: int, *, noun: str = "labels", row: str = "pair", alternative: str = ""
) -> None:
    """Raise unless there is one label per row: ``"CoSENTLoss expects 4 scores (one per pair), got 3 ..."``."""
    if labels.numel() != batch:
        raise LossInputError(
            f"{type(loss).__name__} expects {batch} {noun} (one per {row}){alternative}, got {labels.numel()} with "
            f"shape {tuple(labels.shape)}."
        )


def _class_ids(loss: nn.Module, labels: Tensor, fmt: Format, hint: str) -> Tensor:
    if labels.is_floating_point() or labels.is_complex():
        raise LossInputError(
            f"{type(loss).__name__} needs integer class ids (format '{fmt.key}'), but got {labels.dtype} labels. "
            "Whole numbers stored as floats: cast them with labels.long(); similarity scores: use a 'pair-score' "
            "loss such as CoSENTLoss. " + hint
        )
    return labels.long()


def check_batch_size(loss: nn.Module, embeddings: Sequence[Tensor], *, minimum: int, why: str) -> None:
    """Raise when the batch is too small for the loss to mean anything (e.g. in-batch negatives)."""
    batch = embeddings[0].shape[0] if embeddings else 0
    if batch < minimum:
        raise LossInputError(
            f"{type(loss).__name__} needs a batch of at least {minimum} rows ({why}); got {batch}. "
            "Increase the batch size."
        )
