"""What :mod:`lossbook.anatomy` shows: small batches of unit vectors (one per data format, and the tutorial's
special ones), and the losses, built on a stand-in model.

A preset is a :class:`Batch`: the columns as ``(rows, dim)`` float64 arrays (one per input column of the format,
in order), the labels in the form the format's losses read, and a line saying what it shows. The points are 2-D
unit vectors given by their angle in degrees from the x-axis (3-D ones by azimuth and elevation), so a picture
of the unit circle shows the whole batch. ``preset(name, seed=1)`` jitters the angles by a few degrees: the same
batch, moved a little (seed 0 is the batch as written here).

    from lossbook.anatomy_presets import preset
    batch = preset("pair-score")        # batch.embeddings = [A, B], batch.labels = the gold scores

The losses: ``anatomy_losses()`` says for each loss of the table whether it can be shown (None) or why not (one
line); ``build_loss(name, **options)`` builds one on a :class:`PointsModel`; ``presets_for(loss)`` lists the
presets in its formats; ``loss_options(name)`` the constructor parameters the widget offers as sliders.
"""

from __future__ import annotations

import difflib
import inspect
import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from lossbook import losses as lossbook_losses
from lossbook.formats import FORMATS
from lossbook.losses.base import EmbeddingLoss, EmbeddingPath, embedding_path_of

__all__ = [
    "Batch",
    "PRESETS",
    "PointsModel",
    "TUNABLE_OPTIONS",
    "anatomy_losses",
    "build_loss",
    "inner_loss",
    "loss_options",
    "matching_presets",
    "preset",
    "presets_for",
    "refusal",
    "takes_guide",
]


@dataclass(frozen=True)
class Batch:
    """A few points and their labels, in the format ``format`` (a key of ``lossbook.formats.FORMATS``)."""

    name: str
    format: str
    description: str
    embeddings: list[np.ndarray]  # one (rows, dim) array per input column
    labels: np.ndarray | None

    @property
    def dim(self) -> int:
        return int(self.embeddings[0].shape[1])

    def copy(self) -> Batch:
        """The same batch with its own arrays (moving a point of the copy leaves the preset as it was)."""
        labels = None if self.labels is None else self.labels.copy()
        return Batch(self.name, self.format, self.description, [e.copy() for e in self.embeddings], labels)


def _circle(degrees) -> np.ndarray:
    """2-D unit vectors at the given angles (degrees): ``(len(degrees), 2)``."""
    radians = np.radians(np.asarray(degrees, dtype=np.float64))
    return np.stack([np.cos(radians), np.sin(radians)], axis=1)


def _sphere(azimuth_elevation) -> np.ndarray:
    """3-D unit vectors from (azimuth, elevation) pairs in degrees: ``(rows, 3)``."""
    azimuth, elevation = np.radians(np.asarray(azimuth_elevation, dtype=np.float64)).T
    return np.stack([np.cos(elevation) * np.cos(azimuth), np.cos(elevation) * np.sin(azimuth), np.sin(elevation)], 1)


def _at_cosines(anchors_degrees, cosines) -> np.ndarray:
    """The second points of pairs whose first points lie at ``anchors_degrees``, at the given cosines from them."""
    return _circle([a + math.degrees(math.acos(c)) for a, c in zip(anchors_degrees, cosines)])


