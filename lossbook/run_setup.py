"""Setting a training run up: the loss it names, with its modifier, and the evaluation that fits its data.

* ``loss_class(name)`` and ``build_loss(name, model, data, ...)``: any loss of the table from its name,
  filling in what its constructor needs (SoftmaxLoss's number of classes from the data, GIST's guide
  model) and wrapping it in a modifier (Matryoshka dims, adaptive layers) when asked; ``parse_dims``
  reads Matryoshka dims typed as text;
* ``refuse_unbuildable`` and ``refuse_wrong_format``: the command line's refusals before any model is
  loaded, each with the way forward (for data in another format, the converters of
  ``lossbook.table.conversion_for``);
* ``choose_evaluation(train, eval_data)``: the evaluation that fits the data (STS Spearman, AP, triplet
  accuracy, k-NN accuracy, retrieval), on rows that never train.

The loss explorer (``lossbook.widgets``) and the command line (``lossbook.cli``) set their runs up here; the
data a run names comes from ``lossbook.run_data``. Every problem the user can fix is a ``SetupError``.
"""

from __future__ import annotations

import copy
import difflib
import inspect
from dataclasses import dataclass

import datasets
from torch import nn

from lossbook import losses
from lossbook.checks import check
from lossbook.data import DATASETS, RetrievalSet, load_dataset, load_retrieval
from lossbook.detect import FormatError, detect_format, label_column_of
from lossbook.evaluate import EVALUABLE_FORMATS, Grid, evaluate
from lossbook.formats import FORMATS
from lossbook.run_data import Data, SetupError
from lossbook.table import conversion_for, losses_for, regularizers, wraps_a_loss

__all__ = [
    "Evaluation",
    "MIN_PAIRS_FOR_RETRIEVAL",
    "build_loss",
    "choose_evaluation",
    "loss_class",
    "parse_dims",
    "refuse_unbuildable",
    "refuse_wrong_format",
    "retrieval_of_pairs",
    "takes_margin",
]

_MARGIN_NAMES = ("margin", "triplet_margin")
# Pairs the explorer needs to hold some out as their own retrieval task (a fifth of 50: 10 anchors at least).
MIN_PAIRS_FOR_RETRIEVAL = 50


# -- the loss --------------------------------------------------------------------------------------
def parse_dims(text: str) -> list[int]:
    """Matryoshka dimensions typed as text (``"384, 256,128"``): positive whole numbers, largest first, no repeats."""
    parts = [part.strip() for part in str(text).split(",") if part.strip()]
    try:
        dims = [int(part) for part in parts]
    except ValueError:
        raise SetupError(
            f"Matryoshka dimensions are whole numbers separated by commas, like 384,256,128,64; got {text!r}."
        ) from None
    if not dims or any(d < 1 for d in dims):
        raise SetupError(f"Matryoshka dimensions must be positive whole numbers, like 384,256,128,64; got {text!r}.")
    return sorted(set(dims), reverse=True)


def loss_class(name: str, *, exact: bool = False) -> type:
    """The loss class of a name: exact, any case, or without the ``Loss`` suffix (``cosent``); ``exact`` as written.

    An unknown name raises a ``SetupError`` with the closest names.
    """
    wanted = name if exact else name.lower().removesuffix("loss")
    for candidate in losses.LOSS_NAMES:
        if wanted == (candidate if exact else candidate.lower().removesuffix("loss")):
            return getattr(losses, candidate)
    close = difflib.get_close_matches(str(name), losses.LOSS_NAMES, n=3, cutoff=0.5)
    hint = (
        f" Did you mean {', '.join(close)}?"
        if close
        else " See them all with `lossbook table` (or lossbook.render_table())."
    )
    raise SetupError(f"Unknown loss {name!r}.{hint}")


def _parameters(cls: type):
    return inspect.signature(cls.__init__).parameters


def takes_margin(loss: str | type) -> bool:
    """Whether ``build_loss`` passes its ``margin`` option to this loss (a name or a class)."""
    cls = loss if isinstance(loss, type) else loss_class(loss)
    return any(name in _parameters(cls) for name in _MARGIN_NAMES)


