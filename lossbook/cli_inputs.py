"""What a ``lossbook`` command works on: the data it names, the loss it names, and how to evaluate.

Resolving a data set name or file into a ``Data``, a loss name into its class (refusing, with the way
forward, the losses the command line cannot build or the data cannot feed), and choosing the evaluation
data and metric. ``lossbook.cli`` turns these into commands; every expected problem is a ``CliError``
(one line on stderr, exit code 2).
"""

from __future__ import annotations

import csv
import difflib
import json
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CliError",
    "Data",
    "EvalPlan",
    "Evaluator",
    "build_loss",
    "choose_eval_data",
    "load_data",
    "loss_class",
    "prepare_evaluation",
    "refuse_unbuildable",
    "refuse_wrong_format",
]

# Losses the command line cannot build: their constructors need another model.
_NEEDS_GUIDE = {"GISTEmbedLoss", "CachedGISTEmbedLoss"}
_NEEDS_TEACHER_LABELS = {
    "MSELoss": "add_teacher_embeddings",
    "EmbedDistillLoss": "add_teacher_embeddings",
    "MarginMSELoss": "add_teacher_margins",
    "DistillKLDivLoss": "add_teacher_scores",
}
_WRAPPERS = {"MatryoshkaLoss", "AdaptiveLayerLoss", "Matryoshka2dLoss"}
# Data formats that lossbook.evaluate scores (sentence-class by k-NN against the training data).
_EVALUABLE = {"pair-score", "pair-binary", "triplet", "sentence-class"}


class CliError(Exception):
    """An error the user can fix; printed as one line, exit code 2."""


# -- data ------------------------------------------------------------------------------------------
@dataclass
class Data:
    dataset: object  # datasets.Dataset
    label: str  # how messages name it, e.g. "stsb [train]" or "my.csv"
    name: str | None = None  # the registry name, when it came from the registry
    split: str | None = None