_A4 = [10, 100, 190, 280]  # four anchors spread round the circle
# name: (format key, description, columns as point arrays, labels)
_SPECS = {
    "pair": (
        "pair",
        "(anchor, positive) pairs: every other row's positive is a negative for an anchor.",
        [_circle(_A4), _circle([50, 140, 160, 250])],
        None,
    ),
    "duplicate-in-batch": (
        "pair",
        "Rows 0 and 1 share one positive (p0 = p1, a duplicate): each anchor is pushed away from the other row's "
        "copy of its own positive, a false negative.",
        [_circle([0, 30, 150, 250]), _circle([15, 15, 190, 290])],
        None,
    ),
    "triplet": (
        "triplet",
        "(anchor, positive, negative) triplets; the negatives sit close to their anchors.",
        [_circle([0, 120, 240]), _circle([45, 165, 290]), _circle([20, 100, 215])],
        None,
    ),
    "n-tuple": (
        "n-tuple",
        "(anchor, positive, negative_1, negative_2) tuples: two hard negatives per anchor.",
        [_circle([0, 120, 240]), _circle([50, 170, 290]), _circle([15, 135, 225]), _circle([335, 95, 205])],
        None,
    ),
    "pair-score": (
        "pair-score",
        "(A, B) pairs with gold scores; pair 2 is scored below pair 0 but its cosine is higher (one couple in the "
        "wrong order).",
        [_circle(_A4), _circle([40, 170, 210, 20])],
        np.array([0.9, 0.3, 0.5, 0.1]),
    ),
    "scores-order-right": (
        "pair-score",
        "Order right, cosines off: the cosines (0.2, 0, -0.3, -0.6) rank the pairs exactly like the gold scores "
        "(0.9, 0.7, 0.5, 0.3) but are far from them. CoSENT is nearly content; CosineSimilarityLoss is not.",
        [_circle([0, 100, 220, 300]), _at_cosines([0, 100, 220, 300], [0.2, 0.0, -0.3, -0.6])],
        np.array([0.9, 0.7, 0.5, 0.3]),
    ),
    "pair-binary": (
        "pair-binary",
        "Pairs labelled 1 (match) or 0: a far-apart match and two close non-matches, the hard pairs.",
        [_circle(_A4), _circle([110, 120, 230, 310])],
        np.array([1, 0, 1, 0]),
    ),
    "sentence-class": (
        "sentence-class",
        "Single sentences with a class (3 classes of 2): the classes are mixed round the circle.",
        [_circle([0, 150, 40, 200, 100, 260])],
        np.array([0, 0, 1, 1, 2, 2]),
    ),
    "pair-class": (
        "pair-class",
        "Pairs with a class (0 entailment, 1 neutral, 2 contradiction), read by a linear classifier.",
        [_circle([0, 120, 240]), _circle([20, 200, 250])],
        np.array([0, 1, 2]),
    ),
    "sentence-teacher-embedding": (
        "sentence-teacher-embedding",
        "Sentences and the teacher's embedding of each (the crosses): every point is pulled onto its target.",
        [_circle([10, 80, 200, 290])],
        _circle([50, 70, 230, 320]),
    ),
    "sentences-teacher-embedding": (
        "sentences-teacher-embedding",
        "A sentence and its translation (two columns) and one teacher embedding both must match.",
        [_circle([0, 120, 240]), _circle([50, 160, 200])],
        _circle([25, 140, 225]),
    ),
    "triplet-margin": (
        "triplet-margin",
        "(query, passage_one, passage_two) with the teacher's margin sim(q, p1) - sim(q, p2) for each row.",
        [_circle([0, 120, 240]), _circle([30, 150, 300]), _circle([90, 200, 250])],
        np.array([0.3, 0.1, 0.2]),
    ),
    "n-tuple-teacher-scores": (
        "n-tuple-teacher-scores",
        "(query, positive, negative) with the teacher's raw score for each candidate.",
        [_circle([0, 120, 240]), _circle([30, 150, 270]), _circle([60, 200, 250])],
        np.array([[5.0, 1.0], [4.0, 2.0], [1.0, 3.0]]),
    ),
    "sentences": (
        "sentences",
        "One column of unrelated sentences crowded into a quarter of the circle (for the regulariser).",
        [_circle([0, 20, 35, 50, 80])],
        None,
    ),
    "matryoshka-3d": (
        "pair",
        "(anchor, positive) pairs on the unit sphere in 3-D whose anchors 0 and 1 differ mostly in the third "
        "coordinate (elevation +45 against -45 degrees), so their 2-D prefixes crowd together: MatryoshkaLoss also "
        "trains those prefixes (the picture shows the first two coordinates).",
        [_sphere([(0, 45), (20, -45), (180, 0)]), _sphere([(30, 10), (50, -10), (230, 20)])],
        None,
    ),
}
PRESETS: dict[str, Batch] = {
    name: Batch(name, fmt, description, columns, labels) for name, (fmt, description, columns, labels) in _SPECS.items()
}
assert all(batch.format in FORMATS for batch in PRESETS.values())


