"""Similarities and distances between embeddings: the one place the losses, the metrics and the plots take them from.

Three shapes, named as in sentence-transformers' ``util``:

* **all pairs**, ``(n, d) x (m, d) -> (n, m)``: ``cos_sim(a, b)[i, j]`` compares row ``i`` of ``a`` with
  row ``j`` of ``b`` (``cos_sim``, ``dot_score``); ``cosine_distance_matrix`` and ``euclidean_distance_matrix``
  compare the rows of one batch with each other, ``(batch, d) -> (batch, batch)`` (the batch-triplet losses).
* **row by row**, ``(batch, d) x (batch, d) -> (batch,)``: ``pairwise_cos_sim(a, b)[i]`` compares row ``i``
  of ``a`` with row ``i`` of ``b``. The ``pairwise_*_sim`` functions are similarities ("larger is more
  similar", distances negated); the ``pairwise_*_distance`` functions are those distances, exact (identical
  rows are 0 apart); the ``torch_*_distance`` functions are ``torch.nn.functional``'s, with its small epsilons
  (sentence-transformers' ``SiameseDistanceMetric`` and some losses use these).
* **numpy**, float64, for the metrics and the plots: ``normalize_rows_np``, ``cos_sim_np``,
  ``pairwise_cos_sim_np``.

``similarity_name`` and ``distance_metric_name`` say how a loss's config dict names these functions.

Torch inputs may be tensors, numpy arrays or lists; a single vector counts as a batch of one.
Half-precision inputs (float16, bfloat16) are computed in float32: scores rounded to half precision
collapse into ties, and ranking losses need the order of close scores. Cosines normalise each row with
``F.normalize`` (``x / max(||x||, 1e-12)``, so a zero row gets similarity 0, not NaN), as
sentence-transformers does, so that parity tests compare bit for bit.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "as_float_tensor",
    "cos_sim",
    "cos_sim_np",
    "cosine_distance_matrix",
    "distance_metric_name",
    "dot_score",
    "euclidean_distance_matrix",
    "normalize_rows_np",
    "pairwise_angle_sim",
    "pairwise_cos_sim",
    "pairwise_cos_sim_np",
    "pairwise_cosine_distance",
    "pairwise_dot_score",
    "pairwise_euclidean_distance",
    "pairwise_euclidean_sim",
    "pairwise_manhattan_distance",
    "pairwise_manhattan_sim",
    "torch_cosine_distance",
    "torch_euclidean_distance",
    "torch_manhattan_distance",
    "similarity_name",
]


def as_float_tensor(x: Any) -> Tensor:
    """A floating tensor from a tensor, numpy array or list (of tensors); below 32 bits it becomes float32."""
    if isinstance(x, Tensor):
        tensor = x
    elif isinstance(x, np.ndarray):
        tensor = torch.from_numpy(x)
    elif isinstance(x, (list, tuple)) and x and all(isinstance(item, Tensor) for item in x):
        tensor = torch.stack(list(x))
    else:
        tensor = torch.as_tensor(np.asarray(x))
    if not tensor.is_floating_point() or torch.finfo(tensor.dtype).bits < 32:
        return tensor.float()
    return tensor


def _as_batch(x: Any) -> Tensor:
    tensor = as_float_tensor(x)
    return tensor.unsqueeze(0) if tensor.dim() == 1 else tensor


# -- all pairs: (n, d) x (m, d) -> (n, m) ------------------------------------------------------
def cos_sim(a: Any, b: Any) -> Tensor:
    """All-pairs cosine similarity: ``(n, d) x (m, d) -> (n, m)``."""
    a, b = _as_batch(a), _as_batch(b)
    return F.normalize(a, p=2, dim=-1) @ F.normalize(b, p=2, dim=-1).transpose(0, 1)


def dot_score(a: Any, b: Any) -> Tensor:
    """All-pairs dot product: ``(n, d) x (m, d) -> (n, m)``. Equals ``cos_sim`` on unit-norm embeddings."""
    a, b = _as_batch(a), _as_batch(b)
    return a @ b.transpose(0, 1)


def cosine_distance_matrix(embeddings: Tensor) -> Tensor:
    """``1 - cos(x_i, x_j)`` for every pair of rows of one batch (in [0, 2]): ``(batch, d) -> (batch, batch)``."""
    return 1 - cos_sim(embeddings, embeddings)


def euclidean_distance_matrix(embeddings: Tensor, squared: bool = False) -> Tensor:
    """``||x_i - x_j||`` (or its square) for every pair of rows of one batch, from the Gram matrix.

    ``|x_i|^2 - 2 x_i.x_j + |x_j|^2`` is clamped at 0 (rounding can make it slightly negative). Zero
    distances, the diagonal included, are exact zeros whose gradient is 0 rather than the infinite
    derivative of the square root at 0. Computed without autocast, in float32 or wider: half-precision
    Gram matrices lose the small distances that decide which triplet is hardest.
    """
    with torch.autocast(device_type=embeddings.device.type, enabled=False):
        x = as_float_tensor(embeddings)
        gram = x @ x.T  # (batch, batch)
    squared_norms = gram.diagonal()
    squared_distances = (squared_norms[None, :] - 2.0 * gram + squared_norms[:, None]).clamp(min=0)
    if squared:
        return squared_distances
    is_zero = squared_distances == 0
    return torch.where(is_zero, 0.0, squared_distances.masked_fill(is_zero, 1.0).sqrt())


# -- row by row: (batch, d) x (batch, d) -> (batch,) -------------------------------------------
def pairwise_dot_score(a: Tensor, b: Tensor) -> Tensor:
    r"""``a[i] · b[i]`` for every row ``i``."""
    a, b = as_float_tensor(a), as_float_tensor(b)
    return (a * b).sum(dim=-1)


def pairwise_cos_sim(a: Tensor, b: Tensor) -> Tensor:
    r"""Cosine similarity of each row pair: :math:`\hat a_i \cdot \hat b_i` with
    :math:`\hat x = x / \max(\lVert x\rVert, 10^{-12})`."""
    return pairwise_dot_score(
        F.normalize(as_float_tensor(a), p=2, dim=-1), F.normalize(as_float_tensor(b), p=2, dim=-1)
    )


def pairwise_euclidean_sim(a: Tensor, b: Tensor) -> Tensor:
    r"""Negative Euclidean distance of each row pair: :math:`-\lVert a_i - b_i \rVert_2`."""
    return -torch.linalg.vector_norm(as_float_tensor(a) - as_float_tensor(b), dim=-1)


def pairwise_manhattan_sim(a: Tensor, b: Tensor) -> Tensor:
    r"""Negative Manhattan distance of each row pair: :math:`-\sum_k |a_{ik} - b_{ik}|`."""
    return -(as_float_tensor(a) - as_float_tensor(b)).abs().sum(dim=-1)


def pairwise_angle_sim(x: Tensor, y: Tensor) -> Tensor:
    r"""AnglE's similarity of each row pair: ``|cos + sin|`` of the two vectors read as complex numbers.

    Each vector is L2-normalised (after padding one zero onto an odd dimension), then split into a
    first half :math:`x^{(1)}` and a second half :math:`x^{(2)}`; coordinate ``k`` of the first half
    and coordinate ``k`` of the second half form one complex number. Then

    .. math::
        \operatorname{angle\_sim}(x, y) = \Big| \sum_k \hat x_k \hat y_k
            + \sum_k \big(\hat x^{(2)}_k \hat y^{(1)}_k - \hat x^{(1)}_k \hat y^{(2)}_k\big) \Big|

    The first sum is the cosine; the second is the imaginary part of the complex product
    :math:`\hat x \cdot \overline{\hat y}`, a "sine". For 2-D vectors at angles :math:`\theta_x` and
    :math:`\theta_y` this is :math:`|\cos(\theta_x - \theta_y) + \sin(\theta_x - \theta_y)|`.

    Not a geometric angle, and **not symmetric**: swapping ``x`` and ``y`` flips the sign of the sine
    term. It equals sentence-transformers' ``pairwise_angle_sim`` (the 6.2 cos + sin form, algebraically the
    same as the earlier complex-division code of the AnglE authors).
    """
    x, y = as_float_tensor(x), as_float_tensor(y)
    if x.shape[-1] % 2:
        # The complex reading pairs coordinate k with k + D/2, so D must be even.
        x, y = F.pad(x, (0, 1)), F.pad(y, (0, 1))
    x, y = F.normalize(x, p=2, dim=-1), F.normalize(y, p=2, dim=-1)
    cosine = (x * y).sum(dim=-1)
    x_first, x_second = x.chunk(2, dim=-1)  # (batch, d / 2) each: real and imaginary parts
    y_first, y_second = y.chunk(2, dim=-1)
    sine = (x_second * y_first - x_first * y_second).sum(dim=-1)
    return (cosine + sine).abs()


def pairwise_cosine_distance(a: Tensor, b: Tensor) -> Tensor:
    """``1 - cos(a_i, b_i)`` for every row (in [0, 2])."""
    return 1 - pairwise_cos_sim(a, b)


def pairwise_euclidean_distance(a: Tensor, b: Tensor) -> Tensor:
    """``||a_i - b_i||_2`` for every row; identical rows are exactly 0 apart."""
    return -pairwise_euclidean_sim(a, b)


def pairwise_manhattan_distance(a: Tensor, b: Tensor) -> Tensor:
    """``sum_k |a_ik - b_ik|`` for every row; identical rows are exactly 0 apart."""
    return -pairwise_manhattan_sim(a, b)


def torch_cosine_distance(a: Tensor, b: Tensor) -> Tensor:
    """``1 - torch.cosine_similarity(a_i, b_i)``, whose norms are clamped at 1e-8 (in [0, 2])."""
    return 1 - F.cosine_similarity(a, b, dim=-1)


def torch_euclidean_distance(a: Tensor, b: Tensor) -> Tensor:
    """``torch.pairwise_distance(a, b, p=2)``: ``||a_i - b_i + 1e-6||_2``, so identical rows are ~1e-6 apart."""
    return F.pairwise_distance(a, b, p=2)


def torch_manhattan_distance(a: Tensor, b: Tensor) -> Tensor:
    """``torch.pairwise_distance(a, b, p=1)``: ``sum_k |a_ik - b_ik + 1e-6|``."""
    return F.pairwise_distance(a, b, p=1)


# -- numpy, float64: metrics and plots ---------------------------------------------------------
def normalize_rows_np(x: Any) -> np.ndarray:
    """Each row divided by its length (at least 1e-12, so a zero row stays zero), as float64."""
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def cos_sim_np(a: Any, b: Any) -> np.ndarray:
    """All-pairs cosine similarity of two float64 arrays: ``(n, d) x (m, d) -> (n, m)``."""
    return normalize_rows_np(a) @ normalize_rows_np(b).T


def pairwise_cos_sim_np(a: Any, b: Any) -> np.ndarray:
    """Cosine similarity of each row pair of two float64 arrays: ``(n, d) x (n, d) -> (n,)``."""
    return np.sum(normalize_rows_np(a) * normalize_rows_np(b), axis=-1)


# -- names in config dicts ---------------------------------------------------------------------
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


def distance_metric_name(metric: Callable, namespace: type) -> str:
    """How ``get_config_dict`` names a metric: ``"SiameseDistanceMetric.EUCLIDEAN"``, else the function's name.

    ``namespace`` is the class that lists the metrics (``SiameseDistanceMetric``, ``TripletDistanceMetric``).
    """
    for name in ("EUCLIDEAN", "MANHATTAN", "COSINE_DISTANCE", "COSINE"):
        if getattr(namespace, name, None) is metric:
            return f"{namespace.__name__}.{name}"
    return getattr(metric, "__name__", repr(metric))
