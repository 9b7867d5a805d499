"""The loss table as data, built from what each loss and each converter declares.

``losses_for(format)`` lists the losses that accept a data format, commonly used first;
``losses_for(format, via_conversion=True)`` adds the losses that become possible after converting
the data, each with the chain of converters that opens it. ``render_table()`` prints the table in
the layout of sentence-transformers' loss overview.

This module sits above the losses and the converters (it reads their declarations), so the table,
the losses and the converters can never disagree.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field

import datasets

from lossbook.convert import Converter, reachable
from lossbook.detect import Detection, detect_format
from lossbook.formats import FORMATS, Format

__all__ = ["LossOption", "all_losses", "losses_for", "modifiers", "regularizers", "render_table", "TABLE_SECTIONS"]

# Row order and sections of sentence-transformers' loss overview, plus the rows added since.
TABLE_SECTIONS = {
    "Losses by data format": [
        "sentence-class",
        "sentences",
        "anchor-anchor",
        "damaged-original",
        "pair-class",
        "pair",
        "pair-binary",
        "pair-score",
        "triplet",
        "n-tuple",
    ],
    "Distillation": [
        "sentence-teacher-embedding",
        "sentences-teacher-embedding",
        "triplet-margin",
        "n-tuple-teacher-scores",
    ],
}
_DOCS_DISAGREE = (
    "sentence-transformers' docs table lists ContrastiveTensionLoss for single sentences and "
    "ContrastiveTensionLossInBatchNegatives for (anchor, anchor) pairs; its code (6.2) takes them the other way "
    "round, and this table follows the code. The converters sentences_to_anchor_pairs and "
    "anchor_pairs_to_sentences bridge the two."
)


@dataclass(frozen=True)
class LossOption:
    """A loss that fits a format, directly (``converters == []``) or after the listed conversions."""

    loss: type
    format: Format
    converters: list[Converter] = field(default_factory=list)

    @property
    def direct(self) -> bool:
        return not self.converters

    @property
    def commonly_used(self) -> bool:
        return self.format in getattr(self.loss, "commonly_used", ())

    def __str__(self) -> str:
        if self.direct:
            return self.loss.__name__
        return f"{self.loss.__name__} (after {' -> '.join(conv.name for conv in self.converters)})"


def all_losses() -> list[type]:
    """Every loss class lossbook exports, in ``lossbook.losses.__all__`` order."""
    from lossbook import losses

    classes = [getattr(losses, name) for name in losses.__all__]
    return [cls for cls in classes if inspect.isclass(cls) and getattr(cls, "formats", ())]


def _wraps_a_loss(cls: type) -> bool:
    return "loss" in inspect.signature(cls.__init__).parameters


def modifiers() -> list[type]:
    """Losses that wrap another loss and work with any format (Matryoshka, AdaptiveLayer, ...)."""
    return [cls for cls in all_losses() if FORMATS["any"] in cls.formats and _wraps_a_loss(cls)]


def regularizers() -> list[type]:
    """Losses that work on any format and are added to a main loss (GlobalOrthogonalRegularization)."""
    return [cls for cls in all_losses() if FORMATS["any"] in cls.formats and not _wraps_a_loss(cls)]


def _format(fmt) -> Format:
    """A ``Format`` from a Format, its key, a ``Detection``, or data (a Dataset or a dict of columns) to detect."""
    if isinstance(fmt, Format):
        return fmt
    if isinstance(fmt, Detection):
        return fmt.format
    if isinstance(fmt, str):
        if fmt in FORMATS:
            return FORMATS[fmt]
        close = difflib.get_close_matches(fmt, list(FORMATS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"Unknown format {fmt!r}.{hint} Known formats: {', '.join(FORMATS)}.")
    if isinstance(fmt, (datasets.Dataset, Mapping)):
        return detect_format(fmt).format
    raise TypeError(
        "Expected a data format: a Format, its key (e.g. 'pair-score'), a Detection from detect_format(data), or the "
        f"data itself (a datasets.Dataset or a dict of columns); got {type(fmt).__name__}. "
        f"Known formats: {', '.join(FORMATS)}."
    )


def _direct(fmt: Format) -> list[type]:
    fitting = [cls for cls in all_losses() if fmt in cls.formats and fmt.key != "any"]
    # Commonly used first; otherwise the export order, which groups each family.
    return sorted(fitting, key=lambda cls: fmt not in getattr(cls, "commonly_used", ()))


def losses_for(fmt, *, via_conversion: bool = False, with_model: bool = True):
    """The losses for a data format.

    Args:
        fmt: a ``Format``, its key (``"pair-score"``), a ``Detection`` (``losses_for(detect_format(data))``),
            or the data itself (a ``datasets.Dataset`` or a dict of columns), whose format is detected.
        via_conversion: also list losses that a chain of converters opens.
        with_model: with ``via_conversion``, include converters that need a model (mining, teachers).

    Returns:
        Without ``via_conversion``: the loss classes, commonly used first. With it: ``LossOption``s,
        the direct ones first (``option.direct``), then each further loss with the shortest converter
        chain that opens it (``option.converters``).
    """
    fmt = _format(fmt)
    direct = _direct(fmt)
    if not via_conversion:
        return direct
    options = [LossOption(cls, fmt) for cls in direct]
    seen = set(direct)
    paths = reachable(fmt, with_model=with_model)
    for key, path in sorted(paths.items(), key=lambda item: len(item[1])):
        if not path:
            continue
        for cls in _direct(FORMATS[key]):
            if cls not in seen:
                seen.add(cls)
                options.append(LossOption(cls, FORMATS[key], path))
    return options


def render_table(*, markdown: bool = True, with_conversions: bool = False) -> str:
    """The loss table in the layout of sentence-transformers' loss overview.

    Commonly used losses are marked (bold in markdown, ``*`` in text). ``with_conversions`` adds a
    column with the losses one or more conversions away and the converter chain for each.
    """
    header = ["Inputs", "Labels", "Appropriate Loss Functions"] + (["After conversion"] if with_conversions else [])
    lines: list[str] = []

    def row(cells: list[str]) -> None:
        lines.append("| " + " | ".join(cells) + " |" if markdown else "  ".join(cells))

    def names(fmt: Format) -> str:
        marked = [
            (f"**{cls.__name__}**" if markdown else f"{cls.__name__}*")
            if fmt in getattr(cls, "commonly_used", ())
            else cls.__name__
            for cls in _direct(fmt)
        ]
        return ", ".join(marked) or "-"

    for section, keys in TABLE_SECTIONS.items():
        lines.append(f"## {section}" if markdown else section.upper())
        row(header)
        if markdown:
            row(["---"] * len(header))
        for key in keys:
            fmt = FORMATS[key]
            cells = [fmt.inputs_text, fmt.labels_text, names(fmt)]
            if with_conversions:
                cells.append(
                    ", ".join(str(option) for option in losses_for(fmt, via_conversion=True) if not option.direct)
                    or "-"
                )
            row(cells)
        lines.append("")
    lines.append("## Loss modifiers and regularisers" if markdown else "LOSS MODIFIERS AND REGULARISERS")
    row(["Inputs", "Labels", "Appropriate Loss Functions"])
    if markdown:
        row(["---"] * 3)
    row(["any", "any", ", ".join(cls.__name__ for cls in modifiers() + regularizers())])
    lines += ["", ("Note: " if markdown else "NOTE: ") + _DOCS_DISAGREE]
    return "\n".join(lines)