def load_data(spec: str, split: str | None = None, *, default_split: str = "train", rows: int | None = None) -> Data:
    """``stsb``, ``stsb:validation`` or a CSV/JSONL path -> a ``Data`` (messages name its source)."""
    from lossbook.data import DATASETS, load_dataset

    path = Path(spec).expanduser()
    if path.suffix.lower() in {".csv", ".jsonl", ".json"} or path.is_file():
        if split:
            raise CliError(f"--split applies to named data sets, not to the file {spec}.")
        dataset = _read_file(path)
        if rows is not None and len(dataset) > rows:
            dataset = dataset.select(range(rows))
        print(f"{path.name}: {len(dataset):,} rows from {path}")
        return Data(dataset, path.name)
    name, _, named_split = spec.partition(":")
    if name not in DATASETS:
        close = difflib.get_close_matches(name, list(DATASETS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise CliError(f"Unknown data {spec!r}: not a file, and not a named data set ({', '.join(DATASETS)}).{hint}")
    split = split or named_split or default_split
    try:
        dataset = load_dataset(name, split, rows=rows)
    except (ValueError, FileNotFoundError) as error:
        raise CliError(str(error)) from None
    return Data(dataset, f"{name} [{split}]", name, split)


def _read_file(path: Path):
    """A CSV (numbers become ints or floats, column by column) or a JSONL file (one JSON object a line)."""
    import datasets

    if not path.is_file():
        raise CliError(f"No such file: {path}.")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        if not rows:
            raise CliError(f"{path} has no rows (a CSV needs a header line and at least one row).")
        columns = {name: [row[name] for row in rows] for name in rows[0]}
        return datasets.Dataset.from_dict({name: _typed_column(values) for name, values in columns.items()})
    if suffix in {".jsonl", ".json"}:
        try:
            with path.open(encoding="utf-8") as handle:
                rows = [json.loads(line) for line in handle if line.strip()]
        except json.JSONDecodeError as error:
            raise CliError(f"{path} is not JSON Lines (one JSON object per line): {error}.") from None
        if not rows or not all(isinstance(row, dict) for row in rows):
            raise CliError(f'{path} must hold one JSON object per line, e.g. {{"anchor": "...", "positive": "..."}}.')
        return datasets.Dataset.from_list(rows)
    raise CliError(f"Cannot read {path}: give a .csv or .jsonl file, or a named data set.")


def _typed_column(values: list[str]) -> list:
    for kind in (int, float):
        try:
            return [kind(value) for value in values]
        except (TypeError, ValueError):
            continue
    return values


# -- losses ----------------------------------------------------------------------------------------
def loss_class(name: str) -> type:
    """The loss class for a name: exact, any case, with or without the ``Loss`` suffix."""
    from lossbook import losses

    wanted = name.lower().removesuffix("loss")
    for candidate in losses.LOSS_NAMES:
        if candidate.lower().removesuffix("loss") == wanted:
            return getattr(losses, candidate)
    close = difflib.get_close_matches(name, losses.LOSS_NAMES, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(close)}?" if close else " Run `lossbook table` to see them all."
    raise CliError(f"Unknown loss {name!r}.{hint}")


def refuse_unbuildable(cls: type, data: Data, matryoshka_dims) -> None:
    """Stop early, with the way forward, for losses whose constructor needs more than a model."""
    name = cls.__name__
    if name in _NEEDS_GUIDE:
        raise CliError(
            f"{name} needs a guide model, which the command line does not build; in Python: "
            f"losses.{name}(model, guide=lossbook.load_model(...)), then lossbook.train.train(...)."
        )
    if name == "MatryoshkaLoss":
        raise CliError(
            "MatryoshkaLoss wraps another loss: pass that one and the dims, e.g. "
            "--loss CoSENTLoss --matryoshka-dims 384,256,128,64."
        )
    if name in _WRAPPERS:
        raise CliError(
            f"{name} wraps another loss and is built in Python: losses.{name}(model, losses.CoSENTLoss(model), ...)."
        )
    if name in _NEEDS_TEACHER_LABELS and not _fits(cls, data):
        raise CliError(
            f"{name} learns from a teacher model's labels, which the command line does not compute; add them in "
            f"Python with lossbook.convert.{_NEEDS_TEACHER_LABELS[name]}(data, teacher), save the result "
            "as JSONL and pass that file to --data."
        )
    if matryoshka_dims and name in {"GlobalOrthogonalRegularizationLoss"}:
        raise CliError(f"--matryoshka-dims wraps a main loss; {name} is a regulariser.")


def _fits(cls: type, data: Data) -> bool:
    from lossbook.checks import check

    return not {"wrong-format", "unreadable"} & check(data.dataset, cls).kinds()


def refuse_wrong_format(cls: type, data: Data) -> None:
    """One line: what the data is, what the loss needs, the converter that bridges them, the losses that fit."""
    from lossbook.checks import check
    from lossbook.convert import reachable
    from lossbook.table import losses_for

    report = check(data.dataset, cls)
    for finding in report.findings:
        if finding.kind == "unreadable":
            raise CliError(f"{data.label} cannot be read as training data: {finding.message}")
        if finding.kind == "wrong-format":
            fmt = report.detection.format
            paths = reachable(fmt)
            chains = [paths[target.key] for target in cls.formats if paths.get(target.key)]
            convert = ""
            if chains:
                chain = min(chains, key=len)
                convert = (
                    " Convert it in Python with " + " then ".join(f"lossbook.convert.{c.name}" for c in chain) + "."
                )
            fitting = ", ".join(c.__name__ for c in losses_for(fmt)) or "none directly"
            raise CliError(
                f"{cls.__name__} cannot train on {data.label}: {finding.message}{convert} "
                f"Losses for this data: {fitting}."
            )


def build_loss(cls: type, model, data: Data, matryoshka_dims: list[int] | None):
    """The loss on ``model`` (``lossbook.runs.build_loss``: SoftmaxLoss counts its classes in the data)."""
    from lossbook.runs import build_loss as build

    too_big = [d for d in matryoshka_dims or () if d > model.embedding_dim]
    if too_big:
        raise CliError(f"--matryoshka-dims {too_big} exceed the model's embedding size ({model.embedding_dim}).")
    return build(cls.__name__, model, data.dataset, matryoshka_dims=matryoshka_dims)


# -- evaluation ------------------------------------------------------------------------------------
@dataclass
class EvalPlan:
    data: Data
    reference: object | None  # the training rows a k-NN evaluation votes with
    dims: list[int] | None


def choose_eval_data(args, train: Data) -> Data | None:
    """``--eval-data`` if given, else the named set's validation or test split (the first that loads here)."""
    from lossbook.data import DATASETS

    if args.eval_data == "none":
        return None
    if args.eval_data:
        name, _, split = args.eval_data.partition(":")
        if split or name not in DATASETS:
            return load_data(args.eval_data)
        return _first_split(name, ("validation", "test", "train")) or load_data(name, "validation")
    if train.name is None:
        print("No evaluation: a data file has no validation split (pass --eval-data).")
        return None
    found = _first_split(train.name, [s for s in ("validation", "test") if s != train.split])
    if found is None:
        print(f"No evaluation: {train.name} has no validation or test split here (pass --eval-data).")
    return found


def _first_split(name: str, splits) -> Data | None:
    """The first of ``splits`` that some source has (a split may exist only on the Hub, and it may be offline)."""
    from lossbook.data import DATASETS

    for split in splits:
        if split in DATASETS[name].splits:
            try:
                return load_data(name, split)
            except CliError:
                continue
    return None


def prepare_evaluation(args, train: Data, eval_data: Data | None, explicit: bool) -> EvalPlan | None:
    """Check that ``lossbook.evaluate`` can score the evaluation data (before any model is loaded)."""
    from lossbook.detect import FormatError, detect_format

    if eval_data is None:
        return None
    try:
        fmt = detect_format(eval_data.dataset).format
    except FormatError as error:
        raise CliError(f"{eval_data.label} cannot be evaluated: {error}") from None
    reference = None
    if fmt.key == "sentence-class":
        if detect_format(train.dataset).format.key != "sentence-class":
            fmt = None
        else:
            reference = _cap(train.dataset, args.eval_rows, args.seed)
    if fmt is None or fmt.key not in _EVALUABLE:
        message = (
            f"{eval_data.label} cannot be evaluated: lossbook.evaluate scores (sentence, sentence, score), "
            "(sentence, sentence, 0/1), (anchor, positive, negative) and (sentence, class) data."
        )
        if explicit:
            raise CliError(message)
        print(f"No evaluation: {message}")
        return None
    _warn_overlap(train, eval_data)
    return EvalPlan(Data(_cap(eval_data.dataset, args.eval_rows, args.seed), eval_data.label), reference, None)


def _cap(dataset, rows: int | None, seed: int):
    return dataset if rows is None or rows >= len(dataset) else dataset.shuffle(seed=seed).select(range(rows))


def _warn_overlap(train: Data, eval_data: Data) -> None:
    from lossbook.detect import label_column_of

    def keys(dataset):
        columns = [c for c in dataset.column_names if c != label_column_of(dataset.column_names)]
        return set(zip(*(dataset[c] for c in columns)))

    seen, rows = keys(train.dataset), keys(eval_data.dataset)
    shared = len(rows & seen) / max(len(rows), 1)
    if shared > 0.1:
        print(
            f"Warning: {shared:.0%} of the evaluation rows ({eval_data.label}) are also training rows; "
            "the score after training overstates how well the model generalises."
        )


class Evaluator:
    """``evaluator(model) -> {metric: value}`` for ``train``; with dims, each metric also as ``metric@dim``.

    ``.primary`` names the task's main metric (``spearman`` for STS, ``ap`` for pairs, ...) once it has run.
    """

    def __init__(self, plan: EvalPlan) -> None:
        self.plan, self.primary = plan, ""

    def __call__(self, model) -> dict[str, float]:
        from lossbook.evaluate import Grid, evaluate

        result = evaluate(model, self.plan.data.dataset, dims=self.plan.dims, train=self.plan.reference)
        if not isinstance(result, Grid):
            self.primary = result.primary
            return result.metrics()
        self.primary = result.metric
        metrics = dict(result.result().metrics())  # the full size, unsuffixed
        for dim, cell in zip(result.dims, result.results[-1]):
            metrics.update({f"{name}@{dim}": value for name, value in cell.metrics().items()})
        return metrics
