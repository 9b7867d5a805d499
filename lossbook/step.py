"""The loss of one training step: the one place that decides how ``train()`` runs a loss.

The decision reads one thing, the loss's declared ``embedding_path`` (``lossbook.losses.base``):

* ``GIVEN`` (plain losses, and modifiers around them): every text of the step is embedded here, in
  length-sorted chunks (``lossbook.batching``), and the loss computes from the embeddings;
* anything else (a gradient cache, a guide model, token ids or layers): the loss's own ``forward``
  gets the padded columns and embeds them itself.

With ``freeze_encoder=True`` the embeddings come from the frozen-encoder cache instead, which
``train()`` builds only for losses whose path allows it (``lossbook.frozen``).

    MultipleNegativesRankingLoss                 GIVEN           -> sorted chunks, compute_loss_from_embeddings
    CachedMultipleNegativesRankingLoss           GRADIENT_CACHE  -> loss.forward (mini-batches, replayed backward)
    MatryoshkaLoss(model, CoSENTLoss(model), ..) GIVEN (inner's) -> sorted chunks, compute_loss_from_embeddings
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lossbook.batching import TokenizedColumns, embed_columns_sorted
from lossbook.losses.base import EmbeddingPath, embedding_path_of

__all__ = ["calls_the_model_it_is_given", "step_loss"]


def step_loss(
    model: nn.Module,
    loss: nn.Module,
    tokens: TokenizedColumns,
    rows: list[int],
    labels: Tensor | None,
    pad_id: int,
    target: torch.device,
    *,
    frozen=None,
) -> Tensor:
    """The loss of the batch ``rows``, run the way the loss declares (``frozen``: a ``FrozenEncoderCache``)."""
    if frozen is not None:
        value = frozen.loss(rows, labels)
    elif embedding_path_of(loss).embeds_any_way:
        embeddings = embed_columns_sorted(model, tokens.ids(rows), pad_id, target)
        value = loss.compute_loss_from_embeddings(embeddings, labels)
    else:
        value = loss(tokens.features(rows, pad_id, target), labels)
    # Losses made of named parts (GlobalOrthogonalRegularizationLoss) train on their sum.
    return torch.stack(list(value.values())).sum() if isinstance(value, dict) else value


def calls_the_model_it_is_given(loss: nn.Module, *, frozen=None) -> bool:
    """Whether a step runs the model's forward through the model object it is handed (and ``loss.model``).

    Then a wrapper around the model (DistributedDataParallel) sees every forward pass. Not with the
    frozen-encoder cache (no forward at all), nor with a loss that embeds its own way (``OWN_FORWARD``:
    AdaptiveLayerLoss reads the layers of the unwrapped model, a custom loss may do anything).
    """
    return frozen is None and embedding_path_of(loss) is not EmbeddingPath.OWN_FORWARD
