"""``check(dataset, loss_or_format)``: find the data problems that silently ruin training.

Each finding says what is wrong, how many rows it touches, and how to fix it. The checks:

* the format does not fit the loss (and which converter would make it fit);
* extra columns that would be taken as inputs; empty texts; input columns that hold only numbers (a label
  column under another name, read as text);
* column order that looks swapped (a "positive" column first, anchors much longer than positives);
* labels that are missing (NaN, inf, empty) or outside the loss's range (scores outside 0..1, binary
  labels other than 0/1);
* constant labels (a correlation-based evaluator would return NaN);
* class ids that are not 0..K-1 (where SoftmaxLoss uses them as indices);
* duplicates that become false negatives for in-batch-negative losses;
* classes with a single example, useless to batch-triplet losses.

A finding knows whether it is ``fatal`` (training cannot work until it is fixed: ``train()`` refuses the
data); ``report.format_problem`` is the finding that the data cannot be read, or is not in a format the
loss takes, which the converters of ``lossbook.table.conversion_for`` may fix.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import datasets

from lossbook.detect import Detection, FormatError, as_dataset, detect_format
from lossbook.formats import Format, LabelKind, format_by_key

__all__ = ["CheckReport", "Finding", "check"]

# Formats whose losses use the other rows of the batch as negatives.
_IN_BATCH_FORMATS = {"pair", "triplet", "n-tuple"}
_SWAPPED_FIRST_NAMES = {"positive", "negative", "answer", "passage", "document", "doc", "response", "context"}
# Findings after which training cannot work: data that cannot be read, a format the loss does not take, and
# missing labels (the loss of the first batch holding a NaN label is NaN, and training stops there).
_FATAL_KINDS = frozenset({"unreadable", "wrong-format", "missing-labels"})
# Enough rows to tell a column of numbers from a column of texts without reading a large set in full.
_SAMPLE_ROWS = 2000


@dataclass
class Finding:
    """One problem: a short kind, what is wrong, and the fix."""

    kind: str
    message: str
    fix: str
    rows: int | None = None

    @property
    def fatal(self) -> bool:
        """True when training on the data cannot work until this is fixed (``train()`` refuses the data)."""
        return self.kind in _FATAL_KINDS

    @property
    def handled_by_sampler(self) -> bool:
        """True for repeated texts: ``train()``'s no-duplicates sampler keeps copies out of one batch itself."""
        return self.kind == "duplicates"

    def __str__(self) -> str:
        count = f" ({self.rows:,} rows)" if self.rows is not None else ""
        return f"[{self.kind}]{count} {self.message} Fix: {self.fix}"


@dataclass
class CheckReport:
    """What ``check`` found; empty ``findings`` means the data looks right for the loss.

    ``format_problem`` is the finding that the data cannot be read (``detection`` is then None) or is in a
    format the target does not take; None when the format fits.
    """

    detection: Detection | None
    target: str
    findings: list[Finding] = field(default_factory=list)
    format_problem: Finding | None = None

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def fatal_findings(self) -> list[Finding]:
        """The findings that make training impossible (empty when the data can train the loss)."""
        return [finding for finding in self.findings if finding.fatal]

    def kinds(self) -> set[str]:
        return {finding.kind for finding in self.findings}

    def __str__(self) -> str:
        head = f"Checked against {self.target}: " + (
            "no problems found." if self.ok else f"{len(self.findings)} problem(s)."
        )
        detected = f"\n{self.detection.explain()}" if self.detection else ""
        return head + detected + "".join(f"\n  - {finding}" for finding in self.findings)


def _target_formats(loss_or_format) -> tuple[tuple[Format, ...], str]:
    if isinstance(loss_or_format, Format):
        return (loss_or_format,), f"the format '{loss_or_format.title}'"
    if isinstance(loss_or_format, str):
        fmt = format_by_key(loss_or_format)  # a typo gets "Did you mean ...?" and the known formats
        return (fmt,), f"the format '{fmt.title}'"
    formats = getattr(loss_or_format, "formats", None)
    if formats is None:
        formats = getattr(type(loss_or_format), "formats", None)
    if not formats:
        raise TypeError(f"check() takes a loss (class or instance) or a Format, got {loss_or_format!r}.")
    name = loss_or_format.__name__ if isinstance(loss_or_format, type) else type(loss_or_format).__name__
    return tuple(formats), name


