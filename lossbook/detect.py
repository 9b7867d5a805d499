"""Which row of the loss table does a data set belong to? ``detect_format`` answers and says why.

It follows sentence-transformers' column rules: the first column named ``label``, ``labels``,
``score`` or ``scores`` is the label; every other column is an input, in order, whatever its name.
Then it looks at the number of inputs and at the label values. Where two formats fit equally well
(0/1 labels on pairs are both "binary pairs" and "two classes"), it picks one, lists the other as an
alternative and says so; where the data is broken (no text inputs, numbers in an input column), it
raises a ``FormatError`` that explains, instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import datasets

from lossbook.formats import FORMATS, LABEL_COLUMNS, Format

__all__ = ["Detection", "FormatError", "detect_format", "as_dataset", "label_column_of"]

# Enough rows to judge label kinds and duplicates without reading a large set in full.
_SAMPLE_ROWS = 2000
# A teacher embedding is a long vector; per-candidate teacher scores or margins are short.
_MIN_EMBEDDING_LENGTH = 8


class FormatError(ValueError):
    """The data set fits no format of the loss table; the message says what is wrong and how to fix it."""


@dataclass
class Detection:
    """The detected format, the column roles, and the reasons, readable as a short explanation."""

    format: Format
    input_columns: list[str]
    label_column: str | None
    reasons: list[str] = field(default_factory=list)
    alternatives: list[Format] = field(default_factory=list)

    def explain(self) -> str:
        lines = [f"Format: {self.format.title}  [{self.format.key}]"]
        lines += [f"  - {reason}" for reason in self.reasons]
        if self.alternatives:
            lines.append("  Could also be: " + "; ".join(f"{alt.title} [{alt.key}]" for alt in self.alternatives))
        return "\n".join(lines)

    __str__ = explain


def as_dataset(data) -> datasets.Dataset:
    """Accept a ``datasets.Dataset`` or a dict of equal-length lists; refuse a DatasetDict with advice."""
    if isinstance(data, datasets.Dataset):
        return data
    if isinstance(data, datasets.DatasetDict):
        raise FormatError(
            f"Got a DatasetDict with splits {list(data)}; pick one split, e.g. dataset['{next(iter(data), 'train')}']."
        )
    if isinstance(data, Mapping):
        return _dataset_from_columns(dict(data))
    raise TypeError(f"Expected a datasets.Dataset or a dict of columns, got {type(data).__name__}.")


def _dataset_from_columns(columns: dict) -> datasets.Dataset:
    """A Dataset from ``{name: list of values}``, refusing what pyarrow would reject several frames deep."""
    for name, values in columns.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
            raise FormatError(
                f"Column {name!r} holds a single {type(values).__name__}, not a list of values (one per row); "
                f"wrap it: {{{name!r}: [...]}}."
            )
    lengths = {name: len(values) for name, values in columns.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name!r}: {length}" for name, length in lengths.items())
        raise FormatError(
            f"Every column needs one value per row, but the columns have different lengths ({shown}). "
            "Make them equally long (each row is one example)."
        )
    try:
        return datasets.Dataset.from_dict(columns)
    except (ValueError, TypeError) as error:  # pyarrow's ArrowInvalid / ArrowTypeError: mixed kinds in one column
        for name, values in columns.items():
            kinds = sorted({type(value).__name__ for value in values if value is not None})
            if len(kinds) > 1:
                raise FormatError(
                    f"Column {name!r} mixes kinds of values ({', '.join(kinds)}); a column holds one kind. "
                    "Convert them, e.g. texts with str(), labels with int() or float()."
                ) from None
        raise FormatError(f"The columns cannot form a table: {str(error).splitlines()[0]}") from None


def label_column_of(column_names: list[str]) -> str | None:
    """The column sentence-transformers' collator takes as the label (the first of label/labels/score/scores)."""
    return next((name for name in column_names if name in LABEL_COLUMNS), None)


