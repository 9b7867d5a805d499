"""Pictures of embeddings: a batch's similarity matrix and 2-D projections before and after training."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.collections import LineCollection
from matplotlib.patches import Patch, Rectangle

from lossbook.plots._common import annotate_cells, as_array, as_embeddings, figure_and_axes, shorten
from lossbook.similarity import cos_sim

# -- similarity matrix -------------------------------------------------------------------------
_MARKS = {  # gid: (legend text, outline style)
    "positive": ("positive (diagonal)", dict(edgecolor="white", linewidth=2.5)),
    "duplicate": ("false negative: same text", dict(edgecolor="red", linewidth=2.5)),
    "beats-positive": ("negative above positive", dict(edgecolor="orange", linewidth=2, linestyle="--")),
}


def similarity_matrix(
    model_or_embeddings,
    anchors: Sequence[str],
    candidates: Sequence[str],
    *,
    loss=None,
    ax=None,
    dim: int | None = None,
    annotate: bool | None = None,
    max_chars: int = 30,
    cmap: str = "viridis",
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
        raise ValueError(
            f"Need at least one anchor and at least as many candidates (the positives come first); got {n} and {m}."
        )
    if hasattr(model_or_embeddings, "encode"):
        a, c = (as_embeddings(model_or_embeddings, texts, dim) for texts in (anchors, candidates))
    else:
        a, c = (as_embeddings(x, dim=dim) for x in model_or_embeddings)
    if len(a) != n or len(c) != m:
        raise ValueError(f"Got {len(a)} anchor and {len(c)} candidate embeddings for {n} anchors and {m} candidates.")
    sim = cos_sim(a, c).numpy()
    fig, ax = figure_and_axes(ax, figsize=(2.5 + 0.55 * m, 2.5 + 0.45 * n))
    image = ax.imshow(sim, cmap=cmap, aspect="auto")
    fig.colorbar(image, ax=ax, label="cosine similarity")
    if annotate if annotate is not None else n * m <= 100:
        annotate_cells(ax, image, sim, "{:.2f}", fontsize=8)
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
    key = [
        Patch(
            fill=False,
            label=f"{text} ({counts[gid]})",
            **{**style, "edgecolor": "grey" if gid == "positive" else style["edgecolor"]},
        )
        for gid, (text, style) in _MARKS.items()
        if counts[gid]
    ]
    ax.legend(handles=key, loc="upper center", bbox_to_anchor=(0.5, -0.02), ncols=len(key), fontsize=8, frameon=False)
    ax.set_yticks(range(n), [shorten(t, max_chars) for t in anchors], fontsize=8)
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set_xticks(
        range(m),
        [("(neg) " if j >= n else "") + shorten(t, max_chars) for j, t in enumerate(candidates)],
        fontsize=8,
        rotation=40,
        ha="left",
        rotation_mode="anchor",
    )
    ax.set_xlabel("candidates (column i = positive of row i)")
    ax.set_ylabel("anchors")
    loss_text = "" if loss is None else f"\n{type(loss).__name__} = {_batch_loss(loss, a, c, n)}"
    ax.set_title(f"In-batch cosine similarity ({n} x {m}){loss_text}", fontsize=10)
    return fig


def _batch_loss(loss, a: np.ndarray, c: np.ndarray, n: int) -> str:
    if len(c) % n:
        raise ValueError(
            f"To compute the loss, the {len(c)} candidates must be whole columns of {n} (positives, then negatives)."
        )
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
    arrays = [as_array(x) for x in arrays]
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
            ax.annotate(shorten(text, 25), (x, y), fontsize=7, alpha=0.8, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel(f"PC1 ({share[0]:.0%} of variance)")
    ax.set_ylabel(f"PC2 ({share[1]:.0%} of variance)")
    ax.set_title(title)
    handles = ax.get_legend_handles_labels()[0]
    if legend and 0 < len(handles) <= 24:  # many classes: the legend goes outside, off the points
        ax.legend(fontsize=8, **(dict(loc="upper left", bbox_to_anchor=(1.01, 1)) if len(handles) > 5 else {}))
    ax.grid(alpha=0.3)


def embedding_projection(
    embeddings_or_model,
    texts: Sequence[str] | None = None,
    labels=None,
    *,
    before=None,
    pairs=None,
    ax=None,
    annotate: bool | None = None,
    title: str | None = None,
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
    after = as_embeddings(embeddings_or_model, texts)
    earlier = None if before is None else as_embeddings(before, texts)
    if earlier is not None and earlier.shape != after.shape:
        raise ValueError(f"before has embeddings of shape {earlier.shape}, after {after.shape}; they must match.")
    (xy, *old), share = pca_2d(after, *([] if earlier is None else [earlier]))
    fig, ax = figure_and_axes(ax, figsize=(7, 5.5))
    if old:
        (x0, y0), (dx, dy) = old[0].T, (xy - old[0]).T
        ax.scatter(x0, y0, s=25, facecolors="none", edgecolors="grey", alpha=0.6, label="before")
        ax.quiver(x0, y0, dx, dy, angles="xy", scale_units="xy", scale=1, color="grey", alpha=0.35, width=0.004)
    default = "Embeddings, 2-D PCA" + (" (hollow: before training)" if old else "")
    _panel(ax, xy, share, title or default, labels=labels, pairs=pairs, texts=texts, annotate=annotate)
    return fig


def before_after_projection(
    before_embeddings,
    after_embeddings,
    labels=None,
    *,
    texts: Sequence[str] | None = None,
    pairs=None,
    titles: tuple[str, str] = ("Before training", "After training"),
):
    """Two panels, before and after training, on ONE PCA basis fitted on both, so the pictures compare.

    The embeddings are (N, D) arrays of the same texts, or models (then give ``texts``); ``labels`` and
    ``pairs`` are as in ``embedding_projection``. The panels share their axis limits.
    """
    old, new = as_embeddings(before_embeddings, texts), as_embeddings(after_embeddings, texts)
    if old.shape != new.shape:
        raise ValueError(f"before and after embeddings must have the same shape; got {old.shape} and {new.shape}.")
    projected, share = pca_2d(old, new)
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.5), sharex=True, sharey=True, layout="constrained")
    classes = None if labels is None else _classes(labels)
    for ax, xy, title in zip(axes, projected, titles):
        _panel(
            ax,
            xy,
            share,
            title,
            labels=labels,
            pairs=pairs,
            texts=texts,
            annotate=False,
            legend=ax is axes[-1],
            classes=classes,
        )
    fig.suptitle("Embeddings on one PCA basis fitted on before and after together")
    return fig