def build_loss(
    loss: str | type,
    model: nn.Module,
    data: datasets.Dataset | None = None,
    *,
    scale: float | None = None,
    margin: float | None = None,
    matryoshka_dims: list[int] | None = None,
    adaptive_layers: bool = False,
    guide: nn.Module | None = None,
) -> nn.Module:
    """The loss ``loss`` (a name or a class) on ``model``, in its modifier when asked.

    Options the loss does not have are ignored. SoftmaxLoss counts its classes in ``data``; a GIST loss
    without a ``guide`` is guided by a frozen copy of ``model``. ``matryoshka_dims`` wraps the loss in
    ``MatryoshkaLoss``, ``adaptive_layers`` in ``AdaptiveLayerLoss``.
    """
    cls = loss if isinstance(loss, type) else loss_class(loss)
    if wraps_a_loss(cls):
        raise SetupError(f"{cls.__name__} wraps another loss: pick that loss and set the modifier option instead.")
    too_big = [d for d in matryoshka_dims or () if d > model.embedding_dim]
    if too_big:
        raise SetupError(f"Matryoshka dims {too_big} exceed the model's embedding size ({model.embedding_dim}).")
    parameters = _parameters(cls)
    kwargs = {}
    if scale is not None and "scale" in parameters:
        kwargs["scale"] = scale
    for margin_name in _MARGIN_NAMES:
        if margin is not None and margin_name in parameters:
            kwargs[margin_name] = margin
    if "guide" in parameters:
        kwargs["guide"] = guide if guide is not None else copy.deepcopy(model).eval()
    if cls is losses.SoftmaxLoss:
        if data is None:
            raise SetupError("SoftmaxLoss needs the data to count its classes.")
        label = detect_format(data).label_column
        kwargs.update(embedding_dimension=model.embedding_dim, num_labels=int(max(data[label])) + 1)
    built = cls(model, **kwargs)
    if matryoshka_dims:
        built = losses.MatryoshkaLoss(model, built, sorted({int(d) for d in matryoshka_dims}, reverse=True))
    if adaptive_layers:
        built = losses.AdaptiveLayerLoss(model, built)
    return built


def refuse_unbuildable(cls: type, matryoshka_dims: list[int] | None = None) -> None:
    """Stop early, with the way forward, for a loss the command line cannot build from its name alone."""
    name = cls.__name__
    if "guide" in _parameters(cls):
        raise SetupError(
            f"{name} needs a guide model, which the command line does not build; in Python: "
            f"losses.{name}(model, guide=lossbook.load_model(...)), then lossbook.train.train(...)."
        )
    if cls is losses.MatryoshkaLoss:
        raise SetupError(
            "MatryoshkaLoss wraps another loss: pass that one and the dims, e.g. "
            "--loss CoSENTLoss --matryoshka-dims 384,256,128,64."
        )
    if wraps_a_loss(cls):
        raise SetupError(
            f"{name} wraps another loss and is built in Python: losses.{name}(model, losses.CoSENTLoss(model), ...)."
        )
    if matryoshka_dims and cls in regularizers():
        raise SetupError(f"--matryoshka-dims wraps a main loss; {name} is a regulariser.")


def refuse_wrong_format(cls: type, data: Data) -> None:
    """One line: what the data is, what the loss needs, the converters that bridge them, the losses that fit."""
    report = check(data.dataset, cls)
    problem = report.format_problem
    if problem is None:
        return
    if report.detection is None:
        raise SetupError(f"{data.label} cannot be read as training data: {problem.message}")
    fmt = report.detection.format
    option = conversion_for(fmt, cls)
    convert = (
        f" Convert it in Python with {option.recipe}, save the result as JSONL and pass that file to --data."
        if option is not None
        else ""
    )
    fitting = ", ".join(c.__name__ for c in losses_for(fmt)) or "none directly"
    raise SetupError(
        f"{cls.__name__} cannot train on {data.label}: {problem.message}{convert} Losses for this data: {fitting}."
    )