def check(data, loss_or_format) -> CheckReport:
    """Check a data set against a loss (or a format) and report every problem found.

    Args:
        data: a ``datasets.Dataset`` or a dict of columns.
        loss_or_format: a loss class or instance (its ``formats`` are used), a ``Format`` or a format key.
    """
    dataset = as_dataset(data)
    targets, target_name = _target_formats(loss_or_format)
    report = CheckReport(detection=None, target=target_name)
    try:
        detection = detect_format(dataset)
    except FormatError as error:
        report.format_problem = Finding("unreadable", str(error), "see the message above")
        report.findings.append(report.format_problem)
        return report
    report.detection = detection
    fmt = detection.format
    accepted = [
        target
        for target in targets
        if target.key == "any" or target.key in {fmt.key, *(a.key for a in detection.alternatives)}
    ]
    if not accepted:
        wanted = " or ".join(f"'{target.title}'" for target in targets)
        report.format_problem = Finding(
            "wrong-format",
            f"The data is '{fmt.title}' but {target_name} needs {wanted}.",
            "convert the data (lossbook.table.losses_for(format, via_conversion=True) lists the converters), "
            "or pick a loss for this format.",
        )
        report.findings.append(report.format_problem)
    effective = next((target for target in accepted if target.key != "any"), fmt)
    report.findings += _text_findings(dataset, detection, targets)
    report.findings += _order_findings(dataset, detection)
    if detection.label_column is not None:
        report.findings += _label_findings(dataset, detection.label_column, effective)
    if effective.key in _IN_BATCH_FORMATS:
        report.findings += _duplicate_findings(dataset, detection)
    if effective.key == "sentence-class":
        report.findings += _singleton_class_findings(dataset, detection.label_column)
    return report


def _text_findings(dataset: datasets.Dataset, detection: Detection, targets: tuple[Format, ...]) -> list[Finding]:
    findings = []
    limits = [target.max_columns for target in targets if target.key != "any"]
    expected = None if not limits or None in limits else max(limits)
    if expected is not None and len(detection.input_columns) > expected:
        extra = detection.input_columns[expected:]
        findings.append(
            Finding(
                "extra-columns",
                f"The columns {extra} would be fed to the model as extra inputs.",
                f"drop them: dataset.remove_columns({extra!r}).",
            )
        )
    for column in detection.input_columns:
        empty = sum(1 for text in dataset[column] if not text or not str(text).strip())
        if empty:
            findings.append(Finding("empty-text", f"Column '{column}' has empty texts.", "filter them out.", empty))
        elif _all_numbers(dataset[column][:_SAMPLE_ROWS]):
            findings.append(
                Finding(
                    "numbers-as-text",
                    f"Column '{column}' holds only numbers, yet it is fed to the model as text (only a column "
                    "named label, labels, score or scores is read as the label).",
                    f"if it is the label, rename it to 'label' (classes, 0/1) or 'score' (floats): "
                    f"dataset.rename_column('{column}', 'score'), or rename it in the file's header.",
                )
            )
    return findings


def _all_numbers(texts: list[str]) -> bool:
    """True when every text reads as a number ('0.5', '3', '1e-2'), as a label column's values do."""
    try:
        for text in texts:
            float(text)
    except (TypeError, ValueError):
        return False
    return True


def _order_findings(dataset: datasets.Dataset, detection: Detection) -> list[Finding]:
    inputs = detection.input_columns
    if len(inputs) < 2 or detection.format.key not in {"pair", "triplet", "n-tuple", "pair-binary", "triplet-margin"}:
        return []
    findings = []
    names = [name.lower() for name in inputs]
    if names[0] in _SWAPPED_FIRST_NAMES or (
        "negative" in names and "positive" in names and names.index("negative") < names.index("positive")
    ):
        findings.append(
            Finding(
                "column-order",
                f"The column order {inputs} looks swapped: losses read the columns by position "
                "(anchor, positive, negative...), not by name.",
                "reorder: dataset.select_columns([...anchor, positive, negatives..., label]).",
            )
        )
    elif detection.format.key in {"pair", "triplet", "n-tuple"}:
        mean_length = [
            sum(len(text) for text in dataset[column][:2000]) / min(len(dataset), 2000) for column in inputs[:2]
        ]
        if mean_length[0] > 2.5 * mean_length[1]:
            findings.append(
                Finding(
                    "column-order",
                    f"The first column ('{inputs[0]}', {mean_length[0]:.0f} characters on average) is much longer "
                    f"than the second ('{inputs[1]}', {mean_length[1]:.0f}); for (query, passage) data the query "
                    "comes first.",
                    "check which column is the anchor and reorder with dataset.select_columns([...]) if needed.",
                )
            )
    return findings


