"""Evaluate an embedding model: STS correlation, matching pairs, triplets, k-NN classification, retrieval.

Every task has a *core* function that works on precomputed embeddings (``sts_metrics``,
``binary_metrics``, ``triplet_metrics``, ``knn_metrics``, ``retrieval_metrics``, in ``lossbook.metrics``
and re-exported here) and an ``evaluate_*`` function that encodes the data and calls it. Similarity is always cosine.

``dims=[...]`` (Matryoshka truncation) and ``layers=[...]`` (read an earlier transformer layer) turn a
single result into a ``Grid`` (rows = layers, columns = dims). Each text is encoded once per layer;
the dims are cut from those embeddings in memory, which gives the same vectors as
``model.encode(texts, dim=d)`` (truncate, then re-normalise). ``evaluate(model, data)`` picks the task
from the data format, so a trainer can call one function.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable

import numpy as np

from lossbook.data import RetrievalSet
from lossbook.detect import as_dataset, detect_format, label_column_of
from lossbook.metrics import (
    BinaryResult,
    ClassificationResult,
    EvaluationWarning,
    Grid,
    Result,
    RetrievalResult,
    STSResult,
    TripletResult,
    average_precision,
    binary_metrics,
    check_binary,
    check_gold,
    check_k,
    check_k_values,
    knn_metrics,
    retrieval_metrics,
    sts_metrics,
    triplet_metrics,
)
from lossbook.validate import model_with_encode, whole_number

__all__ = [
    "EVALUABLE_FORMATS",
    "BinaryResult",
    "ClassificationResult",
    "EvaluationWarning",
    "Grid",
    "Result",
    "RetrievalResult",
    "STSResult",
    "TripletResult",
    "average_precision",
    "binary_metrics",
    "evaluate",
    "evaluate_binary",
    "evaluate_classification",
    "evaluate_grid",
    "evaluate_retrieval",
    "evaluate_sts",
    "evaluate_triplets",
    "knn_metrics",
    "retrieval_metrics",
    "sts_metrics",
    "triplet_metrics",
]


# -- encoding and the dims x layers grid -------------------------------------------------------
def _run(
    model,
    text_lists: list[list[str]],
    core: Callable[..., Result],
    *,
    dims,
    layers,
    batch_size: int,
    grid: bool,
    progress: bool | None = None,
):
    """Encode the (deduplicated) texts once per layer, cut each dim in memory, call ``core`` on each."""
    model_with_encode(model, "evaluate")
    whole_number(batch_size, "batch_size", fix="Texts per forward pass of the model, e.g. 32.")
    grid = grid or dims is not None or layers is not None
    dim_list = None if dims is None else _check_dims(dims, _model_attr(model, "embedding_dim"))
    layer_list = [None] if layers is None else _check_layers(layers, model)
    rows = []
    for layer in layer_list:
        full = _embed(model, text_lists, layer=layer, batch_size=batch_size, progress=progress)
        dim_list = _check_dims(dim_list or [full[0].shape[1]], full[0].shape[1])
        rows.append([core(*(e[:, :d] for e in full)) for d in dim_list])
    if not grid:
        return rows[0][0]
    labels = [_model_attr(model, "num_layers") if layer is None else layer for layer in layer_list]
    return Grid(dims=dim_list, layers=labels, results=rows, metric=rows[0][0].primary)


def _model_attr(model, name: str) -> int | None:
    """``model.embedding_dim`` / ``model.num_layers`` where the model has them (a SentenceTransformer may not)."""
    value = getattr(model, name, None)
    return value if isinstance(value, int) else None


def _check_dims(dims, width: int | None) -> list[int]:
    dims = [dims] if isinstance(dims, int) else list(dims)
    bad = [
        d for d in dims if not isinstance(d, (int, np.integer)) or isinstance(d, bool) or d < 1 or (width and d > width)
    ]
    if not dims or bad:
        raise ValueError(
            f"dims must be a non-empty list of ints in 1..{width or 'the embedding size'} "
            f"(the model's embedding size); got {dims!r}."
        )
    return [int(d) for d in dims]


def _check_layers(layers, model) -> list[int]:
    layers = [layers] if isinstance(layers, int) else list(layers)
    n = _model_attr(model, "num_layers")
    bad = [x for x in layers if not isinstance(x, int) or isinstance(x, bool) or x == 0 or (n and not -n <= x <= n)]
    if not layers or bad:
        raise ValueError(
            f"layers must be a non-empty list of ints in 1..{n or 'num_layers'} "
            f"(negative counts from the end); got {layers!r}."
        )
    return [n + x + 1 if x < 0 and n else x for x in layers]


def _embed(
    model, text_lists: list[list[str]], *, layer: int | None, batch_size: int, progress: bool | None = None
) -> list[np.ndarray]:
    unique = list(dict.fromkeys(text for texts in text_lists for text in texts))
    kwargs = {} if layer is None else {"layer": layer}
    if progress is not None:
        kwargs.update(_progress_option(model, progress))
    embeddings = model.encode(unique, batch_size=batch_size, convert_to_numpy=True, **kwargs)
    embeddings = np.asarray(embeddings.cpu() if hasattr(embeddings, "cpu") else embeddings, dtype=np.float64)
    if embeddings.ndim != 2 or len(embeddings) != len(unique):
        raise ValueError(
            f"model.encode returned shape {embeddings.shape} for {len(unique)} texts; expected ({len(unique)}, dim)."
        )
    index = {text: i for i, text in enumerate(unique)}
    return [embeddings[[index[text] for text in texts]] for texts in text_lists]


def _progress_option(model, progress: bool) -> dict:
    """The keyword that turns the model's encode progress bar on or off: lossbook's or sentence-transformers'."""
    try:
        parameters = inspect.signature(model.encode).parameters
    except (TypeError, ValueError):  # an encode that does not say: leave its bar as it is
        return {}
    for name in ("show_progress", "show_progress_bar"):
        if name in parameters:
            return {name: progress}
    return {}