# -- the evaluation --------------------------------------------------------------------------------
@dataclass
class Evaluation:
    """How a run is measured, on rows kept out of training.

    ``measure(model, dims=None, layers=None)`` gives ``lossbook.evaluate``'s result; the evaluation itself is
    the ``evaluator`` of ``train``: ``evaluation(model) -> {metric: value}``, each metric also as
    ``metric@dim`` for the ``dims`` set, and ``primary`` names the task's main metric once it has run.
    """

    description: str  # e.g. "Spearman on stsb [validation]"
    data: Data  # the evaluation rows (a RetrievalSet for retrieval)
    train_data: datasets.Dataset  # the rows left for training
    reference: datasets.Dataset | None = None  # the training rows a k-NN evaluation votes with
    dims: list[int] | None = None
    primary: str = ""
    progress: bool | None = None  # the encode progress bars: None = the model's default; the explorer shows none

    def measure(self, model: nn.Module, *, dims=None, layers=None):
        """``lossbook.evaluate`` on the evaluation rows: a result, or a ``Grid`` with ``dims`` or ``layers``."""
        return evaluate(
            model, self.data.dataset, dims=dims, layers=layers, train=self.reference, progress=self.progress
        )

    def __call__(self, model: nn.Module) -> dict[str, float]:
        result = self.measure(model, dims=self.dims)
        if not isinstance(result, Grid):
            self.primary = result.primary
            return result.metrics()
        self.primary = result.metric
        metrics = dict(result.result().metrics())  # the full size, unsuffixed
        for dim, cell in zip(result.dims, result.results[-1]):
            metrics.update({f"{name}@{dim}": value for name, value in cell.metrics().items()})
        return metrics


def choose_evaluation(
    train: Data,
    eval_data: Data | None = None,
    *,
    hold_out: int | None = None,
    rows: int | None = None,
    seed: int = 0,
    required: bool = False,
) -> Evaluation | None:
    """The evaluation that fits the training data, on rows that never train (checked before any model loads).

    With ``eval_data`` (the command line's, from ``lossbook.run_data.eval_data_for``): that data, at most
    ``rows`` rows of it, when ``lossbook.evaluate`` can score it (single sentences + class by k-NN, voting
    with the training rows); otherwise ``required`` raises a ``SetupError``, and without it the reason is
    printed and the result is None. A warning says when many evaluation rows are training rows too.

    With ``hold_out`` rows instead (the loss explorer): a named set's validation split for scored pairs;
    else, for data ``lossbook.evaluate`` scores, ``hold_out`` rows kept out of ``train`` (at most a fifth;
    ``evaluation.train_data`` is the rest); (anchor, positive) pairs and triplets the same way, as a retrieval task
    of their own (``retrieval_of_pairs``: each held-out anchor ranks every held-out positive and negative); else a
    general yardstick: the xquad retrieval set for a handful of pairs, STS-B otherwise.

    With neither: None.
    """
    if eval_data is not None:
        return _evaluation_on(train, eval_data, rows=rows, seed=seed, required=required)
    if hold_out is not None:
        return _held_out_evaluation(train, hold_out, seed=seed)
    return None


def _evaluation_on(train: Data, eval_data: Data, *, rows: int | None, seed: int, required: bool) -> Evaluation | None:
    try:
        key = detect_format(eval_data.dataset).format.key
    except FormatError as error:
        raise SetupError(f"{eval_data.label} cannot be evaluated: {error}") from None
    reference = None
    if key == "sentence-class":
        if detect_format(train.dataset).format.key == "sentence-class":
            reference = _cap(train.dataset, rows, seed)
        else:
            key = None  # k-NN votes with the training rows: they must be sentences + class too
    if key not in EVALUABLE_FORMATS:
        *first, last = [f"'{FORMATS[known].title}'" for known in EVALUABLE_FORMATS]
        scored = f"{', '.join(first)} and {last}"
        message = f"{eval_data.label} cannot be evaluated: lossbook.evaluate scores {scored} data."
        if required:
            raise SetupError(message)
        print(f"No evaluation: {message}")
        return None
    _warn_overlap(train, eval_data)
    capped = Data(_cap(eval_data.dataset, rows, seed), eval_data.label)
    return Evaluation(f"{EVALUABLE_FORMATS[key]} on {eval_data.label}", capped, train.dataset, reference)


