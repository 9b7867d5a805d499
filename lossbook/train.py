"""``train()``: a short, honest training loop for any lossbook loss, on a CPU or a GPU.

One function, readable top to bottom: check the data against the loss, pick a batch sampler,
tokenize once, then for each step embed (length-sorted chunks where the loss allows), compute the
loss, step AdamW with a linear warm-up/decay schedule, record the history, evaluate now and then.
Every argument, the model, the loss and the data are checked before any work (``train_checks``).
Nothing a run did is lost: Ctrl-C at any point or a stop flag returns the history so far; any other
exception (a NaN/inf loss, a bad batch, a failing callback or evaluator) carries it as
``error.history``; the model keeps the weights of every step applied.

Under ``torchrun`` / ``accelerate launch`` (several processes) each process takes its share of every
global batch, in-batch negatives are gathered across processes for the ranking losses, and gradients
are averaged (by ``DistributedDataParallel``, see ``lossbook.distributed``), so the run equals one
process on the global batch.
"""

from __future__ import annotations

import random
import time
import warnings
from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm
from transformers import get_linear_schedule_with_warmup

from lossbook import distributed
from lossbook.batching import TokenizedColumns, label_tensor
from lossbook.data import origin_of
from lossbook.detect import as_dataset
from lossbook.device import resolve_device
from lossbook.frozen import FrozenEncoderCache, refuse_unsupported
from lossbook.history import History, TrainingRun
from lossbook.lora import add_lora, has_lora, lora_settings
from lossbook.lora import describe as describe_adapters
from lossbook.memory import return_freed_memory
from lossbook.precision import choose_precision
from lossbook.samplers import SAMPLERS, choose_sampler
from lossbook.step import calls_the_model_it_is_given, step_loss
from lossbook.train_checks import (
    TrainingError,
    attach_history,
    check_model_and_loss,
    check_train_arguments,
    explain_divergence,
    refuse_unfit_data,
    sequence_length,
)

__all__ = ["TrainingError", "train"]


