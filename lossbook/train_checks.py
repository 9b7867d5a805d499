"""What ``train()`` and ``plan()`` check before they start, and how they explain a stop.

Kept apart from ``train.py`` so the training loop reads top to bottom: the arguments, the model and
the loss, and the data are checked here once, before any work, so that a wrong call is refused with
the fix instead of failing at step 1 (or, worse, training the wrong model without a word). When a run
does stop, ``attach_history`` hands the History so far to the exception, and ``explain_divergence``
names the likely cause of a NaN loss, the most likely first.
"""

from __future__ import annotations

import warnings

import datasets
import torch
from torch import nn

from lossbook.checks import CheckReport, check
from lossbook.history import History
from lossbook.losses.base import EmbeddingLoss
from lossbook.samplers import SAMPLERS
from lossbook.table import conversion_for
from lossbook.validate import callables, check_max_seq_length, number, one_of, optional_whole_number, whole_number

__all__ = [
    "TrainingError",
    "attach_history",
    "check_model_and_loss",
    "check_train_arguments",
    "explain_divergence",
    "refuse_unfit_data",
    "sequence_length",
]

BATCH_SIZE_FIX = (
    "Every step needs at least 2 rows (in-batch losses compare each row with the others); e.g. batch_size=16."
)


class TrainingError(RuntimeError):
    """Training could not start or had to stop; ``.history`` holds what was recorded until then."""

    def __init__(self, message: str, history: History | None = None) -> None:
        super().__init__(message)
        self.history = history


def check_train_arguments(
    *,
    steps,
    epochs,
    batch_size,
    lr,
    warmup_ratio,
    seed,
    evaluator,
    eval_every,
    callbacks,
    sampler,
    stop_event,
    weight_decay,
    max_grad_norm,
) -> list:
    """Refuse a wrong argument of ``train()`` before any work; return the callbacks as a list."""
    optional_whole_number(
        steps, "steps", fix="Pass the number of optimiser steps (e.g. 100), or None to run `epochs` full passes."
    )
    whole_number(epochs, "epochs", fix="Pass the number of full passes over the data (e.g. 1).")
    whole_number(batch_size, "batch_size", minimum=2, fix=BATCH_SIZE_FIX)
    number(lr, "lr", minimum=0, fix="Pass a learning rate such as 2e-5.")
    number(
        warmup_ratio,
        "warmup_ratio",
        minimum=0,
        maximum=1,
        fix="It is the share of the steps spent warming up, e.g. 0.1.",
    )
    number(
        weight_decay, "weight_decay", minimum=0, fix="AdamW's decoupled weight decay, e.g. 0.01 (0 switches it off)."
    )
    number(max_grad_norm, "max_grad_norm", above=0, fix="Gradients are clipped to this norm, e.g. 1.0.")
    whole_number(seed, "seed", minimum=0)
    if evaluator is not None and not callable(evaluator):
        raise TypeError(
            f"evaluator must be a function evaluator(model) -> {{metric: value}}, got {type(evaluator).__name__}."
        )
    optional_whole_number(
        eval_every, "eval_every", fix="Evaluate every that many steps (e.g. 50), or None for before and after only."
    )
    if eval_every is not None and evaluator is None:
        warnings.warn(
            "eval_every is set but there is no evaluator, so nothing is evaluated: pass evaluator=... too.",
            stacklevel=3,
        )
    functions = callables(callbacks, "callbacks")
    if sampler != "auto":
        one_of(sampler, "sampler", ["auto", *SAMPLERS])
    if stop_event is not None and not callable(getattr(stop_event, "is_set", None)):
        raise TypeError(f"stop_event needs an is_set() method (a threading.Event), got {type(stop_event).__name__}.")
    return functions