def _held_out_evaluation(train: Data, rows: int, *, seed: int) -> Evaluation:
    key = detect_format(train.dataset).format.key
    if key == "pair-score" and train.name in DATASETS and "validation" in DATASETS[train.name].splits:
        try:
            held = load_dataset(train.name, "validation", rows=rows, verbose=False)
            label = f"{train.name} validation"
            return Evaluation(f"Spearman on {label}", Data(held, label, train.name, "validation"), train.dataset)
        except FileNotFoundError:  # no source has the split here (offline, say): hold rows out instead
            pass
    if key in ("pair", "triplet") and len(train.dataset) >= MIN_PAIRS_FOR_RETRIEVAL:
        # What in-batch-negative losses train, on their own kind of rows: each held-out anchor ranks every held-out
        # positive (and negative). Finer than triplet accuracy, which only asks "positive above its own negative".
        kept, held = _hold_out(train.dataset, rows, seed)
        columns = detect_format(held).input_columns
        negatives = held[columns[2]] if key == "triplet" else None
        retrieval = retrieval_of_pairs(held[columns[0]], held[columns[1]], negatives)
        passages = "positives and negatives" if negatives else "positives"
        description = f"NDCG@10 on {len(retrieval.queries)} held-out anchors, ranking all their {passages}"
        what = "triplets" if negatives else "pairs"
        return Evaluation(description, Data(retrieval, f"{len(held)} held-out {what}"), kept)
    if key in EVALUABLE_FORMATS:
        if len(train.dataset) < 10:
            raise SetupError(f"Only {len(train.dataset)} rows: too few to keep some out for evaluation. Use more data.")
        kept, held = _hold_out(train.dataset, rows, seed)
        what = "sentences" if key == "sentence-class" else "rows"
        description = f"{EVALUABLE_FORMATS[key]} on {len(held)} held-out {what}"
        reference = kept if key == "sentence-class" else None
        return Evaluation(description, Data(held, f"{len(held)} held-out {what}"), kept, reference)
    if key == "pair":  # too few rows to keep some out: a general retrieval yardstick
        retrieval = load_retrieval(verbose=False)
        return Evaluation("NDCG@10 on the xquad-retrieval set", Data(retrieval, "xquad-retrieval"), train.dataset)
    stsb = load_dataset("stsb", "validation", rows=rows, verbose=False)
    return Evaluation(
        "Spearman on STS-B validation (a general yardstick)", Data(stsb, "stsb [validation]"), train.dataset
    )


def _hold_out(dataset: datasets.Dataset, rows: int, seed: int) -> tuple[datasets.Dataset, datasets.Dataset]:
    """(kept, held): ``rows`` random rows held out (at most a fifth of them), the rest kept for training."""
    shuffled = dataset.shuffle(seed=seed)
    rows = min(rows, len(shuffled) // 5)
    return shuffled.select(range(rows, len(shuffled))), shuffled.select(range(rows))


def retrieval_of_pairs(anchors: list[str], positives: list[str], negatives: list[str] | None = None) -> RetrievalSet:
    """(anchor, positive[, negative]) rows as a retrieval task: each distinct anchor's relevant passages are its
    positives; the negatives join the corpus as passages to rank below them.

    The corpus is the distinct texts, so a passage that two rows share is one passage, relevant to both
    anchors; an anchor that comes with several positives is one query with all of them relevant.
    """
    passage_ids = {text: f"p{i}" for i, text in enumerate(dict.fromkeys(list(positives) + list(negatives or [])))}
    query_ids = {text: f"q{i}" for i, text in enumerate(dict.fromkeys(anchors))}
    relevant: dict[str, set[str]] = {}
    for anchor, positive in zip(anchors, positives):
        relevant.setdefault(query_ids[anchor], set()).add(passage_ids[positive])
    return RetrievalSet(
        queries={qid: text for text, qid in query_ids.items()},
        corpus={pid: text for text, pid in passage_ids.items()},
        relevant=relevant,
    )


def _cap(dataset: datasets.Dataset, rows: int | None, seed: int) -> datasets.Dataset:
    return dataset if rows is None or rows >= len(dataset) else dataset.shuffle(seed=seed).select(range(rows))


def _warn_overlap(train: Data, eval_data: Data) -> None:
    """Say so when more than a tenth of the evaluation rows are training rows too (the score would flatter)."""

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