def train(
    model: nn.Module,
    loss: nn.Module,
    dataset,
    *,
    steps: int | None = None,
    epochs: int = 1,
    batch_size: int = 16,
    lr: float = 2e-5,
    warmup_ratio: float = 0.1,
    max_seq_length: int | None = None,
    device: str | torch.device = "auto",
    seed: int = 0,
    evaluator: Callable[[nn.Module], dict] | None = None,
    eval_every: int | None = None,
    callbacks: list[Callable[[int, History], None]] | None = None,
    progress: bool = True,
    sampler: str = "auto",
    freeze_encoder: bool = False,
    stop_event=None,
    weight_decay: float = 0.01,
    max_grad_norm: float = 1.0,
    mixed_precision: bool | str = "auto",
    lora=None,
) -> History:
    """Train ``model`` with ``loss`` on ``dataset`` and return the ``History``.

    Args:
        model: a lossbook ``EmbeddingModel`` (the one the loss was built on).
        loss: any lossbook loss; its own parameters (SoftmaxLoss head, CT copy, DAE decoder) train too.
        dataset: a ``datasets.Dataset`` in a format the loss accepts (checked first).
        steps: optimiser steps; ``None`` runs ``epochs`` full passes.
        batch_size: rows per step (per process when distributed).
        lr, warmup_ratio, weight_decay, max_grad_norm: AdamW and its linear warm-up/decay schedule.
        max_seq_length: truncate texts (default: the model's setting).
        device: ``"auto"`` (CUDA, then MPS, then CPU) or a device name; the choice is recorded.
        seed: seeds batching, dropout and initialisation; same seed on a CPU gives the same history.
        evaluator: ``evaluator(model) -> {metric: value}``, run before training and every ``eval_every``
            steps (and at the end).
        callbacks: ``callback(step, history)`` after every step (e.g. a live plot).
        progress: show a tqdm bar with the running loss.
        sampler: ``"auto"``, ``"random"``, ``"no-duplicates"`` or ``"group-by-label"``.
        freeze_encoder: the fast CPU mode: embed the data once with the frozen transformer and train
            only an identity-initialised dense head (added to the model) on the cached embeddings.
        stop_event: anything with ``is_set()`` (a ``threading.Event``); when set, training stops
            after the current step.
        mixed_precision: ``"auto"``: bf16 (or fp16) autocast on CUDA, and on a CPU with native bf16 units
            (AMX, AVX512-BF16) where a one-off micro-benchmark finds it at least 1.3x faster; fp32 otherwise.
            ``False``: always fp32; ``True``: always autocast. The choice and why: ``history.config``
            (``"mixed_precision"``, ``"precision_reason"``), see ``lossbook.precision``.
        lora: ``True``, a dict (``dict(r=16, alpha=32)``) or a ``lossbook.lora.LoraSettings``: put LoRA adapters
            (PEFT) on the transformer and train only them (and the loss's own parameters, and a head if the model
            has one). A model that has adapters already trains them whatever ``lora`` says. ``save`` then writes
            the merged model, or the adapter alone with ``adapter_only=True``. See ``lossbook.lora``.

    Returns:
        The ``History``; ``history.stopped`` says how the run ended (``"interrupted"`` for Ctrl-C at any
        point, the steps done so far kept).

    Raises:
        TypeError, ValueError: a wrong argument, before any work (the message says what was expected).
        TrainingError: the data does not fit the loss (with the converters that would fix it), the loss
            was built on another model, or the loss became NaN/inf (the bad step is not applied).
        Any exception raised once training has started (by the loss on a bad batch, a callback, the
            evaluator) propagates with ``error.history`` set to the History so far; the model keeps the
            weights of the steps applied.
    """
    callbacks = check_train_arguments(
        steps=steps,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        warmup_ratio=warmup_ratio,
        seed=seed,
        evaluator=evaluator,
        eval_every=eval_every,
        callbacks=callbacks,
        sampler=sampler,
        stop_event=stop_event,
        weight_decay=weight_decay,
        max_grad_norm=max_grad_norm,
    )
    dataset = as_dataset(dataset)
    check_model_and_loss(model, loss, "train()")
    adapters = lora_settings(lora)
    if adapters is not None and freeze_encoder:
        raise ValueError(
            "lora and freeze_encoder=True are two different cheap modes: LoRA trains small adapters inside the "
            "transformer, the fast mode a head on a frozen one. Pass one of them."
        )
    if adapters is not None and not hasattr(model, "transformer"):
        raise TypeError(
            f"lora needs a lossbook EmbeddingModel (it adapts model.transformer); got {type(model).__name__}."
        )
    max_seq_length = sequence_length(model, max_seq_length)
    report = refuse_unfit_data(dataset, loss)
    for finding in report.findings:
        if not finding.handled_by_sampler:
            warnings.warn(str(finding), stacklevel=2)
    if lr == 0:
        warnings.warn(
            "lr=0: the optimiser will not change any weight, so the run would report 'completed' with the "
            "model unchanged. Pass a positive learning rate, e.g. lr=2e-5.",
            stacklevel=2,
        )
    detection = report.detection

    world = distributed.World.current()
    target, reason = resolve_device(world.device if world.active and world.device is not None else device)
    sampler_name = choose_sampler(detection.format.key) if sampler == "auto" else sampler
    global_batch = batch_size * world.size
    # Read once: the samplers need the texts and labels now (to refuse data that gives no batch), tokenizing later.
    texts = [list(dataset[column]) for column in detection.input_columns]
    row_texts = list(zip(*texts))
    labels = list(dataset[detection.label_column]) if detection.label_column else None

    def epoch_batches(epoch: int) -> list[list[int]]:
        make = SAMPLERS[sampler_name]
        if sampler_name == "no-duplicates":
            batches = make(row_texts, global_batch, seed=seed + epoch)
        elif sampler_name == "group-by-label":
            batches = make(labels, global_batch, seed=seed + epoch)
        else:
            batches = make(len(row_texts), global_batch, seed=seed + epoch)
        # Every process needs a full share; a short last batch would leave one with nothing.
        return [b for b in batches if len(b) >= 2 * world.size] if world.active else [b for b in batches if len(b) >= 2]

    first_epoch = epoch_batches(0)
    if not first_epoch:
        raise TrainingError(
            f"Nothing to train: {len(dataset)} row(s) give no batch of at least {2 * world.size} rows with the "
            f"{sampler_name} sampler (batch_size={batch_size}). Add rows: a step needs at least 2."
        )
    if freeze_encoder:
        try:
            refuse_unsupported(loss)
        except ValueError as error:
            raise TrainingError(str(error)) from None
    total_steps = steps if steps is not None else epochs * len(first_epoch)
    if adapters is not None and not has_lora(model.transformer):
        model.transformer = add_lora(model.transformer, adapters)  # the model's own weights are frozen from here
    precision = choose_precision(target, mixed_precision, model)
    history = History(loss_name=type(loss).__name__, device=f"{target} ({reason})" + world.describe())
    history.config = {
        "steps": total_steps,
        "batch_size": batch_size,
        "lr": lr,
        "warmup_ratio": warmup_ratio,
        "seed": seed,
        "sampler": sampler_name,
        "max_seq_length": max_seq_length,
        "freeze_encoder": freeze_encoder,
        "format": detection.format.key,
        "rows": len(dataset),
        "world_size": world.size,
        "mixed_precision": precision.name,
        "precision_reason": precision.reason,
        "lora": describe_adapters(model.transformer) if hasattr(model, "transformer") else None,
    }

    # From here on nothing is lost: an interrupt returns the History, an exception carries it (error.history),
    # and the model keeps the weights of every step applied.
    frozen, bar, step, optimizer, scheduler = None, None, 0, None, None
    try:
        _seed_everything(seed)
        model.to(target)
        loss.to(target)
        tokens = TokenizedColumns.build(
            model, dataset, detection.input_columns, detection.label_column, max_seq_length, texts=texts, labels=labels
        )
        pad_id = model.tokenizer.pad_token_id or 0
        if freeze_encoder:
            frozen = FrozenEncoderCache.build(model, loss, tokens, pad_id, target, batch_size=64)
            parameters = list(model.head.parameters()) + _loss_only_parameters(loss, model)
        else:
            parameters = list(model.parameters()) + _loss_only_parameters(loss, model)
        world.enable_gathering(loss)
        trained = [p for p in parameters if p.requires_grad]
        history.config["trainable_parameters"] = sum(p.numel() for p in trained)
        optimizer = _adamw(trained, lr=lr, weight_decay=weight_decay)
        scheduler = get_linear_schedule_with_warmup(optimizer, int(warmup_ratio * total_steps), total_steps)
        scaler = torch.amp.GradScaler("cuda") if precision.needs_grad_scaler else None

        optimizer.zero_grad(set_to_none=True)  # no gradient left from before the run
        model.train()
        loss.train()
        start = time.perf_counter()
        if evaluator is not None:
            _evaluate(evaluator, model, history, step=0)
        bar = tqdm(total=total_steps, desc=f"train {history.loss_name}", disable=not progress or not world.is_main)
        epoch, batches = 1, first_epoch
        history.stopped = "running"
        try:
            with world.synchronised(
                model, loss, parameters, through_model=calls_the_model_it_is_given(loss, frozen=frozen)
            ) as sync:
                while step < total_steps:
                    if not batches:
                        batches = epoch_batches(epoch)
                        epoch += 1
                    rows = world.share(batches.pop(0))
                    batch_labels = label_tensor(tokens.labels, rows, target)
                    with precision.autocast(target):
                        value = step_loss(sync.model, loss, tokens, rows, batch_labels, pad_id, target, frozen=frozen)
                    reported = world.mean(value.detach().float())
                    if not torch.isfinite(reported):
                        history.stopped = "diverged"
                        cause = explain_divergence(step + 1, reported.item(), lr, loss, parameters, batch_labels)
                        raise TrainingError(cause, history)
                    (scaler.scale(value) if scaler else value).backward()
                    sync.average_the_rest()
                    if scaler:
                        scaler.unscale_(optimizer)
                    torch.nn.utils.clip_grad_norm_(parameters, max_grad_norm)
                    scaler.step(optimizer) if scaler else optimizer.step()
                    if scaler:
                        scaler.update()
                    scheduler.step()
                    # Free the gradients now, not before the next backward: the next forward's activations
                    # then reuse their memory (about 90 MB less at the peak for MiniLM).
                    optimizer.zero_grad(set_to_none=True)
                    step += 1
                    history.record(step, reported.item(), scheduler.get_last_lr()[0], time.perf_counter() - start)
                    bar.update(1)
                    bar.set_postfix(loss=f"{reported.item():.4f}")
                    if evaluator is not None and eval_every and step % eval_every == 0 and step < total_steps:
                        _evaluate(evaluator, model, history, step)
                    for callback in callbacks:
                        callback(step, history)
                    if stop_event is not None and stop_event.is_set():
                        history.stopped = "stopped"
                        break
                else:
                    history.stopped = "completed"
        except KeyboardInterrupt:
            history.stopped = "interrupted"  # the steps so far are kept, and evaluated below
        if optimizer.state:  # what was updated: a guide model's weights, say, are offered but get no gradient
            history.config["trainable_parameters"] = sum(p.numel() for p in optimizer.state)
        if evaluator is not None and history.steps and history.evaluations[-1]["step"] != step:
            _evaluate(evaluator, model, history, step)
    except KeyboardInterrupt:  # before the first step, or during the final evaluation
        history.stopped = "interrupted"
    except BaseException as error:
        if history.stopped != "diverged":
            history.stopped = "failed"
        attach_history(error, history, total_steps)
        raise
    finally:
        if bar is not None:
            bar.close()
        model.eval()
        loss.eval()
        if frozen is not None:
            frozen.release()
        # The run's gradients and optimizer states go, and their memory back to the system (as after
        # transformers' Trainer, no .grad is left), so that the next run in a notebook starts small.
        model.zero_grad(set_to_none=True)
        loss.zero_grad(set_to_none=True)
        del optimizer, scheduler
        return_freed_memory()
        _remember_run(model, history, loss, dataset, evaluator)
    return history


