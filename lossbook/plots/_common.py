"""Helpers shared by the plotting modules: axes, numbers and arrays from tensors or results, short labels."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from lossbook.similarity import normalize_rows_np

__all__ = ["annotate_cells", "as_array", "as_embeddings", "as_number", "figure_and_axes", "shorten"]


# -- small helpers -----------------------------------------------------------------------------
def figure_and_axes(ax, figsize=(7, 4.5)):
    """``(figure, axes)``: a new figure when ``ax`` is None, else the (root) figure ``ax`` lives in."""
    if ax is None:
        return plt.subplots(figsize=figsize, layout="constrained")
    try:
        return ax.get_figure(root=True), ax  # matplotlib >= 3.10 (subfigures)
    except TypeError:
        return ax.figure, ax


def as_number(value) -> float:
    """A float from a number, a 0-d tensor, or a result with ``.score`` (as lossbook.evaluate returns)."""
    value = getattr(value, "score", value)
    return float(value.detach().cpu().item() if isinstance(value, torch.Tensor) else value)


def as_array(x) -> np.ndarray:
    return np.asarray(x.detach().float().cpu().numpy() if isinstance(x, torch.Tensor) else x, dtype=np.float64)


def shorten(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def as_embeddings(obj, texts=None, dim=None) -> np.ndarray:
    """(N, D) embeddings: ``obj`` itself, or ``obj.encode(texts)`` when it is a model.

    ``dim`` keeps the first ``dim`` components and re-normalises, as ``EmbeddingModel.encode(dim=)`` does.
    """
    if isinstance(obj, (str, bytes)):  # a model *name*: a str has an .encode() too, which would fail obscurely
        raise TypeError(
            f"Expected a loaded model or (N, dim) embeddings, got the string {obj!r}; load the model "
            f"first: model = lossbook.load_model({obj!r})."
        )
    if hasattr(obj, "encode"):
        if texts is None:
            raise ValueError("Give the texts to encode with the model (or pass embeddings instead of a model).")
        obj = obj.encode(list(texts))
    x = as_array(obj)
    if x.ndim != 2:
        raise ValueError(f"Expected (N, dim) embeddings, got an array of shape {x.shape}.")
    if dim is not None:
        x = normalize_rows_np(x[:, :dim])
    return x


def annotate_cells(ax, image, values: np.ndarray, fmt: str, fontsize: int) -> None:
    """Write each value in its cell, black on light colours and white on dark ones ("n/a" for NaN)."""
    for (i, j), value in np.ndenumerate(values):
        if not math.isfinite(value):
            ax.text(j, i, "n/a", ha="center", va="center", fontsize=fontsize, color="grey")
            continue
        light = np.dot(image.cmap(image.norm(value))[:3], (0.299, 0.587, 0.114)) > 0.5
        ax.text(
            j, i, fmt.format(value), ha="center", va="center", fontsize=fontsize, color="black" if light else "white"
        )
