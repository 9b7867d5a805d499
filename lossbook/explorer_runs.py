"""What the loss explorer runs, without any widget: default settings per loss, runs over seeds, comparisons.

A learner who presses Train should see something change. On a CPU, fine-tuning all of MiniLM for the
20 steps a budget allows moves STS-B Spearman by about 0.003, less than one seed differs from another.
So the explorer's default, on a CPU and for every loss that can train on sentence embeddings alone,
is the fast mode of ``train(..., freeze_encoder=True)``: the transformer is frozen, each text is
encoded once, and a dense head trains for hundreds of steps in seconds. A switch (``whole_model``)
fine-tunes the whole model instead, the default on a GPU.

Every run is repeated over ``settings.seeds`` (two by default), so a result is a change *and* the
seed-to-seed spread it has to beat. A modifier (Matryoshka, AdaptiveLayer) is run against a plain run
of the same loss with the same budget and seeds, the control that shows what the modifier itself did;
in the fast mode both start from a head that is a random rotation (same cosines as MiniLM at full size,
no dimension privileged), as notebook 07 does, so the truncation curve is the loss's doing.

    settings = default_settings(loss, device)
    result = run_seeds(base_model, build, data, evaluation, settings)
    result.summary()   # "spearman: before 0.8710, after 0.8802 (+0.0092; 2 seeds, spread 0.0011; ...)"
"""

from __future__ import annotations

import copy
import html
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import torch
from torch import nn

from lossbook.frozen import supports_frozen_encoder
from lossbook.history import History
from lossbook.train import train

__all__ = [
    "RunResult",
    "RunSettings",
    "comparison_settings",
    "comparison_table",
    "default_settings",
    "rotate_head",
    "run_seeds",
]


@dataclass(frozen=True)
class RunSettings:
    """One run's budget: steps, batch size, learning rate, fast mode or not, and the seeds it repeats over."""

    steps: int
    batch_size: int
    lr: float
    freeze_encoder: bool
    seeds: tuple[int, ...] = (0, 1)
    max_seq_length: int = 64

    def describe(self) -> str:
        mode = "fast mode (frozen transformer, trained head)" if self.freeze_encoder else "the whole model fine-tuned"
        return (
            f"{self.steps} steps, batch {self.batch_size}, lr {self.lr:g}, {mode}, "
            f"seed{'s' if len(self.seeds) > 1 else ''} {', '.join(map(str, self.seeds))}"
        )


# Measured on a 2-core CPU with all-MiniLM-L6-v2 on 600 training rows (bench/explorer_defaults.py,
# BENCHMARKS.md section 5): 400 steps of 128 rows (notebook 07's fast-mode recipe) at lr 3e-4. At 3e-3 the
# head gained most on the bundled sets but overfit the mirror's real ones (STS-B 0.9065 -> 0.8888), which
# MiniLM has already been trained on; at 3e-4 both gain where there is room (mirror STS-B +0.002,
# banking77 +0.046). The whole model on a CPU gets the steps a 30 s budget allows for two seeds.
FAST_MODE = RunSettings(steps=400, batch_size=128, lr=3e-4, freeze_encoder=True)
WHOLE_MODEL_CPU = RunSettings(steps=20, batch_size=16, lr=2e-5, freeze_encoder=False)
WHOLE_MODEL_GPU = RunSettings(steps=200, batch_size=32, lr=2e-5, freeze_encoder=False)


def default_settings(
    loss: nn.Module | type, device: torch.device | str, *, whole_model: bool | None = None
) -> RunSettings:
    """The explorer's default budget for ``loss`` (a loss, or a loss class: its declared path decides) on ``device``.

    ``whole_model=None`` (the default) fine-tunes the whole model on a GPU and uses the fast mode on a
    CPU where the loss allows it (``lossbook.frozen.supports_frozen_encoder``); ``True`` / ``False`` force it.
    """
    on_gpu = torch.device(device).type != "cpu"
    if whole_model is None:
        whole_model = on_gpu or not supports_frozen_encoder(loss)
    if whole_model:
        return WHOLE_MODEL_GPU if on_gpu else WHOLE_MODEL_CPU
    if not supports_frozen_encoder(loss):
        raise ValueError(
            f"{type(loss).__name__} cannot train in the fast mode (it needs token ids, layers or a guide model): "
            "fine-tune the whole model instead (whole_model=True)."
        )
    return FAST_MODE


