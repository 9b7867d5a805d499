"""Similarity functions between embedding matrices, with sentence-transformers' ``util`` semantics.

``cos_sim(a, b)[i, j]`` compares row ``i`` of ``a`` with row ``j`` of ``b`` (all pairs); the
row-by-row versions (``pairwise_cos_sim``, ...) are in ``lossbook.losses.pairwise``. Inputs may be tensors, numpy arrays
or lists; a single vector counts as a batch of one, and half-precision inputs are computed in
float32 (rounding the scores to fp16 would create spurious ties between nearby similarities).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["cos_sim", "dot_score", "similarity_name"]


def _as_float_tensor(x: Any) -> Tensor:
    if isinstance(x, Tensor):
        tensor = x
    elif isinstance(x, np.ndarray):
        tensor = torch.from_numpy(x)
    elif isinstance(x, (list, tuple)) and x and all(isinstance(item, Tensor) for item in x):
        tensor = torch.stack(list(x))
    else:
        tensor = torch.as_tensor(np.asarray(x))
    if not torch.is_floating_point(tensor):
        tensor = tensor.float()
    elif torch.finfo(tensor.dtype).bits < 32:
        tensor = tensor.float()
    return tensor


def _as_batch(x: Any) -> Tensor:
    tensor = _as_float_tensor(x)
    return tensor.unsqueeze(0) if tensor.dim() == 1 else tensor


def cos_sim(a: Any, b: Any) -> Tensor:
    """All-pairs cosine similarity: ``(n, d) x (m, d) -> (n, m)``.

    Rows are L2-normalised first (a zero row gets similarity 0, not NaN).
    """
    a, b = _as_batch(a), _as_batch(b)
    return F.normalize(a, p=2, dim=-1) @ F.normalize(b, p=2, dim=-1).transpose(0, 1)


def dot_score(a: Any, b: Any) -> Tensor:
    """All-pairs dot product: ``(n, d) x (m, d) -> (n, m)``. Equals ``cos_sim`` on unit-norm embeddings."""
    a, b = _as_batch(a), _as_batch(b)
    return a @ b.transpose(0, 1)


def similarity_name(similarity_fct: Callable) -> str:
    """How a loss's config dict (and so a model card) names its similarity function (``"cos_sim"``, ...).

    As sentence-transformers' ``similarity_fct_name``: a ``functools.partial`` shows its function and
    keywords (``"cos_sim"``, ``"dot_score(scale=2)"``), not ``"partial"``; an object with a
    ``get_config_dict`` shows its settings.
    """
    if isinstance(similarity_fct, functools.partial):
        name = similarity_name(similarity_fct.func)
        keywords = ", ".join(f"{key}={value!r}" for key, value in similarity_fct.keywords.items())
        return f"{name}({keywords})" if keywords else name
    name = getattr(similarity_fct, "__name__", type(similarity_fct).__name__)
    config = getattr(similarity_fct, "get_config_dict", None)
    if callable(config):
        return f"{name}({', '.join(f'{key}={value!r}' for key, value in config().items())})"
    return name
