"""Pictures of a loss's anatomy (``lossbook.anatomy``): the forces on the points, and each pair's share of them."""

from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.collections import LineCollection

from lossbook.plots._common import figure_and_axes

__all__ = ["anatomy_plot", "auto_arrow_scale", "pair_weights_heatmap"]

_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
_CIRCLE = np.exp(1j * np.linspace(0.0, 2.0 * np.pi, 121))


def auto_arrow_scale(anat, longest: float = 0.6) -> float:
    """The factor that draws the longest ``-gradient`` arrow ``longest`` units long (1 when every gradient is 0)."""
    largest = float(np.linalg.norm(anat.flat_gradients[:, :2], axis=1).max(initial=0.0))
    return longest / largest if largest > 0 else 1.0


def anatomy_plot(anat, ax=None, *, arrow_scale: float | None = None, title: str | None = None):
    """The points on the unit circle, each with its ``-gradient`` as an arrow; positive pairs joined by a dashed line.

    Points are coloured by column (by class for single sentences + class) and named as in ``anat.pair_labels``.
    Teacher embeddings, for the distillation formats, are grey crosses with a dotted line to their point. Points
    of more than 2 dims (MatryoshkaLoss) are drawn by their first two coordinates, arrows too.

    Args:
        anat: an :class:`lossbook.anatomy.Anatomy`.
        arrow_scale: arrows are ``-gradient * arrow_scale`` (default :func:`auto_arrow_scale`: the longest 0.6);
            keep one value across steps to see the forces shrink as the loss falls.
    """
    fig, ax = figure_and_axes(ax, figsize=(3.8, 3.8))
    points, forces = anat.points[:, :2], -anat.flat_gradients[:, :2]
    scale = auto_arrow_scale(anat) if arrow_scale is None else arrow_scale
    colours = [_COLOURS[group % len(_COLOURS)] for group in anat.groups]
    ax.plot(_CIRCLE.real, _CIRCLE.imag, color="0.85", linewidth=1, zorder=0)
    if anat.positive_pairs:
        segments = [(points[p], points[q]) for p, q in anat.positive_pairs]
        ax.add_collection(LineCollection(segments, colors="0.55", linestyles="--", linewidths=0.9, zorder=1))
    targets = anat.teacher_targets
    if targets is not None:
        targets = targets[:, :2]
        ax.add_collection(LineCollection(list(zip(points, targets)), colors="0.6", linestyles=":", linewidths=0.9))
        ax.scatter(targets[:, 0], targets[:, 1], marker="x", color="0.4", s=30, zorder=2)
    ax.scatter(points[:, 0], points[:, 1], c=colours, s=34, zorder=3, edgecolors="white", linewidths=0.6)
    ax.quiver(
        points[:, 0],
        points[:, 1],
        forces[:, 0] * scale,
        forces[:, 1] * scale,
        color=colours,
        angles="xy",
        scale_units="xy",
        scale=1,
        width=0.007,
        zorder=4,
    )
    for (x, y), name in zip(points, anat.pair_labels):
        radius = max(float(np.hypot(x, y)), 1e-9)
        ax.text(x * (1 + 0.17 / radius), y * (1 + 0.17 / radius), name, fontsize=7, ha="center", va="center")
    ax.set_xlim(-1.45, 1.45)
    ax.set_ylim(-1.45, 1.45)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    dims = anat.points.shape[1]
    shown = "" if dims == 2 else f" (first 2 of {dims} dims)"
    heading = title or f"{anat.loss_name}\nL = {anat.loss_value:.4f}"
    ax.set_title(f"{heading}\narrows: -dL/dx x {scale:.3g}{shown}", fontsize=8)
    return fig


def pair_weights_heatmap(anat, ax=None, *, annotate: bool | None = None):
    """Each pair's pull (blue, +) or push (red, -): ``-pair_sign * dL/ds`` for the pairs the loss reads.

    Rows are the first argument of the loss's similarity (or distance) function, columns the second; only the
    rows and columns the loss reads are shown, pairs it never compares are left blank. Without pair weights
    (a loss that compares no two points) the axes say why.

    Args:
        annotate: write each value in its cell (default: at most 64 cells).
    """
    fig, ax = figure_and_axes(ax, figsize=(3.8, 3.4))
    if anat.pair_weights is None:
        ax.text(0.5, 0.5, textwrap.fill(anat.note or "no pair weights", 40), ha="center", va="center", fontsize=8)
        ax.set_axis_off()
        return fig
    read = anat.pair_read
    rows, columns = np.flatnonzero(read.any(axis=1)), np.flatnonzero(read.any(axis=0))
    pull = np.where(read, anat.pull, np.nan)[np.ix_(rows, columns)]
    limit = float(np.nanmax(np.abs(pull), initial=0.0)) or 1.0
    ax.imshow(pull, cmap="RdBu", vmin=-limit, vmax=limit, aspect="auto")
    if annotate if annotate is not None else pull.size <= 64:
        for (i, j), value in np.ndenumerate(pull):
            if np.isfinite(value):
                dark = abs(value) > 0.6 * limit
                text = f"{value:.2g}" if abs(value) > 1e-3 * limit else "0"  # rounding noise shows as 0, not -1e-17
                ax.text(j, i, text, ha="center", va="center", fontsize=6, color="white" if dark else "black")
    ax.set_xticks(range(len(columns)), [anat.pair_labels[c] for c in columns], fontsize=7)
    ax.set_yticks(range(len(rows)), [anat.pair_labels[r] for r in rows], fontsize=7)
    sign = "-" if anat.pair_sign > 0 else "+"
    ax.set_title(f"pull (+, blue) / push (-, red) per pair\n{sign}dL/d {anat.pair_measure}", fontsize=8)
    return fig