# -- reading the data --------------------------------------------------------------------------
def _columns(data, task: str, n_inputs: int, *, labelled: bool, expected: str):
    """Text columns (as lists of str) and the label column (a list, or None) of a Dataset / dict of columns."""
    try:
        dataset = as_dataset(data)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{task} expects {expected}: {error}") from None
    columns = list(dataset.column_names)
    label_column = label_column_of(columns)
    inputs = [c for c in columns if c != label_column]
    if len(inputs) != n_inputs or labelled != (label_column is not None):
        raise ValueError(f"{task} expects {expected}; got columns {columns}.")
    if len(dataset) == 0:
        raise ValueError(f"{task} got an empty data set; it expects {expected}.")
    texts = [list(dataset[c]) for c in inputs]
    for column, values in zip(inputs, texts):
        if not all(isinstance(v, str) for v in values):
            raise ValueError(f"{task}: column {column!r} must hold text (str) in every row.")
    return texts, (list(dataset[label_column]) if label_column else None)


def evaluate_sts(
    model, data, *, dims=None, layers=None, batch_size: int = 32, grid: bool = False, progress: bool | None = None
):
    """Spearman/Pearson of cosine vs gold scores. ``data``: two text columns + a float ``score`` (or ``label``).

    Returns an ``STSResult``, or a ``Grid`` of them when ``dims`` or ``layers`` is given (or ``grid=True``).
    """
    texts, gold = _columns(
        data, "evaluate_sts", 2, labelled=True, expected="two text columns and a float 'score' (or 'label') column"
    )
    gold = check_gold(gold)
    return _run(
        model,
        texts,
        lambda x, y: sts_metrics(x, y, gold),
        dims=dims,
        layers=layers,
        batch_size=batch_size,
        grid=grid,
        progress=progress,
    )


def evaluate_binary(
    model, data, *, dims=None, layers=None, batch_size: int = 32, grid: bool = False, progress: bool | None = None
):
    """AP, best F1 and best accuracy of cosine as a match score. ``data``: two text columns + a 0/1 ``label``."""
    texts, labels = _columns(
        data, "evaluate_binary", 2, labelled=True, expected="two text columns and a 0/1 'label' column"
    )
    labels = check_binary(np.asarray(labels))
    return _run(
        model,
        texts,
        lambda x, y: binary_metrics(x, y, labels),
        dims=dims,
        layers=layers,
        batch_size=batch_size,
        grid=grid,
        progress=progress,
    )


def evaluate_triplets(
    model, data, *, dims=None, layers=None, batch_size: int = 32, grid: bool = False, progress: bool | None = None
):
    """Share of (anchor, positive, negative) rows where the positive is closer. ``data``: three text columns."""
    texts, _ = _columns(
        data,
        "evaluate_triplets",
        3,
        labelled=False,
        expected="three text columns (anchor, positive, negative) and no label",
    )
    return _run(
        model, texts, triplet_metrics, dims=dims, layers=layers, batch_size=batch_size, grid=grid, progress=progress
    )


def evaluate_classification(
    model,
    train,
    test,
    *,
    k: int = 5,
    dims=None,
    layers=None,
    batch_size: int = 32,
    grid: bool = False,
    progress: bool | None = None,
):
    """k-NN accuracy of ``test`` against ``train``; each is one text column + a ``label`` column."""
    expected = "one text column and a 'label' column"
    train_texts, train_labels = _columns(train, "evaluate_classification (train)", 1, labelled=True, expected=expected)
    test_texts, test_labels = _columns(test, "evaluate_classification (test)", 1, labelled=True, expected=expected)
    check_k(k, len(train_labels))
    core = lambda tr, te: knn_metrics(tr, train_labels, te, test_labels, k=k)  # noqa: E731
    return _run(
        model,
        train_texts + test_texts,
        core,
        dims=dims,
        layers=layers,
        batch_size=batch_size,
        grid=grid,
        progress=progress,
    )