def rotate_head(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give ``model`` a dense head that is a random rotation: the same cosines, but no dimension privileged.

    MiniLM's own dimensions are ordered by chance in a way that already truncates tolerably; a Matryoshka
    run from a rotation starts where no prefix is better than another, so its truncation curve (and the
    plain control's) shows what training did.
    """
    width = int(model.transformer.config.hidden_size)
    rotation, _ = torch.linalg.qr(torch.randn(width, width, generator=torch.Generator().manual_seed(seed)))
    head = model.add_head()
    with torch.no_grad():
        head.weight.copy_(rotation.to(head.weight))
    return model


@dataclass
class RunResult:
    """A loss trained over several seeds on the same rows: before, after per seed, and the spread."""

    label: str
    settings: RunSettings
    metric: str
    before: float
    after: list[float]
    histories: list[History]
    seconds: float
    model: nn.Module | None = None  # the first seed's trained model (for pictures); the others are not kept
    loss: nn.Module | None = None  # the first seed's trained loss (a SoftmaxLoss's classifier, for its picture)
    initial_classifier: nn.Module | None = None  # that loss's own classifier head before training, if it has one
    curves: dict = field(default_factory=dict)

    @property
    def mean_after(self) -> float:
        return statistics.fmean(self.after)

    @property
    def change(self) -> float:
        return self.mean_after - self.before

    @property
    def spread(self) -> float:
        """Largest minus smallest result over the seeds (0 with one seed: then it says nothing)."""
        return max(self.after) - min(self.after)

    @property
    def moved(self) -> bool:
        """True when the change beats the seed-to-seed spread (needs two seeds or more)."""
        return len(self.after) > 1 and abs(self.change) > self.spread

    @property
    def direction(self) -> str:
        """ "up" or "down": the sign of the change (the yardsticks are all higher-is-better)."""
        return "up" if self.change >= 0 else "down"

    def summary(self) -> str:
        seeds = len(self.after)
        spread = f"spread {self.spread:.4f}" if seeds > 1 else "one seed: no spread measured"
        verdict = ""
        if seeds > 1:
            verdict = (
                f"; {self.direction} by more than the seed spread"
                if self.moved
                else ("; within the seed spread: no clear effect")
            )
        return (
            f"{self.metric}: before {self.before:.4f}, after {self.mean_after:.4f} ({self.change:+.4f}; {seeds} "
            f"seed{'s' if seeds > 1 else ''}, {spread}{verdict}) in {self.seconds:.1f} s"
        )


def run_seeds(
    base_model: nn.Module,
    build_loss: Callable[[nn.Module], nn.Module],
    train_rows,
    evaluation,
    settings: RunSettings,
    *,
    label: str,
    start: Callable[[nn.Module], nn.Module] | None = None,
    before: float | None = None,
    callbacks: Sequence[Callable] = (),
    stop_event=None,
) -> RunResult:
    """Train a copy of ``base_model`` once per seed with ``build_loss(copy)`` on ``train_rows``; measure each.

    ``evaluation``: a ``lossbook.run_setup.Evaluation`` (``measure(model).score``, ``primary``).
    ``start(model)`` prepares each copy before its loss is built (``rotate_head`` for a Matryoshka run).
    ``before``: the base model's score when the caller measured it already. A stop (``stop_event``) ends
    the seed that is running, keeps its result and skips the remaining seeds.
    """
    began = time.perf_counter()
    metric = ""  # the yardstick's main metric, named by its first result
    if before is None:
        first = evaluation.measure(base_model)
        before, metric = first.score, first.primary
    after, histories, kept, kept_loss, initial_classifier = [], [], None, None, None
    # In the fast mode the transformer stays frozen: the copies share the base model's (one copy of its
    # weights, and lossbook.frozen encodes each text once for all of them); only their heads are their own.
    shared = {id(base_model.transformer): base_model.transformer} if settings.freeze_encoder else {}
    for seed in settings.seeds:
        model = copy.deepcopy(base_model, memo=dict(shared))
        if start is not None:
            start(model)
        loss = build_loss(model)
        if kept is None:
            kept_loss = loss
            head = getattr(loss, "classifier", None)  # small (SoftmaxLoss: 3 x 1152); the model is not copied
            initial_classifier = copy.deepcopy(head) if isinstance(head, nn.Module) else None
        history = train(
            model,
            loss,
            train_rows,
            steps=settings.steps,
            batch_size=settings.batch_size,
            lr=settings.lr,
            max_seq_length=settings.max_seq_length,
            freeze_encoder=settings.freeze_encoder,
            seed=seed,
            callbacks=list(callbacks),
            stop_event=stop_event,
            progress=False,
        )
        history.label = f"{label}, seed {seed}"
        histories.append(history)
        measured = evaluation.measure(model)
        after.append(measured.score)
        metric = measured.primary
        if kept is None:
            kept = model
        del model, loss
        if history.stopped == "stopped":
            break
    if shared and kept is not None:  # the kept model leaves with a transformer of its own: training it later
        kept.transformer = copy.deepcopy(kept.transformer)  # must not change the base model
    ran = replace(settings, seeds=tuple(settings.seeds[: len(after)]))
    seconds = time.perf_counter() - began
    return RunResult(label, ran, metric, before, after, histories, seconds, kept, kept_loss, initial_classifier)


def comparison_settings(loss_classes: Sequence[type], device: torch.device | str) -> RunSettings:
    """One budget for every loss of a comparison: the fast mode on a CPU when all allow it, two seeds at least."""
    whole_model = any(not supports_frozen_encoder(cls) for cls in loss_classes) or None
    chosen = default_settings(loss_classes[0], device, whole_model=whole_model)
    return chosen if len(chosen.seeds) >= 2 else replace(chosen, seeds=(0, 1))


def comparison_table(results: dict[str, RunResult], yardstick: str) -> str:
    """An HTML table of a comparison: each loss's before, mean after +- spread, change, and its time."""
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{r.before:.4f}</td><td>{r.mean_after:.4f} &plusmn; {r.spread / 2:.4f}"
        f"</td><td>{r.change:+.4f}</td><td>{'yes, ' + r.direction if r.moved else 'no'}</td>"
        f"<td>{r.seconds:.1f} s</td></tr>"
        for name, r in results.items()
    )
    first = next(iter(results.values()), None)
    budget = html.escape(first.settings.describe()) if first else ""
    return (
        f"<b>{html.escape(yardstick)}</b> ({budget}; &plusmn; is half the spread between seeds)"
        "<table><tr><th>loss</th><th>before</th><th>after</th><th>change</th><th>beats the spread</th>"
        f"<th>time</th></tr>{rows}</table>"
    )
