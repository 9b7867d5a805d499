"""The converters as data: each declares the format it reads and the format it writes.

``@converter("pair-class", "triplet")`` registers a function; the conversion graph
(``reachable``) and the loss table (``losses_for(..., via_conversion=True)``) are built from these
declarations, so they list exactly the conversions that exist.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import datasets

from lossbook.detect import as_dataset, detect_format
from lossbook.formats import FORMATS, Format

__all__ = ["CONVERTERS", "Converter", "ConversionError", "converter", "reachable", "require_format"]


class ConversionError(ValueError):
    """The data cannot be converted as asked; the message says why and what would work."""


@dataclass(frozen=True)
class Converter:
    """A registered converter: its name, what it reads and writes, and whether it needs a model."""

    name: str
    source: Format
    target: Format
    function: Callable[..., datasets.Dataset]
    summary: str
    needs_model: bool = False

    def __call__(self, *args, **kwargs) -> datasets.Dataset:
        return self.function(*args, **kwargs)

    def __str__(self) -> str:
        model = " (needs a model)" if self.needs_model else ""
        return f"{self.name}: {self.source.title} -> {self.target.title}{model}"


CONVERTERS: dict[str, Converter] = {}
# A triplet is an n-tuple with one negative: converters that read n-tuples read triplets too.
_ALSO_READ_AS = {"triplet": ("n-tuple",)}


def converter(source: str, target: str, *, needs_model: bool = False):
    """Register a ``Dataset -> Dataset`` function as the converter from ``source`` to ``target``."""

    def register(function: Callable[..., datasets.Dataset]) -> Callable[..., datasets.Dataset]:
        summary = (function.__doc__ or "").strip().splitlines()[0]
        CONVERTERS[function.__name__] = Converter(
            function.__name__, FORMATS[source], FORMATS[target], function, summary, needs_model
        )
        function.source_format = FORMATS[source]
        function.target_format = FORMATS[target]
        return function

    return register


def reachable(fmt: Format | str, *, with_model: bool = True) -> dict[str, list[Converter]]:
    """Every format reachable from ``fmt`` and the shortest chain of converters to it.

    Args:
        fmt: the starting format (a ``Format`` or its key).
        with_model: include converters that need a model (hard-negative mining, teacher labels).

    Returns:
        ``{format key: [converter, ...]}``; the start itself maps to ``[]``.
    """
    start = fmt.key if isinstance(fmt, Format) else FORMATS[fmt].key
    paths: dict[str, list[Converter]] = {start: []}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        readable_as = {current, *_ALSO_READ_AS.get(current, ())}
        for conv in CONVERTERS.values():
            if conv.source.key in readable_as and conv.target.key not in paths and (with_model or not conv.needs_model):
                paths[conv.target.key] = paths[current] + [conv]
                queue.append(conv.target.key)
    return paths


def require_format(data, expected: str, converter_name: str) -> tuple[datasets.Dataset, list[str], str | None]:
    """Check the input of a converter; return the dataset, its input columns and its label column."""
    dataset = as_dataset(data)
    if len(dataset) == 0:
        raise ConversionError(f"{converter_name} got an empty data set.")
    detection = detect_format(dataset)
    fits = {detection.format.key, *(alt.key for alt in detection.alternatives)}
    if expected not in fits:
        raise ConversionError(
            f"{converter_name} reads '{FORMATS[expected].title}', but the data is '{detection.format.title}' "
            f"(columns {dataset.column_names}). " + _suggest(detection.format.key, expected)
        )
    return dataset, detection.input_columns, detection.label_column


def _suggest(have: str, want: str) -> str:
    path = reachable(have).get(want)
    if path:
        return "Convert it first with " + " then ".join(conv.name for conv in path) + "."
    return "No chain of converters leads there."


def rng(seed: int) -> random.Random:
    """A private random generator: converters never touch the global random state."""
    return random.Random(seed)