def _remember_run(model: nn.Module, history: History, loss: nn.Module, dataset, evaluator) -> None:
    """Append the run to ``model.training_runs`` when it changed the weights (a step was applied), for its card.

    Whatever way the run ended: an interrupted or failed run's steps are in the weights too. A model without
    the list (a SentenceTransformer) is left as it is.
    """
    runs = getattr(model, "training_runs", None)
    if not isinstance(runs, list) or not history.steps:
        return
    evaluation_rows = getattr(getattr(evaluator, "data", None), "dataset", None)  # a lossbook Evaluation's rows
    runs.append(
        TrainingRun.of(
            history,
            loss,
            data=origin_of(dataset),
            evaluation=getattr(evaluator, "description", None),
            evaluation_data=origin_of(evaluation_rows),
        )
    )


def _adamw(parameters: list[nn.Parameter], *, lr: float, weight_decay: float) -> torch.optim.AdamW:
    """AdamW, fused into one kernel on CPU and CUDA (as transformers' Trainer does by default).

    Same update rule; torch's default on a CPU is a Python loop over the tensors, about 12% of a MiniLM
    CoSENT step (batch 32) in a profile on a 2-core CPU.
    """
    fused = bool(parameters) and all(p.device.type in ("cpu", "cuda") and p.is_floating_point() for p in parameters)
    return torch.optim.AdamW(parameters, lr=lr, weight_decay=weight_decay, fused=fused or None)


def _loss_only_parameters(loss: nn.Module, model: nn.Module) -> list[nn.Parameter]:
    """Parameters that live on the loss, not the model (SoftmaxLoss head, CT copy, DAE decoder...)."""
    model_ids = {id(p) for p in model.parameters()}
    seen, result = set(), []
    for parameter in loss.parameters():
        if id(parameter) not in model_ids and id(parameter) not in seen:
            seen.add(id(parameter))
            result.append(parameter)
    return result


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _evaluate(evaluator, model: nn.Module, history: History, step: int) -> None:
    was_training = model.training
    model.eval()
    with torch.no_grad():
        metrics = evaluator(model)
    model.train(was_training)
    history.evaluations.append({"step": step, **{k: float(v) for k, v in dict(metrics).items()}})
