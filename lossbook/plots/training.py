"""Training curves and the side-by-side comparison of losses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from lossbook.plots._common import as_array, as_number, figure_and_axes
from lossbook.validate import whole_number


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
    if histories is None or isinstance(histories, (str, bytes)):
        raise TypeError(
            "loss_curves takes a History (from lossbook.train), a list of them, a list of losses, or "
            f"{{name: History}}; got {type(histories).__name__}."
        )
    if isinstance(histories, Mapping):
        runs = list(histories.items())
    elif hasattr(histories, "losses"):
        runs = [(None, histories)]
    elif len(histories) == 0:
        runs = []  # nothing recorded yet (e.g. history.losses before the first step): an empty plot says so
    elif np.ndim(histories) == 1 and not hasattr(histories[0], "losses"):
        runs = [(None, histories)]  # one list of losses
    else:
        runs = [(None, h) for h in histories]
    if smooth not in ("auto", None):
        whole_number(
            smooth, "smooth", minimum=0, fix='Pass a window in steps (e.g. 20), "auto", or None for the raw line.'
        )
    fig, ax = figure_and_axes(ax)
    drawn = 0
    for i, (name, run) in enumerate(runs):
        name = name or getattr(run, "name", "") or f"run {i + 1}"
        losses = as_array(getattr(run, "losses", run)).ravel()
        steps = as_array(getattr(run, "steps", None) or np.arange(1, len(losses) + 1))
        if len(losses) == 0:
            continue
        window = max(1, min(50, len(losses) // 10)) if smooth == "auto" else int(smooth or 1)
        color = f"C{i % 10}"
        stopped = getattr(run, "stopped", "")
        label = name + (f" ({stopped})" if stopped in ("diverged", "interrupted", "stopped", "failed") else "")
        if window > 1:
            ax.plot(steps, losses, color=color, alpha=0.25, linewidth=1)
            ax.plot(
                steps, _moving_average(losses, window), color=color, linewidth=2, label=f"{label}, mean of {window}"
            )
        else:
            ax.plot(steps, losses, color=color, linewidth=1.5, label=label)
        drawn += 1
    if drawn == 0:
        ax.text(0.5, 0.5, "no steps recorded yet", ha="center", va="center", transform=ax.transAxes)
    else:
        ax.legend()
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_title(title or ("Training loss" if len(runs) <= 1 else f"Training loss of {len(runs)} runs"))
    ax.grid(alpha=0.3)
    return fig


# -- comparing losses --------------------------------------------------------------------------
def loss_comparison_bars(
    results: Mapping[str, float | Sequence[float]],
    *,
    metric: str = "score",
    baseline=None,
    baseline_label: str = "untrained",
    ax=None,
    title: str | None = None,
):
    """One bar per loss: its metric, or mean ± standard deviation (each run a dot) for a list of runs.

    Values may be numbers or results with ``.score``; ``baseline`` (e.g. the untrained model's
    score) is a dashed horizontal line, named in the legend by ``baseline_label``.
    """
    if not results:
        raise ValueError("Nothing to compare: results is empty.")
    names = [str(name) for name in results]
    runs = [[as_number(v) for v in (r if isinstance(r, (list, tuple, np.ndarray)) else [r])] for r in results.values()]
    empty = [name for name, r in zip(names, runs) if not r]
    if empty:
        raise ValueError(f"No value for {empty}: give each loss a number, a result, or a non-empty list of runs.")
    means = np.array([np.mean(r) for r in runs])
    stds = np.array([np.std(r, ddof=1) if len(r) > 1 else 0.0 for r in runs])
    several = any(len(r) > 1 for r in runs)
    fig, ax = figure_and_axes(ax, figsize=(max(5.0, 1.1 * len(names) + 2), 4.5))
    xs = np.arange(len(names))
    ax.bar(xs, means, color=[f"C{i % 10}" for i in xs], alpha=0.85, zorder=2)
    if several:
        ax.errorbar(xs, means, yerr=stds, fmt="none", ecolor="black", capsize=4, zorder=3)
        dots = [(x, v) for x, r in zip(xs, runs) if len(r) > 1 for v in r]
        ax.scatter(*zip(*dots), s=12, color="black", alpha=0.6, zorder=4)
    for x, mean, std, r in zip(xs, means, stds, runs):
        up = mean >= 0
        ax.annotate(
            f"{mean:.3f}" + (f"\n± {std:.3f}" if len(r) > 1 else ""),
            (x, max(mean + std, *r) if up else min(mean - std, *r)),
            xytext=(0, 3 if up else -3),
            textcoords="offset points",
            ha="center",
            va="bottom" if up else "top",
            fontsize=8,
        )
    ax.margins(y=0.2)
    if baseline is not None:
        value = as_number(baseline)
        ax.axhline(value, color="grey", linestyle="--", linewidth=1.5, label=f"{baseline_label}: {value:.3f}", zorder=1)
        ax.legend(fontsize=9, loc="best")
    long = max(len(name) for name in names) > 12
    ax.set_xticks(xs, names, rotation=20 if long else 0, ha="right" if long else "center")
    ax.set_xlabel("loss")
    ax.set_ylabel(metric)
    ax.set_title(title or f"{metric} by loss" + ("\n(mean ± std over runs; dots: single runs)" if several else ""))
    ax.grid(axis="y", alpha=0.3, zorder=0)
    return fig
