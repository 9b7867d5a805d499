"""Pictures of training and evaluation: loss curves, similarity matrices, projections, Matryoshka and layer curves.

Every function draws with matplotlib only, returns the ``Figure``, and takes ``ax=`` to draw into an
existing axes (a new figure is made when it is ``None``); none calls ``plt.show()``. In a notebook,
write ``fig = plots.loss_curves(history)`` (or end the line with ``;``) so the figure shows once.

The curve and grid plots take ``lossbook.evaluate``'s results as they are (a ``Grid``: ``dims``,
``layers``, ``values`` with rows = layers and columns = dims, ``metric``; or a result with ``.score``)
and plain data too: ``{dim: value}``, ``(dims, values)``, a dict with ``"dims"``/``"layers"``/``"values"``
keys, or ``{"model name": any of those}`` for several curves on one axes.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import NullLocator

from lossbook.losses.similarity import cos_sim

__all__ = [
    "before_after_projection", "dims_layers_heatmap", "embedding_projection", "layer_curves",
    "loss_comparison_bars", "loss_curves", "matryoshka_curves", "pca_2d", "similarity_matrix",
]


# -- small helpers -----------------------------------------------------------------------------
def _axes(ax, figsize=(7, 4.5)):
    """``(figure, axes)``: a new figure when ``ax`` is None, else the (root) figure ``ax`` lives in."""
    if ax is None:
        return plt.subplots(figsize=figsize, layout="constrained")
    try:
        return ax.get_figure(root=True), ax  # matplotlib >= 3.10 (subfigures)
    except TypeError:
        return ax.figure, ax


def _number(value) -> float:
    """A float from a number, a 0-d tensor, or a result with ``.score`` (as lossbook.evaluate returns)."""
    value = getattr(value, "score", value)
    return float(value.detach().cpu().item() if isinstance(value, torch.Tensor) else value)


def _array(x) -> np.ndarray:
    return np.asarray(x.detach().float().cpu().numpy() if isinstance(x, torch.Tensor) else x, dtype=np.float64)


def _short(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _embeddings(obj, texts=None, dim=None) -> np.ndarray:
    """(N, D) embeddings: ``obj`` itself, or ``obj.encode(texts)`` when it is a model.

    ``dim`` keeps the first ``dim`` components and re-normalises, as ``EmbeddingModel.encode(dim=)`` does.
    """
    if hasattr(obj, "encode"):
        if texts is None:
            raise ValueError("Give the texts to encode with the model (or pass embeddings instead of a model).")
        obj = obj.encode(list(texts))
    x = _array(obj)
    if x.ndim != 2:
        raise ValueError(f"Expected (N, dim) embeddings, got an array of shape {x.shape}.")
    if dim is not None:
        x = x[:, :dim] / np.maximum(np.linalg.norm(x[:, :dim], axis=1, keepdims=True), 1e-12)
    return x


# -- loss curves -------------------------------------------------------------------------------
def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Mean over a ``window`` centred on each point (narrower at the ends); NaN/inf points are left out."""
    finite = np.isfinite(values)
    sums = np.concatenate([[0.0], np.cumsum(np.where(finite, values, 0.0))])
    counts = np.concatenate([[0], np.cumsum(finite)])
    i = np.arange(len(values))
    lo, hi = np.maximum(i - window // 2, 0), np.minimum(i + window - window // 2, len(values))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (sums[hi] - sums[lo]) / (counts[hi] - counts[lo])


def loss_curves(histories, *, ax=None, smooth: int | str | None = "auto", title: str | None = None):
    """Training loss against step for one run or several overlaid (a light raw line and its moving average).

    Args:
        histories: a ``History``, a list of them, a list of losses, or ``{name: History or list of losses}``.
        smooth: the (centred) moving-average window in steps; ``"auto"`` picks about a tenth of the run (at most
            50); ``None``/``0``/``1`` draws the raw line only.
    Legend entries are each run's ``History.name`` (``"run i"`` when it has none).
    """
    if isinstance(histories, Mapping):
        runs = list(histories.items())
    elif hasattr(histories, "losses") or np.ndim(histories) == 1 and not hasattr(histories[0], "losses"):
        runs = [(None, histories)]  # one History, or one list of losses
    else:
        runs = [(None, h) for h in histories]
    fig, ax = _axes(ax)
    drawn = 0
    for i, (name, run) in enumerate(runs):
        name = name or getattr(run, "name", "") or f"run {i + 1}"
        losses = _array(getattr(run, "losses", run)).ravel()
        steps = _array(getattr(run, "steps", None) or np.arange(1, len(losses) + 1))
        if len(losses) == 0:
            continue
        window = max(1, min(50, len(losses) // 10)) if smooth == "auto" else int(smooth or 1)
        color = f"C{i % 10}"
        stopped = getattr(run, "stopped", "")
        label = name + (f" ({stopped})" if stopped in ("diverged", "interrupted", "stopped") else "")
        if window > 1:
            ax.plot(steps, losses, color=color, alpha=0.25, linewidth=1)
            ax.plot(steps, _moving_average(losses, window), color=color, linewidth=2, label=f"{label}, mean of {window}")
        else:
            ax.plot(steps, losses, color=color, linewidth=1.5, label=label)
        drawn += 1
    if drawn == 0:
        ax.text(0.5, 0.5, "no steps recorded yet", ha="center", va="center", transform=ax.transAxes)
    else:
        ax.legend()
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_title(title or ("Training loss" if len(runs) == 1 else f"Training loss of {len(runs)} runs"))
    ax.grid(alpha=0.3)
    return fig


# -- similarity matrix -------------------------------------------------------------------------
_MARKS = {  # gid: (legend text, outline style)
    "positive": ("positive (diagonal)", dict(edgecolor="white", linewidth=2.5)),
    "duplicate": ("false negative: same text", dict(edgecolor="red", linewidth=2.5)),
    "beats-positive": ("negative above positive", dict(edgecolor="orange", linewidth=2, linestyle="--")),
}


def similarity_matrix(
    model_or_embeddings, anchors: Sequence[str], candidates: Sequence[str], *, loss=None, ax=None,
    dim: int | None = None, annotate: bool | None = None, max_chars: int = 30, cmap: str = "viridis",
):
    """The in-batch cosine similarity matrix, anchors (rows) x candidates (columns), as a ranking loss sees it.

    Candidate ``i`` is anchor ``i``'s positive (diagonal, outlined white); candidates past ``len(anchors)``
    are hard negatives (whole columns of ``len(anchors)``). Outlined red: a "negative" whose text equals
    the row's positive, or whose row has the same anchor (a false negative the loss pushes away);
    dashed orange: a negative more similar than the positive. The outlines are patches with ``gid``
    ``"positive"``, ``"duplicate"`` or ``"beats-positive"``.

    Args:
        model_or_embeddings: a model with ``encode``, or ``(anchor_embeddings, candidate_embeddings)``.
        loss: its value on these embeddings goes in the title:
            ``loss.compute_loss_from_embeddings([anchors, positives, *negatives], None)``.
        dim: keep the first ``dim`` components (Matryoshka).
        annotate: write the similarity in each cell (default: at most 100 cells).
    """
    anchors, candidates = list(anchors), list(candidates)
    n, m = len(anchors), len(candidates)
    if n == 0 or m < n:
        raise ValueError(f"Need at least one anchor and at least as many candidates (the positives come first); got {n} and {m}.")
    if hasattr(model_or_embeddings, "encode"):
        a, c = (_embeddings(model_or_embeddings, texts, dim) for texts in (anchors, candidates))
    else:
        a, c = (_embeddings(x, dim=dim) for x in model_or_embeddings)
    if len(a) != n or len(c) != m:
        raise ValueError(f"Got {len(a)} anchor and {len(c)} candidate embeddings for {n} anchors and {m} candidates.")
    sim = cos_sim(a, c).numpy()
    fig, ax = _axes(ax, figsize=(2.5 + 0.55 * m, 2.5 + 0.45 * n))
    image = ax.imshow(sim, cmap=cmap, aspect="auto")
    fig.colorbar(image, ax=ax, label="cosine similarity")
    if annotate if annotate is not None else n * m <= 100:
        _annotate_cells(ax, image, sim, "{:.2f}", fontsize=8)
    counts = dict.fromkeys(_MARKS, 0)
    for i, j in np.ndindex(n, m):
        if j == i:
            gid = "positive"
        elif candidates[j] == candidates[i] or (j < n and anchors[j] == anchors[i]):
            gid = "duplicate"
        elif sim[i, j] > sim[i, i]:
            gid = "beats-positive"
        else:
            continue
        counts[gid] += 1
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, gid=gid, **_MARKS[gid][1]))
    key = [Patch(fill=False, label=f"{text} ({counts[gid]})", **{**style, "edgecolor": "grey" if gid == "positive" else style["edgecolor"]})
           for gid, (text, style) in _MARKS.items() if counts[gid]]
    ax.legend(handles=key, loc="upper center", bbox_to_anchor=(0.5, -0.02), ncols=len(key), fontsize=8, frameon=False)
    ax.set_yticks(range(n), [_short(t, max_chars) for t in anchors], fontsize=8)
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set_xticks(range(m), [("(neg) " if j >= n else "") + _short(t, max_chars) for j, t in enumerate(candidates)],
                  fontsize=8, rotation=40, ha="left", rotation_mode="anchor")
    ax.set_xlabel("candidates (column i = positive of row i)")
    ax.set_ylabel("anchors")
    loss_text = "" if loss is None else f"\n{type(loss).__name__} = {_batch_loss(loss, a, c, n)}"
    ax.set_title(f"In-batch cosine similarity ({n} x {m}){loss_text}", fontsize=10)
    return fig


def _annotate_cells(ax, image, values: np.ndarray, fmt: str, fontsize: int) -> None:
    """Write each value in its cell, black on light colours and white on dark ones ("n/a" for NaN)."""
    for (i, j), value in np.ndenumerate(values):
        if not math.isfinite(value):
            ax.text(j, i, "n/a", ha="center", va="center", fontsize=fontsize, color="grey")
            continue
        light = np.dot(image.cmap(image.norm(value))[:3], (0.299, 0.587, 0.114)) > 0.5
        ax.text(j, i, fmt.format(value), ha="center", va="center", fontsize=fontsize, color="black" if light else "white")


def _batch_loss(loss, a: np.ndarray, c: np.ndarray, n: int) -> str:
    if len(c) % n:
        raise ValueError(f"To compute the loss, the {len(c)} candidates must be whole columns of {n} (positives, then negatives).")
    columns = [torch.as_tensor(x, dtype=torch.float32) for x in [a, *(c[k : k + n] for k in range(0, len(c), n))]]
    try:
        with torch.no_grad():
            return f"{float(loss.compute_loss_from_embeddings(columns, None)):.4f}"
    except Exception as error:  # noqa: BLE001 - the picture still helps when a loss needs labels
        warnings.warn(f"{type(loss).__name__} could not be computed on this batch: {error}", stacklevel=3)
        return "n/a (needs labels or other columns)"


# -- 2-D projections ---------------------------------------------------------------------------
def pca_2d(*arrays) -> tuple[list[np.ndarray], np.ndarray]:
    """Project arrays of embeddings on the two main axes of all of them together (numpy SVD).

    Returns the (N_i, 2) projections and the share of variance of each axis. Signs are fixed (each
    axis's largest loading is positive), so repeated calls agree.
    """
    arrays = [_array(x) for x in arrays]
    stacked = np.concatenate(arrays)
    mean = stacked.mean(axis=0)
    _, s, vt = np.linalg.svd(stacked - mean, full_matrices=False)
    vt = vt[:2] * np.sign(vt[:2][np.arange(len(vt[:2])), np.abs(vt[:2]).argmax(axis=1)] + 1e-300)[:, None]
    share = np.pad(s[:2] ** 2 / max(np.sum(s**2), 1e-300), (0, 2 - len(vt)))
    return [np.pad((x - mean) @ vt.T, ((0, 0), (0, 2 - len(vt)))) for x in arrays], share


def _pairs(pairs, n: int) -> list[tuple[int, int]]:
    if pairs is True:
        if n % 2:
            raise ValueError("pairs=True joins text i with text i + N/2, so it needs an even number of texts.")
        return [(i, i + n // 2) for i in range(n // 2)]
    pairs = [tuple(int(k) for k in p) for p in pairs]
    if any(len(p) != 2 or not all(0 <= k < n for k in p) for p in pairs):
        raise ValueError(f"pairs must be (i, j) index pairs into the {n} texts, or True (first half with second half).")
    return pairs


def _classes(labels) -> list:
    try:
        return sorted(set(labels))
    except TypeError:  # mixed types
        return sorted(set(labels), key=str)


def _panel(ax, xy, share, title, *, labels=None, pairs=None, texts=None, annotate=None, legend=True, classes=None):
    """Draw one projection: pair lines, points coloured by label (or a colour bar), text, axis labels."""
    if pairs is not None:
        segments = [[xy[i], xy[j]] for i, j in _pairs(pairs, len(xy))]
        ax.add_collection(LineCollection(segments, colors="black", linewidths=1, alpha=0.4, label="pair", zorder=1))
    labels = None if labels is None else list(labels)
    if labels is not None and len(labels) != len(xy):
        raise ValueError(f"Got {len(labels)} labels for {len(xy)} embeddings.")
    classes = classes or (None if labels is None else _classes(labels))
    if labels is None:
        ax.scatter(xy[:, 0], xy[:, 1], s=25, color="C0", label="texts")
    elif len(classes) > 20 and all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in labels):
        points = ax.scatter(xy[:, 0], xy[:, 1], c=np.asarray(labels, float), cmap="viridis", s=25)
        ax.get_figure().colorbar(points, ax=ax, label="label")
    else:
        palette = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
        for k, cls in enumerate(classes):
            mask = np.array([v == cls for v in labels])
            if mask.any():
                ax.scatter(xy[mask, 0], xy[mask, 1], s=25, color=palette(k % palette.N), label=str(cls))
    if texts is not None and (annotate if annotate is not None else len(texts) <= 15):
        for (x, y), text in zip(xy, texts):
            ax.annotate(_short(text, 25), (x, y), fontsize=7, alpha=0.8, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel(f"PC1 ({share[0]:.0%} of variance)")
    ax.set_ylabel(f"PC2 ({share[1]:.0%} of variance)")
    ax.set_title(title)
    handles = ax.get_legend_handles_labels()[0]
    if legend and 0 < len(handles) <= 24:  # many classes: the legend goes outside, off the points
        ax.legend(fontsize=8, **(dict(loc="upper left", bbox_to_anchor=(1.01, 1)) if len(handles) > 5 else {}))
    ax.grid(alpha=0.3)


def embedding_projection(
    embeddings_or_model, texts: Sequence[str] | None = None, labels=None, *, before=None, pairs=None, ax=None,
    annotate: bool | None = None, title: str | None = None,
):
    """Embeddings on their two main PCA axes, coloured by ``labels``, with lines joining ``pairs``.

    Args:
        embeddings_or_model: (N, D) embeddings, or a model that encodes ``texts``.
        texts: the N texts (needed with a model; written by the points when there are at most 15).
        labels: one class per text (a colour and legend entry each; many numeric values get a colour bar).
        before: embeddings (or a model) of the same texts before training, drawn hollow with an arrow
            to where each text moved; the PCA is fitted on both.
        pairs: ``(i, j)`` index pairs to join, or ``True`` to join text i with text i + N/2 (texts
            given as anchors, then their positives).
    """
    after = _embeddings(embeddings_or_model, texts)
    earlier = None if before is None else _embeddings(before, texts)
    if earlier is not None and earlier.shape != after.shape:
        raise ValueError(f"before has embeddings of shape {earlier.shape}, after {after.shape}; they must match.")
    (xy, *old), share = pca_2d(after, *([] if earlier is None else [earlier]))
    fig, ax = _axes(ax, figsize=(7, 5.5))
    if old:
        (x0, y0), (dx, dy) = old[0].T, (xy - old[0]).T
        ax.scatter(x0, y0, s=25, facecolors="none", edgecolors="grey", alpha=0.6, label="before")
        ax.quiver(x0, y0, dx, dy, angles="xy", scale_units="xy", scale=1, color="grey", alpha=0.35, width=0.004)
    default = "Embeddings, 2-D PCA" + (" (hollow: before training)" if old else "")
    _panel(ax, xy, share, title or default, labels=labels, pairs=pairs, texts=texts, annotate=annotate)
    return fig


def before_after_projection(
    before_embeddings, after_embeddings, labels=None, *, texts: Sequence[str] | None = None, pairs=None,
    titles: tuple[str, str] = ("Before training", "After training"),
):
    """Two panels, before and after training, on ONE PCA basis fitted on both, so the pictures compare.

    The embeddings are (N, D) arrays of the same texts, or models (then give ``texts``); ``labels`` and
    ``pairs`` are as in ``embedding_projection``. The panels share their axis limits.
    """
    old, new = _embeddings(before_embeddings, texts), _embeddings(after_embeddings, texts)
    if old.shape != new.shape:
        raise ValueError(f"before and after embeddings must have the same shape; got {old.shape} and {new.shape}.")
    projected, share = pca_2d(old, new)
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.5), sharex=True, sharey=True, layout="constrained")
    classes = None if labels is None else _classes(labels)
    for ax, xy, title in zip(axes, projected, titles):
        _panel(ax, xy, share, title, labels=labels, pairs=pairs, texts=texts, annotate=False, legend=ax is axes[-1], classes=classes)
    fig.suptitle("Embeddings on one PCA basis fitted on before and after together")
    return fig


# -- curves over dims and layers ---------------------------------------------------------------
def _is_grid(obj) -> bool:
    keys = ("dims", "layers", "values")
    return all(k in obj for k in keys) if isinstance(obj, Mapping) else all(hasattr(obj, k) for k in keys)


def _grid_parts(obj, metric=None):
    """``(dims, layers, values (layers x dims), metric)`` of a ``Grid`` or a dict with the same keys."""
    get = obj.get if isinstance(obj, Mapping) else lambda key, default=None: getattr(obj, key, default)
    values = obj.values_of(metric) if metric is not None and hasattr(obj, "values_of") else get("values")
    values, dims, layers = np.atleast_2d(_array(values)), list(get("dims")), list(get("layers"))
    if values.shape != (len(layers), len(dims)):
        raise ValueError(f"Grid values have shape {values.shape}; expected (layers, dims) = ({len(layers)}, {len(dims)}).")
    return dims, layers, values, metric or get("metric") or "score"


def _curves(results, over: str, pick):
    """``[(name or None, xs, ys)]`` and the metric name, from one curve or ``{name: curve}``."""
    single = _is_grid(results) or not isinstance(results, Mapping) or not all(isinstance(k, str) for k in results)
    curves, metric = [], None
    for name, obj in [(None, results)] if single else results.items():
        if _is_grid(obj):
            dims, layers, values, metric = _grid_parts(obj)
            if over == "dims":  # one layer (the last unless picked), every dim
                xs, ys = dims, values[len(layers) - 1 if pick is None else layers.index(pick)]
            else:  # one dim (the largest unless picked), every layer
                xs, ys = layers, values[:, dims.index(max(dims) if pick is None else pick)]
        elif isinstance(obj, Mapping):
            xs, ys = list(obj), [_number(v) for v in obj.values()]
        elif isinstance(obj, (tuple, list)) and len(obj) == 2 and all(np.ndim(part) == 1 for part in obj):
            xs, ys = list(obj[0]), [_number(v) for v in obj[1]]
        else:
            raise TypeError(
                f"Cannot read a curve from {type(obj).__name__}: give a Grid (lossbook.evaluate), {{x: value}}, "
                "(xs, values), a dict with 'dims', 'layers' and 'values', or {name: one of those}."
            )
        curves.append((name, xs, np.asarray(ys, dtype=float)))
    return curves, metric or "score"


def matryoshka_curves(results, *, ax=None, metric: str | None = None, layer: int | None = None, title: str | None = None):
    """Metric against embedding dimension (log2 axis, ticks at the evaluated dims), one curve per model.

    ``results``: a ``Grid`` (its last layer, or ``layer=``), ``{dim: value}``, ``(dims, values)``, or
    ``{model name: any of those}``. A dotted line in each model's colour marks its full-dimension value.
    """
    curves, found = _curves(results, "dims", layer)
    metric = metric or found
    fig, ax = _axes(ax)
    for i, (name, dims, ys) in enumerate(curves):
        order = np.argsort(dims)
        ax.plot(np.asarray(dims, dtype=float)[order], ys[order], marker="o", color=f"C{i % 10}", linewidth=2, label=name)
        ax.axhline(ys[order][-1], color=f"C{i % 10}", linestyle=":", linewidth=1.2)
    ticks = sorted({int(d) for _, dims, _ in curves for d in dims})
    ax.set_xscale("log", base=2)
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticks(ticks, [str(d) for d in ticks])
    ax.set_xlabel("embedding dimension (first d components kept)")
    ax.set_ylabel(metric)
    ax.set_title(title or f"{metric} by Matryoshka dimension")
    full = Line2D([], [], color="grey", linestyle=":", label="value at full dimension")
    ax.legend(handles=[*ax.get_legend_handles_labels()[0], full], fontsize=9)
    ax.grid(alpha=0.3)
    return fig


def layer_curves(results, *, ax=None, metric: str | None = None, dim: int | None = None, title: str | None = None):
    """Metric against transformer layer, one curve per model.

    ``results``: a ``Grid`` (its largest dim, or ``dim=``), ``{layer: value}``, ``(layers, values)``,
    or ``{model name: any of those}``. A layer ``None`` (the model's output) is drawn after the others.
    """
    curves, found = _curves(results, "layers", dim)
    metric = metric or found
    output_at = max([int(x) for _, xs, _ in curves for x in xs if x is not None], default=0) + 1
    fig, ax = _axes(ax)
    ticks = {}
    for i, (name, layers, ys) in enumerate(curves):
        xs = np.array([output_at if x is None else int(x) for x in layers])
        ticks.update({x: "output" if x is None else str(int(x)) for x in layers})
        order = np.argsort(xs)
        ax.plot(xs[order], ys[order], marker="o", color=f"C{i % 10}", linewidth=2, label=name)
    positions = {output_at if x is None else int(x): text for x, text in ticks.items()}
    ax.set_xticks(sorted(positions), [positions[x] for x in sorted(positions)])
    ax.set_xlabel("layer (embedding read after this transformer layer)")
    ax.set_ylabel(metric)
    ax.set_title(title or f"{metric} by layer")
    if any(name for name, _, _ in curves):
        ax.legend(fontsize=9)
    ax.grid(alpha=0.3)
    return fig


def dims_layers_heatmap(
    grid, *, ax=None, dims: Sequence[int] | None = None, layers: Sequence | None = None, metric: str | None = None,
    fmt: str = "{:.3f}", cmap: str = "viridis", title: str | None = None,
):
    """The dims x layers grid as an annotated heat map (rows = layers, the last on top; columns = dims).

    ``grid``: a ``Grid`` (``metric=`` picks another of its metrics), a dict with ``"dims"``,
    ``"layers"`` and ``"values"``, or a (layers, dims) array with ``dims=`` and ``layers=``.
    """
    if not _is_grid(grid):
        if dims is None or layers is None:
            raise ValueError("A plain array needs dims=[...] (its columns) and layers=[...] (its rows).")
        grid = {"dims": dims, "layers": layers, "values": grid, "metric": metric}
    dims, layers, values, metric = _grid_parts(grid, metric)
    fig, ax = _axes(ax, figsize=(2.2 + 1.1 * len(dims), 1.6 + 0.6 * len(layers)))
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, origin="lower", aspect="auto")
    fig.colorbar(image, ax=ax, label=metric)
    _annotate_cells(ax, image, values, fmt, fontsize=9)
    ax.set_xticks(range(len(dims)), [str(d) for d in dims])
    ax.set_yticks(range(len(layers)), ["output" if x is None else str(x) for x in layers])
    ax.set_xlabel("embedding dimension")
    ax.set_ylabel("layer")
    ax.set_title(title or f"{metric} by layer and dimension")
    return fig