def evaluate_retrieval(
    model,
    retrieval_set: RetrievalSet,
    *,
    k_values=(1, 5, 10),
    dims=None,
    layers=None,
    batch_size: int = 32,
    grid: bool = False,
    progress: bool | None = None,
):
    """MRR@10, NDCG@10, Recall@k, Accuracy@k of ranking ``retrieval_set.corpus`` for each query.

    Only queries with at least one relevant passage are evaluated (and encoded).
    """
    if not isinstance(retrieval_set, RetrievalSet):
        raise ValueError(
            "evaluate_retrieval expects a RetrievalSet (see lossbook.data.load_retrieval), "
            f"got {type(retrieval_set).__name__}."
        )
    k_values = check_k_values(k_values)
    relevant = retrieval_set.relevant
    qids = [q for q in retrieval_set.queries if relevant.get(q)]
    pids = list(retrieval_set.corpus)
    if not qids or not pids:
        raise ValueError(
            "evaluate_retrieval needs a corpus and queries with relevant passages; "
            f"got {retrieval_set!r} with {len(qids)} such queries."
        )
    missing = set().union(*(relevant[q] for q in qids)) - set(pids)
    if missing:
        shown = sorted(missing)[:3]
        warnings.warn(
            f"{len(missing)} relevant passage id(s) are not in the corpus (e.g. {shown}); they count as never found.",
            EvaluationWarning,
            stacklevel=2,
        )
    texts = [[retrieval_set.queries[q] for q in qids], [retrieval_set.corpus[p] for p in pids]]
    core = lambda q, c: retrieval_metrics(q, c, qids, pids, relevant, k_values=k_values)  # noqa: E731
    return _run(model, texts, core, dims=dims, layers=layers, batch_size=batch_size, grid=grid, progress=progress)


# -- one entry point ---------------------------------------------------------------------------
# The data formats ``evaluate`` scores, each with the name of its main metric; single sentences + class are
# scored by k-NN, voting with ``train=`` (training rows). Whoever asks "can this data be evaluated?" reads this.
EVALUABLE_FORMATS = {
    "pair-score": "Spearman",
    "pair-binary": "AP",
    "triplet": "accuracy",
    "sentence-class": "k-NN accuracy",
}
_BY_FORMAT = {"pair-score": evaluate_sts, "pair-binary": evaluate_binary, "triplet": evaluate_triplets}


def evaluate(
    model,
    data,
    *,
    dims=None,
    layers=None,
    batch_size: int = 32,
    grid: bool = False,
    train=None,
    k: int = 5,
    k_values=(1, 5, 10),
    progress: bool | None = None,
):
    """Evaluate with the task that fits ``data``: a ``RetrievalSet`` -> retrieval, otherwise by detected format.

    ``pair-score`` -> ``evaluate_sts``; ``pair-binary`` -> ``evaluate_binary``; ``triplet`` ->
    ``evaluate_triplets``; ``sentence-class`` -> ``evaluate_classification`` against ``train=``.
    Returns the task's result, or a ``Grid`` when ``dims`` or ``layers`` is given (or ``grid=True``).
    """
    common = dict(dims=dims, layers=layers, batch_size=batch_size, grid=grid, progress=progress)
    if isinstance(data, RetrievalSet):
        return evaluate_retrieval(model, data, k_values=k_values, **common)
    try:
        key = detect_format(data).format.key
    except (TypeError, ValueError) as error:
        raise ValueError(f"evaluate could not tell which task this data is for: {error}") from None
    if key == "sentence-class":
        if train is None:
            raise ValueError(
                "Single sentences with classes are evaluated by k-NN against a train set: pass train=<train data>."
            )
        return evaluate_classification(model, train, data, k=k, **common)
    if key not in EVALUABLE_FORMATS:
        raise ValueError(
            f"No evaluator for data of format {key!r}. evaluate handles {', '.join(EVALUABLE_FORMATS)} "
            "(sentence-class with train=) and a RetrievalSet."
        )
    return _BY_FORMAT[key](model, data, **common)


def evaluate_grid(model, data, *, dims=None, layers=None, **kwargs) -> Grid:
    """``evaluate`` that always returns a ``Grid`` (1 x 1 without dims or layers), for code that plots curves."""
    return evaluate(model, data, dims=dims, layers=layers, grid=True, **kwargs)