def preset(name: str, seed: int = 0) -> Batch:
    """A fresh copy of the preset ``name``; a non-zero ``seed`` turns every point by a few random degrees."""
    if name not in PRESETS:
        close = difflib.get_close_matches(name, list(PRESETS), n=1) if isinstance(name, str) else []
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"Unknown preset {name!r}.{hint} Presets: {', '.join(PRESETS)}.")
    batch = PRESETS[name].copy()
    if not seed:
        return batch
    rng = np.random.default_rng(seed)
    # A small rotation in a random plane keeps each point on the unit circle (sphere) and the labels valid.
    moved = []
    for column in batch.embeddings:
        turned = column.copy()
        for row, point in enumerate(column):
            angle = math.radians(rng.normal(0.0, 6.0))
            u, v = (0, 1) if column.shape[1] == 2 else tuple(rng.choice(column.shape[1], 2, replace=False))
            turned[row, u] = math.cos(angle) * point[u] - math.sin(angle) * point[v]
            turned[row, v] = math.sin(angle) * point[u] + math.cos(angle) * point[v]
        moved.append(turned)
    return Batch(batch.name, batch.format, batch.description, moved, batch.labels)


def matching_presets(formats, dim: int = 2) -> list[str]:
    """The presets of ``dim``-dimensional points whose format is one of ``formats`` (in the order of ``formats``).

    A loss for any data (``FORMATS["any"]``, the regulariser) fits every preset, single sentences first.
    """
    keys = [fmt.key for fmt in formats]
    if "any" in keys:
        keys = ["sentences"] + [key for key in FORMATS if key not in ("sentences", "any")]
    return [name for key in keys for name, batch in PRESETS.items() if batch.format == key and batch.dim == dim]


# -- the losses the anatomy shows, built on a stand-in model ------------------------------------------
#: Constructor parameters the anatomy widget offers as sliders, where a loss has them.
TUNABLE_OPTIONS = ("scale", "temperature", "margin", "triplet_margin", "positive_margin", "negative_margin")
# Modifiers that can be shown, and the loss each is built around (on 3-D points, prefixes of 3 and 2 dims).
_SHOWN_MODIFIERS = {"MatryoshkaLoss": "MultipleNegativesRankingLoss"}
_MATRYOSHKA_DIMS = [3, 2]
# What the refused losses need besides the points, by how they get their embeddings.
_NEEDS = {
    EmbeddingPath.OWN_FORWARD: "the texts themselves (token ids, layers or its own copy of the model)",
}
# Where the anatomy starts a loss other than at its own default: GIST's temperature 0.01 (a scale of 100) saturates on
# a few points, leaving no force to draw; 0.05 is MultipleNegativesRankingLoss's scale of 20. The slider moves it.
_SHOWN_DEFAULTS = {"GISTEmbedLoss": {"temperature": 0.05}, "CachedGISTEmbedLoss": {"temperature": 0.05}}
# GIST's guide: on given points its embeddings are given too (``anatomy(..., guide=)``), so no guide model is built.
_GUIDED = (EmbeddingPath.WITH_GUIDE, EmbeddingPath.GRADIENT_CACHE_WITH_GUIDE)