def _label_findings(dataset: datasets.Dataset, label_column: str, fmt: Format) -> list[Finding]:
    feature = dataset.features[label_column]
    if not hasattr(feature, "dtype") or fmt.label in (LabelKind.TEACHER_EMBEDDING, LabelKind.TEACHER_SCORES):
        return []
    values = list(dataset[label_column])
    findings = []
    missing = sum(1 for v in values if _is_missing(v))
    if missing:
        # Reported on their own, not as "outside 0..1": NaN compares false with everything, so it is no range problem.
        findings.append(
            Finding(
                "missing-labels",
                f"{missing:,} '{label_column}' values are NaN, inf or empty: the loss of a batch holding one is NaN, "
                "and training would stop there.",
                f"drop those rows: dataset.filter(lambda row: math.isfinite(row['{label_column}'])) "
                "(after import math), or fill in the labels.",
                missing,
            )
        )
        values = [v for v in values if not _is_missing(v)]
        if not values:
            return findings
    distinct = set(values)
    if len(distinct) == 1:
        findings.append(
            Finding(
                "constant-labels",
                f"Every '{label_column}' is {values[0]!r}: there is nothing to learn, and correlation-based "
                "evaluation returns NaN.",
                "use data with varied labels.",
                len(values),
            )
        )
    if fmt.label is LabelKind.SCORE:
        outside = sum(1 for v in values if not 0.0 <= v <= 1.0)
        if outside:
            findings.append(
                Finding(
                    "label-range",
                    f"{outside:,} scores lie outside 0..1 (min {min(values):g}, max {max(values):g}); "
                    "CosineSimilarityLoss compares them with a cosine.",
                    "rescale to 0..1 (STS-B's 0-5 scores: divide by 5): "
                    "dataset.map(lambda r: {'score': r['score'] / 5}).",
                    outside,
                )
            )
    elif fmt.label is LabelKind.BINARY:
        outside = sum(1 for v in values if v not in (0, 1))
        if outside:
            findings.append(
                Finding(
                    "label-range",
                    f"{outside:,} labels are neither 0 nor 1.",
                    "map them to 1 (match) / 0 (no match).",
                    outside,
                )
            )
    elif fmt.label is LabelKind.CLASS:
        if any(not float(v).is_integer() for v in values):
            findings.append(Finding("label-range", "Class labels must be integers.", "cast the label column to int64."))
        elif fmt.key == "pair-class":
            # Only SoftmaxLoss uses a class id as an index (a row of its classifier); the batch-triplet losses of
            # single sentences + class only compare ids for equality, so any ids work for them.
            ids = sorted({int(v) for v in distinct})
            if ids[0] < 0 or ids != list(range(len(ids))):
                gaps = sorted(set(range(max(ids[-1] + 1, 0))) - set(ids))[:10]
                findings.append(
                    Finding(
                        "class-ids",
                        f"The class ids are not 0..{len(ids) - 1}: they run from {ids[0]} to {ids[-1]}"
                        + (f" with gaps (e.g. {gaps})" if gaps else "")
                        + "; SoftmaxLoss needs num_labels > the largest id, and negative ids break cross-entropy.",
                        "renumber: ids = {old: new for new, old in enumerate(sorted(set(labels)))}.",
                    )
                )
    return findings


def _is_missing(value) -> bool:
    return value is None or isinstance(value, float) and not math.isfinite(value)


def _duplicate_findings(dataset: datasets.Dataset, detection: Detection) -> list[Finding]:
    findings = []
    for role, column in zip(("anchor", "positive"), detection.input_columns[:2]):
        counts = Counter(dataset[column])
        repeated = sum(count - 1 for count in counts.values() if count > 1)
        if repeated:
            findings.append(
                Finding(
                    "duplicates",
                    f"{repeated:,} rows repeat an earlier {role} text ('{column}'); in a batch with the repeat, "
                    "the same text is both the positive and an in-batch negative (a false negative).",
                    "de-duplicate with lossbook.convert.deduplicate(dataset), or train with the no-duplicates "
                    "batch sampler.",
                    repeated,
                )
            )
    return findings


def _singleton_class_findings(dataset: datasets.Dataset, label_column: str | None) -> list[Finding]:
    if label_column is None:
        return []
    counts = Counter(dataset[label_column])
    single = sorted(label for label, count in counts.items() if count == 1)
    if not single:
        return []
    return [
        Finding(
            "singleton-classes",
            f"{len(single)} class(es) have a single example (e.g. {single[:5]}): batch-triplet losses can never "
            "use them as an anchor with a positive.",
            "drop those rows, or add examples; the group-by-label sampler needs >= 2 per class.",
            len(single),
        )
    ]
