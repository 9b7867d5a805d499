"""The loss table as data, built from what each loss and each converter declares.

``losses_for(format)`` lists the losses that accept a data format, commonly used first;
``losses_for(format, via_conversion=True)`` adds the losses that become possible after converting
the data, each with the chain of converters that opens it; ``conversion_for(format, loss)`` is that
chain for one loss (the one place that decides it: the table, the explorer, the command line and
``train()``'s refusals all ask it). ``render_table()`` prints the table in the layout of
sentence-transformers' loss overview, and ``loss_card(cls)`` one loss's summary, formula, inputs and
reference, read from its docstring.

This module sits above the losses and the converters (it reads their declarations), so the table,
the losses and the converters can never disagree.
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import datasets

from lossbook.convert import Converter, reachable
from lossbook.detect import Detection, detect_format
from lossbook.formats import FORMATS, Format

__all__ = [
    "LossCard",
    "LossOption",
    "TABLE_SECTIONS",
    "all_losses",
    "conversion_for",
    "loss_card",
    "losses_for",
    "modifiers",
    "regularizers",
    "render_table",
    "wraps_a_loss",
]

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

    @property
    def recipe(self) -> str:
        """The converters as code, in order: ``lossbook.convert.a then lossbook.convert.b`` (empty when direct)."""
        return " then ".join(f"lossbook.convert.{conv.name}" for conv in self.converters)

    def __str__(self) -> str:
        if self.direct:
            return self.loss.__name__
        return f"{self.loss.__name__} (after {' -> '.join(conv.name for conv in self.converters)})"


def all_losses() -> list[type]:
    """Every loss class lossbook exports, in ``lossbook.losses.__all__`` order."""
    from lossbook import losses

    classes = [getattr(losses, name) for name in losses.__all__]
    return [cls for cls in classes if inspect.isclass(cls) and getattr(cls, "formats", ())]


def wraps_a_loss(cls: type) -> bool:
    """True for a modifier: a loss built around another loss (MatryoshkaLoss, AdaptiveLayerLoss, Matryoshka2dLoss).

    Decided by the constructor taking a ``loss``, so a new modifier needs no list updated anywhere.
    """
    return "loss" in inspect.signature(cls.__init__).parameters


def modifiers() -> list[type]:
    """Losses that wrap another loss and work with any format (Matryoshka, AdaptiveLayer, ...)."""
    return [cls for cls in all_losses() if FORMATS["any"] in cls.formats and wraps_a_loss(cls)]


def regularizers() -> list[type]:
    """Losses that work on any format and are added to a main loss (GlobalOrthogonalRegularization)."""
    return [cls for cls in all_losses() if FORMATS["any"] in cls.formats and not wraps_a_loss(cls)]


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


def conversion_for(fmt, loss, *, with_model: bool = True) -> LossOption | None:
    """How data of a format reaches a loss: directly, after a chain of converters, or not at all.

    Args:
        fmt: the data's format, as ``losses_for`` takes it (a ``Format``, its key, a ``Detection`` or the data).
        loss: a loss class or instance.
        with_model: allow converters that need a model (mining, teachers).

    Returns:
        A ``LossOption``: ``option.direct`` when the loss takes the format as it is, otherwise
        ``option.converters``, the shortest chain to one of the loss's formats (of equally short chains,
        the one ``lossbook.convert.reachable`` finds first) and ``option.recipe`` as code. None when no
        chain of converters makes the data fit.
    """
    fmt = _format(fmt)
    return _conversion(reachable(fmt, with_model=with_model), fmt, loss if isinstance(loss, type) else type(loss))


def _conversion(paths: dict[str, list[Converter]], fmt: Format, cls: type) -> LossOption | None:
    """``conversion_for`` with the paths from ``fmt`` already followed (``losses_for`` asks it for every loss)."""
    formats = getattr(cls, "formats", ())
    if fmt in formats or FORMATS["any"] in formats:
        return LossOption(cls, fmt)
    for key, path in paths.items():  # breadth-first order: shortest chains first
        if path and FORMATS[key] in formats:
            return LossOption(cls, FORMATS[key], path)
    return None


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
    paths = reachable(fmt, with_model=with_model)
    order = {key: index for index, key in enumerate(paths)}
    converted = [
        option
        for cls in all_losses()
        if cls not in direct and FORMATS["any"] not in cls.formats  # modifiers and regularisers fit any data
        for option in [_conversion(paths, fmt, cls)]
        if option is not None
    ]
    # Nearest format first; within a format, as the table lists its losses (commonly used first).
    converted.sort(key=lambda option: (order[option.format.key], not option.commonly_used))
    return [LossOption(cls, fmt) for cls in direct] + converted


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


@dataclass(frozen=True)
class LossCard:
    """What a loss is, from its docstring: summary line, formula (LaTeX), inputs and reference."""

    name: str
    summary: str
    formula: str
    inputs: str
    reference: str


# A Google-style section title on a line of its own at the left margin: "Inputs:", "Reference:", ...
_SECTION_TITLE = re.compile(r"([A-Z][A-Za-z ]*):")


def loss_card(cls: type) -> LossCard:
    """The summary, formula, inputs and reference of a loss, read from its docstring (``""`` for a missing part).

    lossbook's loss docstrings are Google style: a summary paragraph first, a ``.. math::`` block with the
    formula, and sections whose title (``Inputs:``, ``Reference:``) stands alone at the left margin with the
    body indented below it.
    """
    lines = (inspect.getdoc(cls) or "").splitlines()
    summary = " ".join(line.strip() for line in _first_paragraph(lines))
    sections: dict[str, str] = {}
    formula = ""
    for index, line in enumerate(lines):
        title = _SECTION_TITLE.fullmatch(line)
        if title and title.group(1) not in sections:
            sections[title.group(1)] = " ".join(_indented_block(lines, index))
        elif line.strip().startswith(".. math::") and not formula:
            inline = line.strip().removeprefix(".. math::").strip()  # ".. math:: x = y" on one line
            formula = " ".join(([inline] if inline else []) + _indented_block(lines, index))
    return LossCard(cls.__name__, summary, formula, sections.get("Inputs", ""), sections.get("Reference", ""))


def _first_paragraph(lines: list[str]) -> list[str]:
    paragraph = []
    for line in lines:
        if not line.strip():
            if paragraph:
                break
            continue
        paragraph.append(line)
    return paragraph


def _indented_block(lines: list[str], start: int) -> list[str]:
    """The stripped lines below ``lines[start]`` indented deeper than it (blank lines inside the block kept out)."""
    margin = len(lines[start]) - len(lines[start].lstrip())
    block = []
    for line in lines[start + 1 :]:
        if line.strip() and len(line) - len(line.lstrip()) <= margin:
            break
        if line.strip():
            block.append(line.strip())
    return block
