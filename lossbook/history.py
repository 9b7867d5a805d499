"""What a training run leaves behind: per-step loss and learning rate, evaluations, time, device.

``History`` is what ``train()`` returns; ``TrainingRun`` is what the model keeps of each run
(``model.training_runs``), for the model card ``EmbeddingModel.save`` writes (``lossbook.model_card``).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["History", "TrainingRun", "plain"]


@dataclass
class History:
    """The record of one training run; ``lossbook.plots.loss_curves(history)`` draws it.

    Attributes:
        loss_name: the loss class trained with.
        device: where it ran, and why (e.g. ``"cpu (auto: no GPU found, ...)"``).
        steps, losses, learning_rates, seconds: one entry per optimiser step (``seconds`` since start).
        evaluations: ``{"step": s, **metrics}`` dicts, including step 0 (before training) when an
            evaluator was given.
        stopped: why training ended: ``"completed"``, ``"interrupted"`` (Ctrl-C, at any point: before the
            first step, during one, or during the final evaluation), ``"stopped"`` (the stop flag),
            ``"diverged"`` (a NaN/inf loss) or ``"failed"`` (an exception, which carries this History as
            ``error.history``).
        config: the arguments of the run (batch size, learning rate, sampler, ...).
    """

    loss_name: str = ""
    device: str = ""
    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    learning_rates: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    evaluations: list[dict] = field(default_factory=list)
    stopped: str = "not started"
    config: dict = field(default_factory=dict)
    label: str = ""

    def record(self, step: int, loss: float, learning_rate: float, seconds: float) -> None:
        self.steps.append(step)
        self.losses.append(loss)
        self.learning_rates.append(learning_rate)
        self.seconds.append(seconds)

    @property
    def name(self) -> str:
        """How plots label this run."""
        return self.label or self.loss_name

    @property
    def seconds_per_step(self) -> float:
        """Median wall time of one step (the first step, which warms up, is left out when possible)."""
        gaps = [b - a for a, b in zip(self.seconds, self.seconds[1:])] or self.seconds
        gaps = sorted(gaps)
        return gaps[len(gaps) // 2] if gaps else math.nan

    def metric(self, name: str) -> list[tuple[int, float]]:
        """``(step, value)`` pairs of one evaluation metric."""
        return [(entry["step"], entry[name]) for entry in self.evaluations if name in entry]

    def to_dict(self) -> dict:
        return asdict(self)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1, default=str))
        return path

    @classmethod
    def load(cls, path: str | Path) -> History:
        return cls(**json.loads(Path(path).read_text()))

    def __repr__(self) -> str:
        last = f", last loss {self.losses[-1]:.4f}" if self.losses else ""
        return f"History({self.name}: {len(self.steps)} steps, {self.stopped}{last}, {self.device})"


@dataclass
class TrainingRun:
    """One ``train()`` call as the model remembers it, for its model card.

    Attributes:
        history: the run's ``History`` (the object ``train()`` returned).
        losses: ``{"name", "config", "citation"}`` of the loss trained with, then of the loss it wraps
            (MatryoshkaLoss -> CoSENTLoss), each config made ``plain``.
        data: where the training rows came from (``lossbook.data.origin_of``), None when not a named data set.
        evaluation: what the evaluator measured, when it says (``Evaluation.description``, e.g.
            ``"Spearman on stsb [validation]"``).
        evaluation_data: where the evaluation rows came from, as ``data``.

    Plain values only, no tensors or modules, so a model with its runs deep-copies and pickles as cheaply
    as before, and a run keeps no guide model or data set alive.
    """

    history: History
    losses: list[dict] = field(default_factory=list)
    data: Any = None  # a lossbook.data.DataOrigin
    evaluation: str | None = None
    evaluation_data: Any = None

    @classmethod
    def of(cls, history: History, loss, *, data=None, evaluation: str | None = None, evaluation_data=None):
        """The record of a run with ``loss`` (and the loss it wraps, if any)."""
        losses, seen = [], set()
        while loss is not None and hasattr(loss, "get_config_dict") and id(loss) not in seen:
            seen.add(id(loss))
            citation = getattr(loss, "citation", None)
            losses.append(
                {
                    "name": type(loss).__name__,
                    "config": plain(loss.get_config_dict()),
                    "citation": citation.strip() if isinstance(citation, str) and citation.strip() else None,
                }
            )
            loss = getattr(loss, "loss", None)  # a modifier's wrapped loss
        return cls(history, losses, data, evaluation if isinstance(evaluation, str) else None, evaluation_data)

    @property
    def loss_names(self) -> list[str]:
        return [entry["name"] for entry in self.losses]


def plain(value):
    """``value`` as JSON-ready data: numbers, strings, lists, dicts; any other object by its name.

    A loss's config holds objects at times (GISTEmbedLoss's guide model, a distance function): a card shows
    their names, as sentence-transformers' does, and never their repr (a model's holds the path it came from).
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # a 0-d tensor or a numpy number
        return value.item()
    return getattr(value, "__name__", None) or type(value).__name__