def detect_format(data) -> Detection:
    """Detect the loss-table format of a data set and explain the decision.

    Args:
        data: a ``datasets.Dataset`` (one split) or a dict of columns.

    Returns:
        A ``Detection`` with ``.format`` (a ``Format``), ``.input_columns``, ``.label_column``,
        ``.reasons`` and ``.alternatives``; ``print(detection)`` shows the explanation.

    Raises:
        FormatError: the data set is empty, has no text inputs, or a non-text column would be fed to
            the model as an input.
    """
    dataset = as_dataset(data)
    if len(dataset) == 0:
        raise FormatError("The data set has no rows.")
    columns = list(dataset.column_names)
    label_column = label_column_of(columns)
    inputs = [name for name in columns if name != label_column]
    reasons = []
    if label_column:
        reasons.append(
            f"'{label_column}' is the label column "
            f"(sentence-transformers takes the first of {', '.join(LABEL_COLUMNS)})"
        )
    else:
        reasons.append(f"no label column (none is named {', '.join(LABEL_COLUMNS)})")
    if not inputs:
        raise FormatError(f"The data set has no input columns, only the label column {label_column!r}.")
    _refuse_non_text_inputs(dataset, inputs, label_column)
    reasons.append(f"{len(inputs)} input column(s), in order: {', '.join(inputs)}")

    sample = dataset.select(range(min(len(dataset), _SAMPLE_ROWS)))
    if label_column is None:
        fmt, more, alternatives = _without_label(sample, inputs)
    else:
        fmt, more, alternatives = _with_label(dataset, sample, inputs, label_column)
    return Detection(fmt, inputs, label_column, reasons + more, alternatives)


def _refuse_non_text_inputs(dataset: datasets.Dataset, inputs: list[str], label_column: str | None) -> None:
    not_text = [
        name for name in inputs if getattr(dataset.features[name], "dtype", None) not in ("string", "large_string")
    ]
    if not not_text:
        return
    kinds = ", ".join(f"'{name}' ({_kind(dataset.features[name])})" for name in not_text)
    label_hint = (
        ""
        if label_column
        else (
            " If one of them is the label, rename it to 'label' (classes, 0/1) or 'score' (floats): "
            f"dataset.rename_column('{not_text[0]}', 'label')."
        )
    )
    raise FormatError(
        f"Every column except the label is fed to the model as text, but {kinds} is not text. "
        f"Drop it with dataset.remove_columns({not_text!r}).{label_hint}"
    )


def _kind(feature) -> str:
    return getattr(feature, "dtype", None) or type(feature).__name__


def _without_label(sample: datasets.Dataset, inputs: list[str]) -> tuple[Format, list[str], list[Format]]:
    n = len(inputs)
    if n == 1:
        return FORMATS["sentences"], ["one text column and no labels: plain sentences"], []
    if n >= 4:
        return FORMATS["n-tuple"], [f"{n} text columns: anchor, positive and {n - 2} negatives"], []
    if n == 3:
        return FORMATS["triplet"], ["three text columns: anchor, positive, negative"], [FORMATS["n-tuple"]]
    first, second = list(sample[inputs[0]]), list(sample[inputs[1]])
    identical = sum(a == b for a, b in zip(first, second)) / len(first)
    # Contrastive Tension data pairs a sentence with itself in 1 of every ~8 rows; other pair data never does.
    if identical >= 0.1:
        return FORMATS["anchor-anchor"], [f"{identical:.0%} of the pairs are the same text twice"], []
    damaged = sum(_is_damaged_copy(a, b) for a, b in zip(first, second)) / len(first)
    if damaged >= 0.8:
        return (
            FORMATS["damaged-original"],
            [f"in {damaged:.0%} of the pairs the first text is the second with words deleted"],
            [],
        )
    reasons = ["two text columns and no labels: (anchor, positive) pairs; other rows' positives act as negatives"]
    return FORMATS["pair"], reasons, []


def _is_damaged_copy(damaged: str, original: str) -> bool:
    """True when ``damaged`` is ``original`` with some words deleted (an ordered sub-sequence, shorter)."""
    kept, words = damaged.split(), iter(original.split())
    return 0 < len(kept) < len(original.split()) and all(word in words for word in kept)


