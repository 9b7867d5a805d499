"""The fast CPU mode: embed the data once with a frozen transformer, then train a small head.

A transformer forward pass is most of a training step on a CPU. With the transformer frozen, each
distinct text is encoded once (its mean-pooled output cached), and a step is a few small matrix
products through a dense head, identity-initialised so that training starts from the model as it
was: thousands of steps in seconds. The head becomes part of the model (``encode`` and ``save``
include it). Losses that need tokens or layers (denoising auto-encoder, contrastive tension, adaptive
layers) and GIST (it runs a guide model) cannot train this way, and say so.

Runs that share one frozen transformer (the explorer's seeds, a modifier and its control: copies of
one model whose transformer is the same object) also share its pooled outputs: each distinct text is
encoded once per transformer, for as long as its weights are unchanged (``_pooled_memo``).
"""

from __future__ import annotations

import weakref

import torch
from torch import Tensor, nn

from lossbook.batching import TokenizedColumns, padded_features
from lossbook.losses.base import embedding_path_of
from lossbook.model import mean_pool

__all__ = ["FrozenEncoderCache", "refuse_unsupported", "supports_frozen_encoder"]

MEMO_SEQUENCES = 100_000  # pooled outputs kept per transformer (384 floats each: about 150 MB at most)
# transformer -> (the stamp of its weights, {token ids: pooled output}); an entry goes when its transformer does.
_MEMOS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _weights_stamp(transformer: nn.Module) -> tuple:
    """Changes whenever a weight does: an optimiser step or any in-place write bumps a tensor's version counter."""
    return tuple((p.data_ptr(), p._version, p.dtype, p.device) for p in transformer.parameters())


def _pooled_memo(transformer: nn.Module) -> dict[tuple[int, ...], Tensor]:
    """The pooled outputs this transformer, with its weights as they are now, has already computed."""
    stamp = _weights_stamp(transformer)
    held = _MEMOS.get(transformer)
    if held is None or held[0] != stamp or len(held[1]) > MEMO_SEQUENCES:
        held = (stamp, {})
        _MEMOS[transformer] = held
    return held[1]


def supports_frozen_encoder(loss: nn.Module) -> bool:
    """True when all the loss needs is sentence embeddings (its ``embedding_path`` says so)."""
    return embedding_path_of(loss).trains_on_cached_embeddings


def refuse_unsupported(loss: nn.Module) -> None:
    """A ValueError naming the loss when it cannot train on cached embeddings (``supports_frozen_encoder``)."""
    if not supports_frozen_encoder(loss):
        raise ValueError(
            f"{type(loss).__name__} cannot train with freeze_encoder=True: it needs token ids, model layers or a "
            "guide model, not just sentence embeddings. Train it with freeze_encoder=False."
        )


class FrozenEncoderCache:
    """Pooled transformer outputs of every distinct text, and the loss computed through the head."""

    def __init__(self, model: nn.Module, loss: nn.Module, pooled: Tensor, index: list[Tensor], trainable=None) -> None:
        self.model, self.inner_loss, self.pooled, self.index = model, loss, pooled, index
        # Each transformer weight with the flag it had before the run (a LoRA model's own weights stay frozen).
        self.trainable = trainable if trainable is not None else [(p, True) for p in model.transformer.parameters()]

    @classmethod
    @torch.no_grad()
    def build(
        cls,
        model: nn.Module,
        loss: nn.Module,
        tokens: TokenizedColumns,
        pad_id: int,
        device: torch.device,
        batch_size: int = 64,
    ) -> FrozenEncoderCache:
        refuse_unsupported(loss)
        if getattr(model, "head", None) is None:
            model.add_head()
        trainable = [(parameter, parameter.requires_grad) for parameter in model.transformer.parameters()]
        for parameter, _ in trainable:
            parameter.requires_grad_(False)
        try:
            cache = cls._fill(model, loss, tokens, pad_id, device, batch_size)
        except BaseException:  # an interrupt or an error while filling: leave the transformer as it was
            for parameter, flag in trainable:
                parameter.requires_grad_(flag)
            raise
        cache.trainable = trainable
        return cache

    @classmethod
    def _fill(
        cls,
        model: nn.Module,
        loss: nn.Module,
        tokens: TokenizedColumns,
        pad_id: int,
        device: torch.device,
        batch_size: int,
    ) -> FrozenEncoderCache:
        distinct: dict[tuple[int, ...], int] = {}
        index = []
        for column in tokens.columns:
            index.append(
                torch.tensor([distinct.setdefault(tuple(ids), len(distinct)) for ids in column], device=device)
            )
        sequences = list(distinct)
        memo = _pooled_memo(model.transformer)
        missing = [sequence for sequence in sequences if sequence not in memo]
        order = sorted(missing, key=len)
        was_training = model.training
        model.eval()
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            features = padded_features([list(sequence) for sequence in chunk], pad_id, device)
            hidden = model.transformer(
                input_ids=features["input_ids"],
                attention_mask=features["attention_mask"],
                token_type_ids=features["token_type_ids"],
            ).last_hidden_state
            for sequence, row in zip(chunk, mean_pool(hidden, features["attention_mask"]).float()):
                memo[sequence] = row
        model.train(was_training)
        hidden_size = model.transformer.config.hidden_size
        pooled = (  # (distinct texts, hidden)
            torch.stack([memo[sequence].to(device) for sequence in sequences])
            if sequences
            else torch.empty(0, hidden_size, device=device)
        )
        return cls(model, loss, pooled, index)

    def loss(self, rows: list[int], labels: Tensor | None) -> Tensor:
        selected = torch.tensor(rows, device=self.pooled.device)
        embeddings = [self.model.finish(self.pooled[column[selected]]) for column in self.index]
        return self.inner_loss.compute_loss_from_embeddings(embeddings, labels)

    def release(self) -> None:
        """Give the transformer's weights back the trainable flags they had before the run (the head stays)."""
        for parameter, flag in self.trainable:
            parameter.requires_grad_(flag)
