"""Row-by-row similarities: ``sim(a[i], b[i])`` for two ``(batch, dim)`` tensors, one value per row.

These are the ``similarity_fct`` choices of the pair losses (``CoSENTLoss``, ``AnglELoss``,
``TripletLoss``). Each returns a ``(batch,)`` tensor. Half-precision inputs (float16, bfloat16) are
computed in float32: scores rounded to half precision collapse into ties, and ranking losses
need the order of close scores. Distances are returned as *negative* similarities, so that
"larger is more similar" holds for every function here, as in sentence-transformers.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "pairwise_angle_sim",
    "pairwise_cos_sim",
    "pairwise_dot_score",
    "pairwise_euclidean_sim",
    "pairwise_manhattan_sim",
]


def _as_float(x: Tensor) -> Tensor:
    x = x if isinstance(x, Tensor) else torch.as_tensor(x)
    if not x.is_floating_point() or torch.finfo(x.dtype).bits < 32:
        return x.float()
    return x


def pairwise_dot_score(a: Tensor, b: Tensor) -> Tensor:
    r"""``a[i] · b[i]`` for every row ``i``."""
    a, b = _as_float(a), _as_float(b)
    return (a * b).sum(dim=-1)


def pairwise_cos_sim(a: Tensor, b: Tensor) -> Tensor:
    r"""Cosine similarity of each row pair: :math:`\hat a_i \cdot \hat b_i` with
    :math:`\hat x = x / \max(\lVert x\rVert, 10^{-12})`."""
    return pairwise_dot_score(F.normalize(_as_float(a), p=2, dim=-1), F.normalize(_as_float(b), p=2, dim=-1))


def pairwise_euclidean_sim(a: Tensor, b: Tensor) -> Tensor:
    r"""Negative Euclidean distance of each row pair: :math:`-\lVert a_i - b_i \rVert_2`."""
    return -torch.linalg.vector_norm(_as_float(a) - _as_float(b), dim=-1)


def pairwise_manhattan_sim(a: Tensor, b: Tensor) -> Tensor:
    r"""Negative Manhattan distance of each row pair: :math:`-\sum_k |a_{ik} - b_{ik}|`."""
    return -(_as_float(a) - _as_float(b)).abs().sum(dim=-1)


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
    x, y = _as_float(x), _as_float(y)
    if x.shape[-1] % 2:
        # The complex reading pairs coordinate k with k + D/2, so D must be even.
        x, y = F.pad(x, (0, 1)), F.pad(y, (0, 1))
    x, y = F.normalize(x, p=2, dim=-1), F.normalize(y, p=2, dim=-1)
    cosine = (x * y).sum(dim=-1)
    x_first, x_second = x.chunk(2, dim=-1)
    y_first, y_second = y.chunk(2, dim=-1)
    sine = (x_second * y_first - x_first * y_second).sum(dim=-1)
    return (cosine + sine).abs()