def _with_label(
    dataset: datasets.Dataset, sample: datasets.Dataset, inputs: list[str], label_column: str
) -> tuple[Format, list[str], list[Format]]:
    n = len(inputs)
    feature = sample.features[label_column]
    if isinstance(feature, (datasets.Sequence, datasets.List)) or not hasattr(feature, "dtype"):
        return _vector_label(sample, inputs, label_column)
    values = list(dataset[label_column])  # all labels: a class that only appears late must still count
    if str(feature.dtype) in ("string", "large_string"):
        names = sorted({str(v) for v in values if v is not None})
        shown = ", ".join(repr(name) for name in names[:5]) + (" ..." if len(names) > 5 else "")
        raise FormatError(
            f"The label column {label_column!r} holds text ({shown}); losses take numbers: class ids or scores. "
            f"Turn class names into ids 0..K-1: dataset = dataset.class_encode_column({label_column!r}) (a Dataset), "
            f"or map them with {{name: i for i, name in enumerate(sorted(set(labels)))}}."
        )
    # Missing labels (None, NaN) say nothing about the kind of label; check() reports them.
    values = [v for v in values if v is not None and v == v]
    if not values:
        raise FormatError(
            f"Every value of the label column {label_column!r} is missing (None or NaN): "
            "there is nothing to learn from."
        )
    integer = str(feature.dtype).startswith(("int", "uint", "bool")) or all(float(v).is_integer() for v in values)
    distinct = sorted(set(values))
    shown = ", ".join(str(v) for v in distinct[:8]) + (" ..." if len(distinct) > 8 else "")
    if n >= 3:
        reason = f"{n} text columns with one number per row ({shown}): (query, passage_one, passage_two) + margin"
        return FORMATS["triplet-margin"], [reason], []
    binary = set(distinct) <= {0, 1}
    if n == 1:
        if integer:
            return FORMATS["sentence-class"], [f"one text column with {len(distinct)} integer classes ({shown})"], []
        raise FormatError(
            f"One text column with float labels ({shown}) fits no loss of the table: single sentences take integer "
            "class ids. If these are classes, cast them: dataset.cast_column('label', datasets.Value('int64'))."
        )
    if binary:
        reasons = [f"two text columns and labels {shown}: 1 = match, 0 = no match"]
        integer_dtype = str(feature.dtype).startswith(("int", "uint", "bool"))
        return FORMATS["pair-binary"], reasons, [FORMATS["pair-class"] if integer_dtype else FORMATS["pair-score"]]
    if integer and str(feature.dtype).startswith(("int", "uint")):
        return FORMATS["pair-class"], [f"two text columns with {len(distinct)} integer classes ({shown})"], []
    reasons = [f"two text columns with float scores from {min(values):g} to {max(values):g}"]
    return FORMATS["pair-score"], reasons, ([FORMATS["pair-class"]] if integer else [])


def _vector_label(
    sample: datasets.Dataset, inputs: list[str], label_column: str
) -> tuple[Format, list[str], list[Format]]:
    n = len(inputs)
    first = sample[0][label_column]
    nested = bool(first) and isinstance(first[0], (list, tuple))
    length = len(first[0]) if nested else len(first)
    if nested or length >= _MIN_EMBEDDING_LENGTH and length not in (n - 1, n - 2):
        key = "sentence-teacher-embedding" if n == 1 else "sentences-teacher-embedding"
        return FORMATS[key], [f"the label is a vector of {length} numbers per row: a teacher model's embedding"], []
    if n >= 2 and length == n - 1:
        reason = f"{length} numbers per row, one per candidate column: teacher scores for (positive, negatives)"
        return FORMATS["n-tuple-teacher-scores"], [reason], [FORMATS["triplet-margin"]]
    if n >= 3 and length == n - 2:
        reason = f"{length} numbers per row, one per negative column: teacher margins (positive minus negative)"
        return FORMATS["triplet-margin"], [reason], []
    raise FormatError(
        f"The label holds {length} numbers per row and there are {n} input column(s); that matches no format. "
        f"Teacher embeddings need >= {_MIN_EMBEDDING_LENGTH} numbers, teacher scores one per candidate "
        f"({n - 1}), margins one per negative ({n - 2})."
    )