class PointsModel(nn.Module):
    """Stands in for the model a loss is built on: the points are given, so it only knows their dimension."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.embedding_dim = dim

    def get_sentence_embedding_dimension(self) -> int:
        return self.embedding_dim

    get_embedding_dimension = get_sentence_embedding_dimension

    def forward(self, features):
        raise TypeError("The anatomy gives the loss its points directly: there are no texts to embed.")


def refusal(loss) -> str | None:
    """Why a loss (class or instance) cannot be shown on given points, in one line; None when it can."""
    name = loss.__name__ if isinstance(loss, type) else type(loss).__name__
    if name in _SHOWN_MODIFIERS and isinstance(loss, type):
        return None  # its instances take the path of the loss they wrap (the default one can be shown)
    is_lossbook = issubclass(loss, EmbeddingLoss) if isinstance(loss, type) else isinstance(loss, EmbeddingLoss)
    if not is_lossbook:
        return f"{name} is not a lossbook loss: the anatomy runs lossbook's compute_loss_from_embeddings."
    path = embedding_path_of(loss)
    if path in _GUIDED and isinstance(loss, lossbook_losses.MatryoshkaLoss):
        return (
            f"{name} around {type(inner_loss(loss)).__name__} cannot be shown on given points: a modifier hands the "
            "loss it wraps no guide embeddings (show the guided loss on its own)."
        )
    if path not in _NEEDS:
        return None
    return f"{name} cannot be shown on given points: it gets its embeddings {path.value}, so it needs {_NEEDS[path]}."


def anatomy_losses() -> dict[str, str | None]:
    """Every loss of the table (``lossbook.losses.LOSS_NAMES``): None if it can be shown, else why not."""
    return {name: refusal(getattr(lossbook_losses, name)) for name in lossbook_losses.LOSS_NAMES}


def loss_options(name: str) -> dict[str, float]:
    """The tunable constructor parameters (``TUNABLE_OPTIONS``) of loss ``name`` and their defaults."""
    cls = getattr(lossbook_losses, _SHOWN_MODIFIERS.get(name, name))
    parameters = inspect.signature(cls.__init__).parameters
    defaults = {
        key: parameters[key].default
        for key in TUNABLE_OPTIONS
        if key in parameters and isinstance(parameters[key].default, (int, float))
    }
    return {**defaults, **_SHOWN_DEFAULTS.get(name, {})}


def build_loss(name: str, **options) -> EmbeddingLoss:
    """Loss ``name`` of ``lossbook.losses`` on a stand-in model (``options`` go to its constructor).

    SoftmaxLoss gets a head for 2-D points and 3 classes, drawn from a fixed seed; the GIST losses get no guide
    model (``anatomy`` gives them the guide's embeddings of the batch); MatryoshkaLoss wraps
    MultipleNegativesRankingLoss (which takes the options) at dims 3 and 2. A refused loss raises a ValueError.
    """
    if name not in lossbook_losses.LOSS_NAMES:
        close = difflib.get_close_matches(str(name), lossbook_losses.LOSS_NAMES, n=1)
        hint = f" Did you mean {close[0]}?" if close else ""
        raise ValueError(f"Unknown loss {name!r}.{hint}")
    reason = refusal(getattr(lossbook_losses, name))
    if reason:
        raise ValueError(reason)
    if name in _SHOWN_MODIFIERS:
        inner = build_loss(_SHOWN_MODIFIERS[name], **options)
        return lossbook_losses.MatryoshkaLoss(PointsModel(max(_MATRYOSHKA_DIMS)), inner, _MATRYOSHKA_DIMS)
    required = {"SoftmaxLoss": {"embedding_dimension": 2, "num_labels": 3}}.get(name, {})
    if embedding_path_of(getattr(lossbook_losses, name)) in _GUIDED:
        required = {"guide": None}  # the guide's embeddings come with the points
    options = {**_SHOWN_DEFAULTS.get(name, {}), **options}
    with warnings.catch_warnings(), torch.random.fork_rng(devices=[]):
        warnings.simplefilter("ignore", DeprecationWarning)  # the symmetric ranking losses are deprecated upstream
        torch.manual_seed(0)  # SoftmaxLoss's head: the same picture every time
        return getattr(lossbook_losses, name)(PointsModel(2), **required, **options)


def takes_guide(loss) -> bool:
    """Whether the loss (or the loss a modifier wraps) reads a guide's embeddings of the batch (GIST)."""
    return embedding_path_of(inner_loss(loss)) in _GUIDED


def inner_loss(loss: nn.Module) -> nn.Module:
    """The loss a MatryoshkaLoss wraps; any other loss itself."""
    return loss.loss if isinstance(loss, lossbook_losses.MatryoshkaLoss) else loss


def presets_for(loss) -> list[str]:
    """The presets a loss (name or instance) takes: its formats' batches, 3-D ones for MatryoshkaLoss."""
    loss = build_loss(loss) if isinstance(loss, str) else loss
    if isinstance(loss, lossbook_losses.MatryoshkaLoss):
        return matching_presets(inner_loss(loss).formats, dim=max(_MATRYOSHKA_DIMS))
    return matching_presets(loss.formats)