# -- comparing losses --------------------------------------------------------------------------
def loss_comparison_bars(
    results: Mapping[str, float | Sequence[float]], *, metric: str = "score", baseline=None,
    baseline_label: str = "untrained", ax=None, title: str | None = None,
):
    """One bar per loss: its metric, or mean ± standard deviation (each run a dot) for a list of runs.

    Values may be numbers or results with ``.score``; ``baseline`` (e.g. the untrained model's
    score) is a dashed horizontal line, named in the legend by ``baseline_label``.
    """
    if not results:
        raise ValueError("Nothing to compare: results is empty.")
    names = [str(name) for name in results]
    runs = [[_number(v) for v in (r if isinstance(r, (list, tuple, np.ndarray)) else [r])] for r in results.values()]
    means = np.array([np.mean(r) for r in runs])
    stds = np.array([np.std(r, ddof=1) if len(r) > 1 else 0.0 for r in runs])
    several = any(len(r) > 1 for r in runs)
    fig, ax = _axes(ax, figsize=(max(5.0, 1.1 * len(names) + 2), 4.5))
    xs = np.arange(len(names))
    ax.bar(xs, means, color=[f"C{i % 10}" for i in xs], alpha=0.85, zorder=2)
    if several:
        ax.errorbar(xs, means, yerr=stds, fmt="none", ecolor="black", capsize=4, zorder=3)
        dots = [(x, v) for x, r in zip(xs, runs) if len(r) > 1 for v in r]
        ax.scatter(*zip(*dots), s=12, color="black", alpha=0.6, zorder=4)
    for x, mean, std, r in zip(xs, means, stds, runs):
        up = mean >= 0
        ax.annotate(f"{mean:.3f}" + (f"\n± {std:.3f}" if len(r) > 1 else ""), (x, max(mean + std, *r) if up else min(mean - std, *r)),
                    xytext=(0, 3 if up else -3), textcoords="offset points", ha="center", va="bottom" if up else "top", fontsize=8)
    ax.margins(y=0.2)
    if baseline is not None:
        value = _number(baseline)
        ax.axhline(value, color="grey", linestyle="--", linewidth=1.5, label=f"{baseline_label}: {value:.3f}", zorder=1)
        ax.legend(fontsize=9, loc="best")
    long = max(len(name) for name in names) > 12
    ax.set_xticks(xs, names, rotation=20 if long else 0, ha="right" if long else "center")
    ax.set_xlabel("loss")
    ax.set_ylabel(metric)
    ax.set_title(title or f"{metric} by loss" + ("\n(mean ± std over runs; dots: single runs)" if several else ""))
    ax.grid(axis="y", alpha=0.3, zorder=0)
    return fig
