"""Loss anatomy: the forces a loss puts on a few embeddings, read off torch autograd of the loss class itself.

    from lossbook.anatomy import anatomy, build_loss, preset
    batch = preset("pair")                                   # 2-D unit vectors, one array per column
    anat = anatomy(build_loss("MultipleNegativesRankingLoss"), batch.embeddings, batch.labels)
    anat.gradients        # dL/dx of every point: one (rows, dim) array per column
    anat.pair_weights     # dL/ds of every similarity s between two points that the loss read
    new_points = anat.step(lr=0.1)                          # one gradient-descent step (back onto the circle)

The arrows
----------
``gradients`` is ``torch.autograd.grad`` of ``loss.compute_loss_from_embeddings(points, labels)`` (lossbook's own
loss class, its input checks included), in float64 so that what is drawn is the exact gradient. ``-gradient``
is the direction a gradient step moves a point. No gradient is derived by hand anywhere.

The pair weights
----------------
A loss compares points through one function: its ``similarity_fct`` or ``distance_metric`` (CosineSimilarityLoss:
the cosine that enters its ``cos_score_transformation``; MegaBatchMarginLoss: ``cos_sim``). While the loss runs,
that function is wrapped by a recorder that returns the very same tensor and keeps it, so autograd gives
``dL/ds`` for every number ``s`` it returned. Each row of the function's arguments comes from exactly one point
(a slice, a repeat, a normalised prefix); autograd tells which, as the only point that row has a gradient
towards. With ``N`` points (the columns stacked, column 0 first):

    pair_weights[p, q] = sum of dL/ds over every s the loss read that compares point p (first argument)
                         with point q (second argument)                                    (N x N)

and the chain rule says that the pairs account for the whole gradient, since the loss reads the points
through that function only:

    gradients = sum over the recorded s of dL/ds * ds/dx = pair_gradients                   (exactly)

(``tests/test_anatomy.py`` checks both for every loss). With the cosine, ``ds/dx_p = (x̂_q - s x̂_p) / |x_p|``: a
point's arrow is the sum over its pairs of the weight times that tangent. For a similarity, a negative weight
means the loss falls as the pair grows more similar (a pull); for a distance (``pair_sign == -1``) it is a
push; ``pull = -pair_sign * pair_weights`` is "positive = pulled together" for both. A loss that never compares
two points (SoftmaxLoss's classifier, the teacher-embedding losses) has ``pair_weights = None``.

Which losses
------------
Every loss of the table whose maths works on embeddings takes part (``anatomy_losses()``); the cached ones
through the same maths (``compute_loss_from_embeddings``) as their uncached twins, MatryoshkaLoss on 3-D points
around MultipleNegativesRankingLoss. Losses that need the texts (token ids, layers, their own copy of the
model) or a guide model raise a ``ValueError`` saying so.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from lossbook import losses as lossbook_losses
from lossbook.anatomy_presets import (
    PRESETS,
    TUNABLE_OPTIONS,
    Batch,
    PointsModel,
    anatomy_losses,
    build_loss,
    inner_loss,
    loss_options,
    preset,
    presets_for,
    refusal,
    takes_guide,
)
from lossbook.formats import FORMATS, Format, LabelKind
from lossbook.losses import gist, mega_batch
from lossbook.losses.base import EmbeddingLoss
from lossbook.losses.modifiers import as_scalar
from lossbook.similarity import similarity_name

__all__ = [
    "Anatomy",
    "Batch",
    "PRESETS",
    "PointsModel",
    "TUNABLE_OPTIONS",
    "anatomy",
    "anatomy_losses",
    "build_loss",
    "loss_options",
    "preset",
    "presets_for",
    "refusal",
]

_ROLE_NAMES = {"anchor": "a", "positive": "p", "negative": "n", "query": "q", "passage_one": "p1", "passage_two": "p2"}
_ROLE_NAMES.update({"sentence": "s", "sentence_A": "A", "sentence_B": "B", "positive/negative": "b"})
_ROLE_NAMES.update({"sentence_1": "s1", "sentence_2": "s2", "damaged_sentence": "d", "original_sentence": "o"})


@dataclass
class Anatomy:
    """A loss on a few points: its value, every point's gradient and each pair's share (see the module docstring).

    Points are numbered by stacking the columns (column 0's rows first); ``pair_labels[p]`` names point ``p``
    (``"a0"``: anchor of row 0, ``"n2_1"``: second negative column, row 1). ``pair_weights[p, q]`` is
    ``dL/ds(p, q)`` summed over every similarity (or distance, ``pair_sign == -1``) the loss read with ``p``
    as first and ``q`` as second argument; ``pair_read`` marks the pairs it read at all.
    """

    loss_name: str
    format_key: str
    loss_value: float
    embeddings: list[np.ndarray]
    gradients: list[np.ndarray]
    labels: np.ndarray | None
    pair_labels: list[str]
    groups: list[int]  # a colour per point: its class (single sentences + class) or its column
    positive_pairs: list[tuple[int, int]]
    pair_weights: np.ndarray | None
    pair_read: np.ndarray | None
    pair_gradients: list[np.ndarray] | None
    pair_measure: str
    pair_sign: int
    note: str
    unit: bool

    @property
    def points(self) -> np.ndarray:
        """Every point, ``(N, dim)``, the columns stacked."""
        return np.concatenate(self.embeddings)

    @property
    def flat_gradients(self) -> np.ndarray:
        return np.concatenate(self.gradients)

    @property
    def pull(self) -> np.ndarray | None:
        """``-pair_sign * pair_weights``: positive where the loss pulls the pair together, negative where it pushes."""
        return None if self.pair_weights is None else -self.pair_sign * self.pair_weights

    @property
    def teacher_targets(self) -> np.ndarray | None:
        """The teacher embedding each point is pulled onto, ``(N, dim)`` (None outside the teacher formats)."""
        if FORMATS[self.format_key].label is not LabelKind.TEACHER_EMBEDDING or self.labels is None:
            return None
        per_column = [self.labels] * len(self.embeddings) if self.labels.ndim == 2 else list(self.labels.swapaxes(0, 1))
        return np.concatenate(per_column)

    def step(self, lr: float) -> list[np.ndarray]:
        """The points after one gradient-descent step ``x - lr * dL/dx``, back on the unit sphere if they were on it."""
        moved = [e - lr * g for e, g in zip(self.embeddings, self.gradients)]
        if self.unit:
            moved = [m / np.linalg.norm(m, axis=1, keepdims=True) for m in moved]
        return moved

    def alignment_uniformity(self) -> tuple[float, float]:
        """Wang & Isola (2020): ``alignment`` = mean |x - y|^2 over the positive pairs (NaN when there are none),
        ``uniformity`` = log mean exp(-2 |x - y|^2) over all pairs of distinct points."""
        points = self.points
        squared = ((points[:, None, :] - points[None, :, :]) ** 2).sum(-1)
        alignment = float(np.mean([squared[p, q] for p, q in self.positive_pairs])) if self.positive_pairs else math.nan
        upper = squared[np.triu_indices(len(points), k=1)]
        return alignment, float(np.log(np.mean(np.exp(-2.0 * upper)))) if len(upper) else math.nan


@dataclass
class _Record:
    """One call of the comparing function: its output and its arguments (or their point ids, when known)."""

    out: Tensor
    first: Tensor | list[int]
    second: Tensor | list[int]
    sign: int
    measure: str


class _RecordedCosine(nn.Module):
    """CosineSimilarityLoss's ``cos_score_transformation``, recording the cosine of (column 0, column 1) it gets."""

    def __init__(self, transformation: nn.Module, records: list[_Record], first: list[int], second: list[int]):
        super().__init__()
        self.transformation, self.records, self.ids = transformation, records, (first, second)

    def forward(self, cosine: Tensor) -> Tensor:
        self.records.append(_Record(cosine, *self.ids, 1, "cosine"))
        return self.transformation(cosine)


def _recorder(fn, records: list[_Record], sign: int):
    def recorded(*args, **kwargs):
        out = fn(*args, **kwargs)
        second = args[1] if len(args) > 1 and isinstance(args[1], Tensor) else args[0]  # a matrix of one batch
        records.append(_Record(out, args[0], second, sign, similarity_name(fn)))
        return out

    return recorded


@contextlib.contextmanager
def _recording(loss: nn.Module, ids: list[list[int]]):
    """Within the block, the functions through which ``loss`` compares points record every call (see the docstring)."""
    records: list[_Record] = []
    replaced = []  # (owner, attribute, original)
    for part in [loss] if inner_loss(loss) is loss else [loss, inner_loss(loss)]:
        for attribute, sign in (("similarity_fct", 1), ("distance_metric", -1)):
            if callable(vars(part).get(attribute)):
                replaced.append((part, attribute, getattr(part, attribute)))
                setattr(part, attribute, _recorder(getattr(part, attribute), records, sign))
        if isinstance(part, lossbook_losses.CosineSimilarityLoss):
            original = part.cos_score_transformation
            replaced.append((part, "cos_score_transformation", original))
            part.cos_score_transformation = _RecordedCosine(original, records, ids[0], ids[1])
        if isinstance(part, lossbook_losses.MegaBatchMarginLoss):  # its row_losses calls the module's cos_sim
            replaced.append((mega_batch, "cos_sim", mega_batch.cos_sim))
            mega_batch.cos_sim = _recorder(mega_batch.cos_sim, records, 1)
        if isinstance(part, gist.GuidedMaths):  # so do the GIST losses (the guide's calls have no gradient: dropped)
            replaced.append((gist, "cos_sim", gist.cos_sim))
            gist.cos_sim = _recorder(gist.cos_sim, records, 1)
    try:
        yield records
    finally:
        for owner, attribute, original in reversed(replaced):
            setattr(owner, attribute, original)


def _point_ids(argument: Tensor | list[int], points: list[Tensor], ids: list[list[int]]) -> list[int] | None:
    """The point each row of ``argument`` comes from: the one point that row has a non-zero gradient towards."""
    if isinstance(argument, list):
        return argument
    for column, tensor in enumerate(points):
        if argument is tensor:
            return ids[column]
    if not argument.requires_grad or argument.dim() != 2:
        return None
    # Two probes: a row-wise normalisation has one direction of zero gradient, which both cannot share.
    width = argument.shape[1]
    probes = [torch.arange(1, width + 1, dtype=argument.dtype).sqrt(), torch.ones(width, dtype=argument.dtype)]
    probes[1][::2] = -1.0
    found = []
    for row in argument:
        sources: list[int] = []
        for probe in probes:
            grads = torch.autograd.grad((row * probe).sum(), points, retain_graph=True, allow_unused=True)
            sources = [ids[c][r] for c, g in enumerate(grads) if g is not None for r in g.abs().sum(1).nonzero()[:, 0]]
            if sources:
                break
        if len(sources) != 1:
            return None  # a row mixing several points (or none): no pair to credit it to
        found.append(int(sources[0]))
    return found


def _format_of(loss: nn.Module, columns: int) -> Format:
    inner = inner_loss(loss)
    fmt = inner.format_for(columns) if isinstance(inner, EmbeddingLoss) else None
    return fmt or FORMATS["any"]


def _column_names(fmt: Format, columns: int) -> list[str]:
    """``a, p, n`` ...; a variadic last role repeats as ``n1, n2`` (``s1, s2, s3``)."""
    roles = list(fmt.inputs) or ["x"]
    names = [_ROLE_NAMES.get(role, role[:1]) for role in roles]
    if columns > len(names):
        stem = names[-1].rstrip("0123456789")
        first = int(names[-1][len(stem) :] or 1)
        names = names[:-1] + [f"{stem}{first + k}" for k in range(columns - len(roles) + 1)]
    return names[:columns]


def _positive_pairs(fmt: Format, ids: list[list[int]], labels: np.ndarray | None) -> list[tuple[int, int]]:
    """The pairs a format calls matching (for the lines drawn and Wang & Isola's alignment)."""
    key, rows = fmt.key, range(len(ids[0]))
    if key == "sentence-class":
        return [(ids[0][i], ids[0][j]) for i in rows for j in rows if i < j and labels[i] == labels[j]]
    if len(ids) < 2 or key in ("sentences", "any", "sentence-teacher-embedding"):
        return []
    keep = {  # which rows' (column 0, column 1) pair matches
        "pair-binary": lambda i: labels[i] == 1,
        "pair-score": lambda i: labels[i] >= 0.5,
        "pair-class": lambda i: labels[i] == 0,  # NLI's entailment
    }.get(key, lambda i: True)
    pairs = [(ids[0][i], ids[1][i]) for i in rows if keep(i)]
    if key == "triplet-margin":  # the passage the teacher prefers
        pairs = [(ids[0][i], ids[1][i] if labels[i] >= 0 else ids[2][i]) for i in rows]
    if key == "sentences-teacher-embedding":  # every translation matches the first column
        pairs = [(ids[0][i], ids[c][i]) for c in range(1, len(ids)) for i in rows]
    return pairs


def _float64_parameters(loss: nn.Module) -> None:
    """Cast the loss's own parameters (SoftmaxLoss's head, a projection) to float64; never the model's."""
    for name, child in loss.named_children():
        if name in ("model", "guide"):
            continue
        _float64_parameters(child) if isinstance(child, EmbeddingLoss) else child.double()


def anatomy(loss: nn.Module, embeddings, labels=None, *, guide=None) -> Anatomy:
    """The loss value, every point's gradient and the pair weights, by autograd of ``loss`` in float64.

    Args:
        loss: a lossbook loss instance (``build_loss(name)`` makes one on a stand-in model). Its own parameters
            (SoftmaxLoss's classifier) are cast to float64 in place; the model it was built on is left alone.
        embeddings: one ``(rows, dim)`` array or tensor per column, as ``compute_loss_from_embeddings`` takes them.
        labels: the batch's labels in the loss's format (class ids, scores, teacher embeddings ...), or None.
        guide: for the GIST losses, the guide model's embeddings of the batch, one array per column like
            ``embeddings``; None means a frozen copy of ``embeddings`` (the guide sees the batch as it is given,
            and only the trained points move). Other losses ignore it.

    Raises:
        ValueError: the loss needs the texts or a guide model (one line saying which), or the points have the
            wrong shape; the loss's own ``LossInputError`` (a ValueError) when the batch does not fit it.
    """
    reason = refusal(loss)
    if reason:
        raise ValueError(reason)
    points = [torch.as_tensor(np.asarray(e, dtype=np.float64)).clone().requires_grad_(True) for e in embeddings]
    if not points or any(p.dim() != 2 or p.shape[1] != points[0].shape[1] for p in points):
        raise ValueError("Give one (rows, dim) array per column, all of the same dim (e.g. 2-D points).")
    offsets = np.cumsum([0] + [len(p) for p in points])
    ids = [list(range(offsets[c], offsets[c + 1])) for c in range(len(points))]
    label_tensor = None
    if labels is not None:
        label_tensor = torch.as_tensor(np.asarray(labels))
        label_tensor = label_tensor.double() if label_tensor.is_floating_point() else label_tensor
    _float64_parameters(loss)
    extra = {}
    if takes_guide(loss):
        given = embeddings if guide is None else guide
        extra["guide_embeddings"] = [torch.as_tensor(np.asarray(g, dtype=np.float64)).clone() for g in given]
        if [tuple(g.shape) for g in extra["guide_embeddings"]] != [tuple(p.shape) for p in points]:
            raise ValueError("guide must hold one array per column, of the same shapes as the embeddings.")
    with _recording(loss, ids) as records:
        value = as_scalar(loss.compute_loss_from_embeddings(points, label_tensor, **extra))
    records = [r for r in records if r.out.requires_grad]
    outs = [r.out for r in records]
    if value.requires_grad:
        grads = torch.autograd.grad(value, points + outs, retain_graph=True, allow_unused=True)
    else:
        grads = [None] * (len(points) + len(outs))
    gradients = [np.zeros(p.shape) if g is None else g.numpy() for p, g in zip(points, grads)]
    out_grads = [torch.zeros_like(o) if g is None else g for o, g in zip(outs, grads[len(points) :])]

    n = int(offsets[-1])
    weights, read, pair_gradients = (np.zeros((n, n)), np.zeros((n, n), bool), None) if records else (None,) * 3
    for record, grad in zip(records, out_grads):
        first, second = _point_ids(record.first, points, ids), _point_ids(record.second, points, ids)
        shape = tuple(record.out.shape)
        if first is not None and second is not None and shape == (len(first), len(second)):  # all pairs
            cells = (np.array(first)[:, None], np.array(second)[None, :])
        elif first is not None and second is not None and shape == (len(first),) and len(first) == len(second):
            cells = (np.array(first), np.array(second))  # row by row
        else:
            weights = read = None
            break
        np.add.at(weights, cells, grad.detach().numpy())
        read[cells] = True
    if weights is not None and records:
        vjp = torch.autograd.grad(outs, points, grad_outputs=out_grads, allow_unused=True)
        pair_gradients = [np.zeros(p.shape) if g is None else g.numpy() for p, g in zip(points, vjp)]
    name = type(loss).__name__ + (f"({type(inner_loss(loss)).__name__})" if inner_loss(loss) is not loss else "")
    fmt = _format_of(loss, len(points))
    label_array = None if label_tensor is None else label_tensor.numpy()
    columns = _column_names(fmt, len(points))
    note = "" if records else f"{name} compares no two points: each is moved by its own label (a class, a target)."
    if records and weights is None:
        note = "The pairs could not be told apart (a row mixing several points), so no pair weights."
    point_array = np.concatenate([p.detach().numpy() for p in points])
    return Anatomy(
        loss_name=name,
        format_key=fmt.key,
        loss_value=float(value.detach()),
        embeddings=[p.detach().numpy().copy() for p in points],
        gradients=gradients,
        labels=label_array,
        pair_labels=[
            f"{col}{'_' if col[-1].isdigit() else ''}{row}"
            for col, rows in zip(columns, ids)
            for row in range(len(rows))
        ],
        groups=[int(y) for y in label_array]
        if fmt.key == "sentence-class"
        else [c for c, rows in enumerate(ids) for _ in rows],
        positive_pairs=_positive_pairs(fmt, ids, label_array),
        pair_weights=weights,
        pair_read=read,
        pair_gradients=pair_gradients,
        pair_measure=" + ".join(dict.fromkeys(r.measure for r in records)),
        pair_sign=records[0].sign if records else 1,
        note=note,
        unit=bool(np.allclose(np.linalg.norm(point_array, axis=1), 1.0, atol=1e-9)),
    )