def check_model_and_loss(model, loss, where: str) -> None:
    """The model must be a loaded embedding model, and the loss an instance built on that very model.

    A loss built on another model would train that one: ``train()`` steps the optimiser on ``model``'s
    parameters, but a cached loss (or any loss that embeds on its own) runs its own ``loss.model``.
    """
    if isinstance(model, str) or not isinstance(model, nn.Module) or not hasattr(model, "tokenizer"):
        got = f"the name {model!r}" if isinstance(model, str) else type(model).__name__
        raise TypeError(
            f"{where} takes a loaded model with a tokenizer (lossbook.load_model() or lossbook.tiny_model()), "
            f"got {got}. Load it first: model = lossbook.load_model(...)."
        )
    if isinstance(loss, type):
        raise TypeError(
            f"{where} takes a loss instance, got the class {loss.__name__}; build it on the model: "
            f"loss = {loss.__name__}(model)."
        )
    if not isinstance(loss, nn.Module):
        raise TypeError(
            f"{where} takes a lossbook loss (e.g. lossbook.losses.CoSENTLoss(model)), got {type(loss).__name__}."
        )
    for module in loss.modules():
        bound = module.model if isinstance(module, EmbeddingLoss) else None
        if isinstance(bound, nn.Module) and bound is not model:
            raise TrainingError(
                f"{type(module).__name__} was built on another model than the one given to {where}: it would train "
                f"that one and leave this one unchanged. Build the loss on the model you train: "
                f"loss = {type(loss).__name__}(model, ...)."
            )


def sequence_length(model, max_seq_length) -> int:
    """``max_seq_length``, or the model's own when None, refused when it is not a usable number of tokens."""
    if max_seq_length is None:
        return model.max_seq_length
    config = getattr(getattr(model, "transformer", None), "config", None)
    return check_max_seq_length(max_seq_length, getattr(config, "max_position_embeddings", None))


def refuse_unfit_data(dataset: datasets.Dataset, loss: nn.Module) -> CheckReport:
    """``check(dataset, loss)``; a fatal finding raises, with the converters that fix a wrong format."""
    report = check(dataset, loss)
    if report.fatal_findings:
        raise TrainingError(_explain_mismatch(report, loss))
    return report


def _explain_mismatch(report: CheckReport, loss: nn.Module) -> str:
    lines = [str(report)]
    if report.detection is not None and report.format_problem is not None:
        option = conversion_for(report.detection.format, loss)
        if option is not None:
            lines.append(f"To train {type(loss).__name__} on this data, convert it with {option.recipe}.")
        else:
            lines.append("Pick a loss for this format: lossbook.table.losses_for(lossbook.detect_format(data).format).")
    return "\n".join(lines)


def explain_divergence(step: int, value: float, lr: float, loss: nn.Module, parameters: list, labels) -> str:
    """Why the loss became NaN/inf, the likeliest cause first.

    Bad labels or weights that were already NaN come before the learning rate: at step 1 no update has
    been applied yet, so no learning rate can be the cause.
    """
    causes = []
    bad_labels = isinstance(labels, torch.Tensor) and labels.is_floating_point() and not torch.isfinite(labels).all()
    if bad_labels:
        bad = int((~torch.isfinite(labels)).sum())
        causes.append(f"{bad} label value(s) of this batch are NaN or inf; drop or fix those rows")
    broken = sum(1 for p in parameters if p.is_floating_point() and not torch.isfinite(p).all())
    if broken:
        when = (
            "before training started: reload or re-initialise the model"
            if step == 1
            else "after the previous update: the learning rate is too high, try 10x lower"
        )
        causes.append(f"the model's weights already hold NaN or inf values ({broken} tensors), {when}")
    if step > 1 and not broken:
        causes.append(f"the learning rate ({lr:g}) is too high for this model; try 10x lower")
    scale = getattr(loss, "scale", None)
    if isinstance(scale, (int, float)) and scale > 50:
        causes.append(f"the loss's scale ({scale:g}) is large: logits overflow; try the default 20")
    if not bad_labels:
        causes.append("the data holds extreme labels (check it with lossbook.check)")
    return (
        f"The loss became {value} at step {step}; training stopped before applying that step. Likely causes: "
        + "; ".join(causes)
        + "."
    )


def attach_history(error: BaseException, history: History, total_steps: int) -> None:
    """Hand the History so far to an exception that stops ``train()`` (``error.history``), and say so in its notes."""
    if getattr(error, "history", None) is None:
        try:
            error.history = history
        except (AttributeError, TypeError):  # an exception type that takes no attributes
            return
    if hasattr(error, "add_note"):
        done = len(history.steps)
        error.add_note(
            f"train() stopped after {done} of {total_steps} step(s): error.history holds the History so far, "
            f"and the model keeps the weights of the {done} step(s) applied."
        )
