"""What a training run leaves behind: per-step loss and learning rate, evaluations, time, device."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["History"]


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
