"""Quality over Matryoshka dims and layers: truncation curves, layer curves and the dims x layers heatmap."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import NullLocator

from lossbook.plots._common import annotate_cells, as_array, as_number, figure_and_axes


# -- curves over dims and layers ---------------------------------------------------------------
def _is_grid(obj) -> bool:
    keys = ("dims", "layers", "values")
    return all(k in obj for k in keys) if isinstance(obj, Mapping) else all(hasattr(obj, k) for k in keys)


def _grid_parts(obj, metric=None):
    """``(dims, layers, values (layers x dims), metric)`` of a ``Grid`` or a dict with the same keys."""
    get = obj.get if isinstance(obj, Mapping) else lambda key, default=None: getattr(obj, key, default)
    values = obj.values_of(metric) if metric is not None and hasattr(obj, "values_of") else get("values")
    values, dims, layers = np.atleast_2d(as_array(values)), list(get("dims")), list(get("layers"))
    if values.shape != (len(layers), len(dims)):
        raise ValueError(
            f"Grid values have shape {values.shape}; expected (layers, dims) = ({len(layers)}, {len(dims)})."
        )
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
            xs, ys = list(obj), [as_number(v) for v in obj.values()]
        elif isinstance(obj, (tuple, list)) and len(obj) == 2 and all(np.ndim(part) == 1 for part in obj):
            xs, ys = list(obj[0]), [as_number(v) for v in obj[1]]
        else:
            raise TypeError(
                f"Cannot read a curve from {type(obj).__name__}: give a Grid (lossbook.evaluate), {{x: value}}, "
                "(xs, values), a dict with 'dims', 'layers' and 'values', or {name: one of those}."
            )
        curves.append((name, xs, np.asarray(ys, dtype=float)))
    return curves, metric or "score"


def matryoshka_curves(
    results, *, ax=None, metric: str | None = None, layer: int | None = None, title: str | None = None
):
    """Metric against embedding dimension (log2 axis, ticks at the evaluated dims), one curve per model.

    ``results``: a ``Grid`` (its last layer, or ``layer=``), ``{dim: value}``, ``(dims, values)``, or
    ``{model name: any of those}``. A dotted line in each model's colour marks its full-dimension value.
    """
    curves, found = _curves(results, "dims", layer)
    metric = metric or found
    fig, ax = figure_and_axes(ax)
    for i, (name, dims, ys) in enumerate(curves):
        order = np.argsort(dims)
        ax.plot(
            np.asarray(dims, dtype=float)[order], ys[order], marker="o", color=f"C{i % 10}", linewidth=2, label=name
        )
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
    fig, ax = figure_and_axes(ax)
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
    grid,
    *,
    ax=None,
    dims: Sequence[int] | None = None,
    layers: Sequence | None = None,
    metric: str | None = None,
    fmt: str = "{:.3f}",
    cmap: str = "viridis",
    title: str | None = None,
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
    fig, ax = figure_and_axes(ax, figsize=(2.2 + 1.1 * len(dims), 1.6 + 0.6 * len(layers)))
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, origin="lower", aspect="auto")
    fig.colorbar(image, ax=ax, label=metric)
    annotate_cells(ax, image, values, fmt, fontsize=9)
    ax.set_xticks(range(len(dims)), [str(d) for d in dims])
    ax.set_yticks(range(len(layers)), ["output" if x is None else str(x) for x in layers])
    ax.set_xlabel("embedding dimension")
    ax.set_ylabel("layer")
    ax.set_title(title or f"{metric} by layer and dimension")
    return fig
