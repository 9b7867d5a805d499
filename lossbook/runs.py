"""A training run the way the loss explorer and the CLI set it up: a loss by name, a yardstick, a card.

* ``build_loss(name, model, data, ...)``: any loss of the table from its name, filling in what its
  constructor needs (SoftmaxLoss's number of classes from the data, GIST's guide model) and wrapping
  it in a modifier (Matryoshka dims, adaptive layers) when asked;
* ``yardstick(dataset_name, data)``: the evaluation that fits the data (STS-B validation Spearman,
  k-NN accuracy on held-out sentences, retrieval, ...) and the rows left for training;
* ``loss_card(cls)``: the summary, formula and reference from the loss's docstring.
"""

from __future__ import annotations

import copy
import difflib
import inspect
import re
from dataclasses import dataclass

import datasets
from torch import nn

from lossbook import losses
from lossbook.data import DATASETS, load_dataset, load_retrieval
from lossbook.detect import detect_format
from lossbook.evaluate import evaluate

__all__ = ["LossCard", "Yardstick", "build_loss", "loss_card", "parse_dims", "unknown_loss_message", "yardstick"]

_MARGIN_NAMES = ("margin", "triplet_margin")


def parse_dims(text: str) -> list[int]:
    """Matryoshka dimensions typed as text (``"384, 256,128"``): positive whole numbers, largest first, no repeats."""
    parts = [part.strip() for part in str(text).split(",") if part.strip()]
    try:
        dims = [int(part) for part in parts]
    except ValueError:
        raise ValueError(
            f"Matryoshka dimensions are whole numbers separated by commas, like 384,256,128,64; got {text!r}."
        ) from None
    if not dims or any(d < 1 for d in dims):
        raise ValueError(f"Matryoshka dimensions must be positive whole numbers, like 384,256,128,64; got {text!r}.")
    return sorted(set(dims), reverse=True)


def unknown_loss_message(name: str) -> str:
    """'Unknown loss ...' with the closest names, for every place a loss is named by text."""
    close = difflib.get_close_matches(str(name), losses.LOSS_NAMES, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(close)}?" if close else f" Known losses: {', '.join(losses.LOSS_NAMES)}."
    return f"Unknown loss {name!r}.{hint}"


def build_loss(
    name: str,
    model: nn.Module,
    data: datasets.Dataset | None = None,
    *,
    scale: float | None = None,
    margin: float | None = None,
    matryoshka_dims: list[int] | None = None,
    adaptive_layers: bool = False,
    guide: nn.Module | None = None,
) -> nn.Module:
    """Construct the loss ``name`` on ``model``; options that the loss does not have are ignored."""
    if name not in losses.LOSS_NAMES:
        raise ValueError(unknown_loss_message(name))
    cls = getattr(losses, name)
    if cls in (losses.MatryoshkaLoss, losses.AdaptiveLayerLoss, losses.Matryoshka2dLoss):
        raise ValueError(f"{name} wraps another loss: pick that loss and set the modifier option instead.")
    parameters = inspect.signature(cls.__init__).parameters
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
            raise ValueError("SoftmaxLoss needs the data to count its classes.")
        label = detect_format(data).label_column
        kwargs.update(embedding_dimension=model.embedding_dim, num_labels=int(max(data[label])) + 1)
    loss = cls(model, **kwargs)
    if matryoshka_dims:
        dims = sorted({int(d) for d in matryoshka_dims}, reverse=True)
        loss = losses.MatryoshkaLoss(model, loss, dims)
    if adaptive_layers:
        loss = losses.AdaptiveLayerLoss(model, loss)
    return loss


@dataclass
class Yardstick:
    """How a run is measured: ``measure(model, dims=None, layers=None)``, on data kept out of training."""

    description: str
    train_data: datasets.Dataset
    eval_data: object
    train_for_knn: datasets.Dataset | None = None

    def measure(self, model: nn.Module, *, dims=None, layers=None):
        return evaluate(model, self.eval_data, dims=dims, layers=layers, train=self.train_for_knn)


def _held_out(data: datasets.Dataset, rows: int, seed: int = 0) -> tuple[datasets.Dataset, datasets.Dataset]:
    if len(data) < 10:
        raise ValueError(f"Only {len(data)} rows: too few to keep some out for evaluation. Use more data.")
    shuffled = data.shuffle(seed=seed)
    rows = min(rows, len(data) // 5)
    return shuffled.select(range(rows, len(shuffled))), shuffled.select(range(rows))


def yardstick(dataset_name: str | None, data: datasets.Dataset, *, eval_rows: int = 300) -> Yardstick:
    """The evaluation that fits the data, and the training rows it leaves (held-out rows never train)."""
    key = detect_format(data).format.key
    if key == "pair-score" and dataset_name in DATASETS and "validation" in DATASETS[dataset_name].splits:
        held = load_dataset(dataset_name, "validation", rows=eval_rows, verbose=False)
        return Yardstick(f"Spearman on {dataset_name} validation", data, held)
    if key in ("pair-score", "pair-binary", "triplet"):
        train, held = _held_out(data, eval_rows)
        return Yardstick(
            f"{'Spearman' if key == 'pair-score' else 'AP' if key == 'pair-binary' else 'accuracy'} "
            f"on {len(held)} held-out rows",
            train,
            held,
        )
    if key == "sentence-class":
        train, held = _held_out(data, eval_rows)
        return Yardstick(f"k-NN accuracy on {len(held)} held-out sentences", train, held, train_for_knn=train)
    if key == "pair":
        retrieval = load_retrieval(verbose=False)
        return Yardstick("NDCG@10 on the xquad-retrieval set", data, retrieval)
    stsb = load_dataset("stsb", "validation", rows=eval_rows, verbose=False)
    return Yardstick("Spearman on STS-B validation (a general yardstick)", data, stsb)


@dataclass
class LossCard:
    name: str
    summary: str
    formula: str
    inputs: str
    reference: str


def _section(doc: str, title: str) -> str:
    match = re.search(rf"^\s*{title}:\s*\n(.*?)(?:\n\s*\n\s*[A-Z][A-Za-z ]+:\s*\n|\Z)", doc, re.S | re.M)
    return " ".join(line.strip() for line in match.group(1).splitlines() if line.strip()) if match else ""


def loss_card(cls: type) -> LossCard:
    """Summary, formula (LaTeX), inputs and reference, read from the loss's docstring."""
    doc = inspect.getdoc(cls) or ""
    summary = doc.strip().split("\n\n")[0].replace("\n", " ")
    formula = ""
    math = re.search(r"\.\. math::\s*\n((?:[ \t]+.*\n?|\s*\n)+)", doc)
    if math:
        formula = " ".join(line.strip() for line in math.group(1).splitlines() if line.strip())
    return LossCard(cls.__name__, summary, formula, _section(doc, "Inputs"), _section(doc, "Reference"))
