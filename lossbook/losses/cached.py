"""GradCache: in-batch losses over batches far larger than the memory for one forward pass.

An in-batch loss (MultipleNegativesRankingLoss and friends) compares every row with every other
row, so its batch cannot be split into independent pieces the way gradient accumulation splits a
batch. GradCache (Gao et al., 2021, arXiv 2101.06983) splits the *encoder* work instead:

1. **Embed without a graph.** Each column is embedded in mini-batches of ``mini_batch_size`` rows
   (or, with ``mini_batch_num_tokens``, greedily packed so that a mini-batch holds at most that
   many real tokens) under ``torch.no_grad``. The rows are taken in order of length, so that a
   mini-batch holds texts of similar length and computes little padding, and the vectors are put
   back in row order (each text is encoded on its own, so this changes no value). Before each
   mini-batch the random-number state is recorded, so the dropout masks of this pass can be drawn
   again later.
2. **Loss on cached embeddings.** The embeddings become detached leaf tensors; the loss is computed
   on them and back-propagated up to them only. Their ``.grad`` is the cache: ``dL/d embedding``.
3. **Replay on backward.** The returned loss carries a backward function. When ``loss.backward()``
   reaches it with ``grad_output``, every mini-batch is embedded again *with* a graph, under the
   recorded random state, and the surrogate ``dot(embeddings, cached_grad) * grad_output`` is
   back-propagated into the encoder. Its gradient with respect to the encoder is exactly the
   chain rule ``dL/d embedding * d embedding/d theta``; only one mini-batch graph is alive at a time.

Under ``torch.no_grad`` (evaluation) step 1 is followed by the loss and nothing else. The value and
the encoder gradients equal those of the uncached loss (up to float rounding): ``mini_batch_size``
changes the memory and the speed, never the result.

The protocol that loss modifiers rely on
----------------------------------------
``CachedEmbeddingLoss.forward(sentence_features, labels, loss_on_embeddings=None)``: when
``loss_on_embeddings`` is given, step 2 computes ``loss_on_embeddings(embeddings, labels)`` instead
of ``self.compute_loss_from_embeddings(embeddings, labels)``. ``embeddings`` is the list of
``(batch, dim)`` tensors, one per column, as ``compute_loss_from_embeddings`` receives them. A
modifier (MatryoshkaLoss, AdaptiveLayerLoss) can thus replace the embedding-level maths, e.g. sum
the inner loss over truncated prefixes, while the cached loss still does the mini-batched embedding
and the replayed backward::

    def matryoshka_maths(embeddings, labels):
        return sum(w * inner.compute_loss_from_embeddings([F.normalize(e[:, :d], dim=-1) for e in embeddings], labels)
                   for d, w in zip(dims, weights))

    value = inner(features, labels, loss_on_embeddings=matryoshka_maths)

Their ``embedding_path`` is ``EmbeddingPath.GRADIENT_CACHE`` (per instance for ``MegaBatchMarginLoss``).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from typing import Any, ClassVar

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from lossbook.losses.base import EmbeddingLoss, EmbeddingPath, LossInputError, UnsupportedModelError

__all__ = [
    "CachedEmbeddingLoss",
    "RandomStateSnapshot",
    "has_static_embedding_input",
    "minibatch_ranges",
    "slice_features",
]

LossOnEmbeddings = Callable[[list[Tensor], "Tensor | None"], Tensor]


class RandomStateSnapshot:
    """The CPU and CUDA random-number state at creation; ``with snapshot:`` draws from it again.

    Inside the block the generators start from the recorded state; on exit they are put back to
    where they were, so a replay does not disturb the randomness of the rest of training.
    """

    def __init__(self, cuda_devices: list[int]) -> None:
        self.cpu_state = torch.get_rng_state()
        self.cuda_devices = list(cuda_devices)
        self.cuda_states = [torch.cuda.get_rng_state(device) for device in self.cuda_devices]
        self._fork = None

    def __enter__(self) -> None:
        self._fork = torch.random.fork_rng(devices=self.cuda_devices)
        self._fork.__enter__()
        torch.set_rng_state(self.cpu_state)
        for device, state in zip(self.cuda_devices, self.cuda_states):
            torch.cuda.set_rng_state(state, device)

    def __exit__(self, *exc_info: Any) -> None:
        self._fork.__exit__(*exc_info)
        self._fork = None


def _cuda_devices(model: nn.Module, features: Iterable[dict[str, Any]]) -> list[int]:
    """The CUDA devices whose generators a forward pass may draw from: the model's and the inputs'."""
    devices = set()
    parameter = next(model.parameters(), None) if isinstance(model, nn.Module) else None
    if parameter is not None and parameter.device.type == "cuda":
        devices.add(parameter.device.index if parameter.device.index is not None else torch.cuda.current_device())
    for feature in features:
        for value in feature.values():
            if isinstance(value, Tensor) and value.device.type == "cuda":
                devices.add(value.device.index)
    return sorted(devices)


def batch_size_of(features: dict[str, Any]) -> int:
    for key in ("input_ids", "attention_mask"):
        value = features.get(key)
        if isinstance(value, Tensor) and value.dim() > 0:
            return int(value.shape[0])
    for value in features.values():
        if isinstance(value, Tensor) and value.dim() > 0:
            return int(value.shape[0])
    raise LossInputError(f"Cannot tell the batch size of tokenized features with keys {sorted(features)}.")


def minibatch_ranges(
    features: dict[str, Any], mini_batch_size: int, mini_batch_num_tokens: int | None = None
) -> list[tuple[int, int]]:
    """``(begin, end)`` row ranges that split one column into mini-batches.

    Fixed ``mini_batch_size`` rows each, or, with ``mini_batch_num_tokens``, as many consecutive rows
    as fit in that many real (unpadded) tokens; a row longer than the budget gets a mini-batch alone.
    """
    batch_size = batch_size_of(features)
    if mini_batch_num_tokens is None:
        return [(begin, min(begin + mini_batch_size, batch_size)) for begin in range(0, batch_size, mini_batch_size)]
    mask = features.get("attention_mask")
    if not isinstance(mask, Tensor):
        raise LossInputError("mini_batch_num_tokens needs an 'attention_mask' to count tokens; use mini_batch_size.")
    cumulative = mask.sum(dim=1).cumsum(dim=0).tolist()
    ranges, begin = [], 0
    while begin < batch_size:
        used = cumulative[begin - 1] if begin else 0
        end = max(bisect.bisect_right(cumulative, used + mini_batch_num_tokens), begin + 1)
        ranges.append((begin, end))
        begin = end
    return ranges


def slice_features(features: dict[str, Any], begin: int, end: int) -> dict[str, Any]:
    """Rows ``begin:end`` of a tokenized column, without the padding columns no row of them needs.

    Trimming trailing padding lets a mini-batch of short texts run at its own width (it does not
    change the embeddings: padding is masked). Leading padding is kept so positions stay the same.
    """
    batch_size = batch_size_of(features)
    mask = features.get("attention_mask")
    width, keep = None, None
    if isinstance(mask, Tensor) and mask.dim() == 2:
        width = mask.shape[1]
        active = mask[begin:end].bool().any(dim=0)
        if active.any():
            keep = int(active.nonzero().max().item()) + 1
    sliced = {}
    for key, value in features.items():
        if not isinstance(value, Tensor) or value.dim() == 0 or value.shape[0] != batch_size:
            sliced[key] = value
        elif keep is not None and keep < width and value.dim() >= 2 and value.shape[1] == width:
            sliced[key] = value[begin:end, :keep]
        else:
            sliced[key] = value[begin:end]
    return sliced


def length_order(features: dict[str, Any]) -> Tensor | None:
    """The rows of a tokenized column from shortest to longest (stable), or None when already in that order."""
    mask = features.get("attention_mask")
    if not isinstance(mask, Tensor) or mask.dim() != 2:
        return None
    lengths = mask.sum(dim=1)
    if bool((lengths[1:] >= lengths[:-1]).all()):
        return None
    return torch.sort(lengths, stable=True).indices


def take_rows(features: dict[str, Any], order: Tensor | None) -> dict[str, Any]:
    """The rows of a tokenized column in the given order (entries without a batch dimension unchanged)."""
    if order is None:
        return features
    batch_size = batch_size_of(features)
    return {
        key: value[order.to(value.device)]
        if isinstance(value, Tensor) and value.dim() > 0 and value.shape[0] == batch_size
        else value
        for key, value in features.items()
    }


def rows_back(values: Tensor, order: Tensor | None) -> Tensor:
    """Undo ``take_rows`` on per-row results: row ``order[i]`` of the original is ``values[i]``."""
    if order is None:
        return values
    order = order.to(values.device)
    inverse = torch.empty_like(order)
    inverse[order] = torch.arange(len(order), device=order.device)
    return values[inverse]


class _ReplayOnBackward(torch.autograd.Function):
    """Identity on the loss value whose backward runs GradCache step 3 with the incoming gradient."""

    @staticmethod
    def forward(ctx, trigger: Tensor, value: Tensor, replay: Callable[[Tensor], None]) -> Tensor:
        ctx.replay = replay
        return value.clone()

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        ctx.replay(grad_output)
        return None, None, None


class CachedEmbeddingLoss(EmbeddingLoss):
    """Base class of the GradCache losses (see the module docstring for the three steps).

    Subclasses write ``compute_loss_from_embeddings`` like any loss; they may override ``backward_on_embeddings`` to
    back-propagate the loss in row chunks (so the full score matrix is never built). The number of
    columns is checked (``check_columns``) before anything is embedded.

    Args:
        model: the embedding model (lossbook ``EmbeddingModel`` or a ``SentenceTransformer``).
        mini_batch_size: rows per forward pass (and per loss chunk). Sets memory, not the result.
        mini_batch_num_tokens: if set, pack mini-batches by this many real tokens instead.
        show_progress_bar: show a bar over the mini-batches.
    """

    embedding_path: ClassVar[EmbeddingPath] = EmbeddingPath.GRADIENT_CACHE
    # Tests switch this off to show that without the replayed random state, dropout breaks the gradients.
    _replay_random_state: ClassVar[bool] = True

    #: What to use instead with a model whose inputs cannot be cut into mini-batches (a StaticEmbedding).
    uncached_alternative: ClassVar[str] = "the uncached version of this loss"

    def __init__(
        self,
        model: nn.Module,
        mini_batch_size: int = 32,
        mini_batch_num_tokens: int | None = None,
        show_progress_bar: bool = False,
        *,
        mini_batched: bool = True,
    ) -> None:
        super().__init__(model)
        if mini_batched and has_static_embedding_input(model):
            # As sentence-transformers: refused at construction, not at the first step.
            raise UnsupportedModelError(
                f"{type(self).__name__} is not compatible with a SentenceTransformer model based on a StaticEmbedding "
                "(directly or behind a Router): its inputs are flattened (input_ids + offsets) and cannot be cut into "
                f"mini-batches along a batch dimension. Use {self.uncached_alternative} instead."
            )
        if isinstance(mini_batch_size, bool) or not isinstance(mini_batch_size, int) or mini_batch_size < 1:
            raise ValueError(f"mini_batch_size must be a positive int, got {mini_batch_size!r}.")
        if mini_batch_num_tokens is not None and (
            isinstance(mini_batch_num_tokens, bool)
            or not isinstance(mini_batch_num_tokens, int)
            or mini_batch_num_tokens < 1
        ):
            raise ValueError(f"mini_batch_num_tokens must be a positive int or None, got {mini_batch_num_tokens!r}.")
        self.mini_batch_size = mini_batch_size
        self.mini_batch_num_tokens = mini_batch_num_tokens
        self.show_progress_bar = show_progress_bar

    # -- hooks for subclasses ------------------------------------------------------------------------
    def backward_on_embeddings(self, embeddings: list[Tensor], labels: Tensor | None) -> Tensor:
        """Compute the loss on leaf ``embeddings``, back-propagate into their ``.grad``, return the value."""
        return _value_and_backward(self.compute_loss_from_embeddings, embeddings, labels)

    # -- the three steps -----------------------------------------------------------------------------
    def embed_minibatch(
        self,
        *,
        sentence_feature: dict[str, Any],
        begin: int,
        end: int,
        with_grad: bool = False,
        copy_random_state: bool = False,
        random_state: RandomStateSnapshot | None = None,
        **_,
    ) -> Tensor:
        """Rows ``begin:end`` of one column through the model: their ``(rows, dim)`` sentence embeddings.

        Keyword-only, with sentence-transformers' names, so an override written for either library works
        in both. Deliberate difference: the caller already holds the grad mode (``torch.no_grad`` in step 1,
        enabled in the replay) and records and replays the random state itself, so ``with_grad``,
        ``copy_random_state`` and ``random_state`` are information only and nothing but the embeddings is
        returned. An override may return the reference's tuple ``(embeddings, random_state, ...)``: its
        first item is used.
        """
        return self.model(slice_features(sentence_feature, begin, end))["sentence_embedding"]

    def _embed_rows(self, features: dict[str, Any], begin: int, end: int, *, with_grad: bool) -> Tensor:
        result = self.embed_minibatch(
            sentence_feature=features,
            begin=begin,
            end=end,
            with_grad=with_grad,
            copy_random_state=False,
            random_state=None,
        )
        return result[0] if isinstance(result, tuple) else result

    def put_rows_back(self, orders: list[Tensor | None]) -> None:
        """Put any other per-row result of ``embed_without_grad`` back in row order (see CachedGISTEmbedLoss)."""

    def embed_without_grad(
        self, sentence_features: list[dict[str, Any]], ranges: list[list[tuple[int, int]]], record_random_state: bool
    ) -> tuple[list[Tensor], list[list[RandomStateSnapshot | None]]]:
        """Step 1: every column's embeddings, mini-batch by mini-batch, and the random state before each."""
        cuda_devices = _cuda_devices(self.model, sentence_features) if record_random_state else []
        embeddings, random_states = [], []
        for features, column_ranges in zip(sentence_features, ranges):
            pieces, states = [], []
            for begin, end in tqdm(
                column_ranges, desc="Embed mini-batches", disable=not self.show_progress_bar, leave=False
            ):
                states.append(RandomStateSnapshot(cuda_devices) if record_random_state else None)
                with torch.no_grad():
                    pieces.append(self._embed_rows(features, begin, end, with_grad=False))
            embeddings.append(torch.cat(pieces))
            random_states.append(states)
        return embeddings, random_states

    def forward(
        self,
        sentence_features: Iterable[dict[str, Tensor]],
        labels: Tensor | None = None,
        loss_on_embeddings: LossOnEmbeddings | None = None,
    ) -> Tensor:
        sentence_features = list(sentence_features)
        self.check_columns(sentence_features)  # before spending forward passes on a batch of the wrong shape
        _check_splittable(self, sentence_features)
        # Texts of similar length share a mini-batch: on a CPU padding is wasted compute (the vectors
        # go back to row order below). Copies, so step 3 sees exactly the rows step 1 saw.
        orders = [length_order(f) for f in sentence_features]
        sentence_features = [take_rows(f, order) for f, order in zip(sentence_features, orders)]
        # Fixed before any forward pass: a module may edit the features in place, and the replay
        # must cut exactly the mini-batches that step 1 cut.
        ranges = [minibatch_ranges(f, self.mini_batch_size, self.mini_batch_num_tokens) for f in sentence_features]
        grad_enabled = torch.is_grad_enabled()
        embeddings, random_states = self.embed_without_grad(sentence_features, ranges, record_random_state=grad_enabled)
        embeddings = [rows_back(e, order) for e, order in zip(embeddings, orders)]
        self.put_rows_back(orders)
        if not grad_enabled:
            maths = loss_on_embeddings or self.compute_loss_from_embeddings
            return maths(embeddings, labels)

        leaves = [embedding.detach().requires_grad_() for embedding in embeddings]
        if loss_on_embeddings is None:
            value = self.backward_on_embeddings(leaves, labels)
        else:
            value = _value_and_backward(loss_on_embeddings, leaves, labels)
        cached_grads = [leaf.grad for leaf in leaves]
        unused = [str(index) for index, grad in enumerate(cached_grads) if grad is None]
        if unused:
            raise LossInputError(
                f"{type(self).__name__}: the loss did not use input column(s) {', '.join(unused)}, so they "
                "got no gradient. Remove the unused column(s) from the data set."
            )

        sorted_grads = [
            grad if order is None else grad[order.to(grad.device)] for grad, order in zip(cached_grads, orders)
        ]

        def replay(grad_output: Tensor) -> None:
            self._replay(sentence_features, ranges, random_states, sorted_grads, grad_output)

        # A leaf that requires grad, so that autograd calls the replay when the loss is back-propagated.
        trigger = torch.empty(0, device=value.device, requires_grad=True)
        return _ReplayOnBackward.apply(trigger, value, replay)

    def _replay(
        self,
        sentence_features: list[dict[str, Any]],
        ranges: list[list[tuple[int, int]]],
        random_states: list[list[RandomStateSnapshot | None]],
        cached_grads: list[Tensor],
        grad_output: Tensor,
    ) -> None:
        """Step 3: re-embed each mini-batch with a graph and push its cached gradient into the encoder."""
        with torch.enable_grad():
            for features, column_ranges, states, grad in zip(sentence_features, ranges, random_states, cached_grads):
                for (begin, end), state in zip(column_ranges, states):
                    with state if self._replay_random_state and state is not None else nullcontext():
                        reps = self._embed_rows(features, begin, end, with_grad=True)
                    if not reps.requires_grad:  # a frozen encoder: nothing to train
                        continue
                    # Keep float64 when it is there, but never accumulate the surrogate in half precision.
                    dtype = torch.promote_types(reps.dtype, grad.dtype)
                    if dtype in (torch.float16, torch.bfloat16):
                        dtype = torch.float32
                    surrogate = torch.dot(reps.flatten().to(dtype), grad[begin:end].flatten().to(dtype))
                    (surrogate * grad_output.to(dtype)).backward()


def has_static_embedding_input(model: Any) -> bool:
    """Whether a SentenceTransformer embeds its inputs with a StaticEmbedding, directly or behind a Router.

    As sentence-transformers' ``has_static_embedding_input``; False for lossbook models and anything else
    (sentence-transformers is only imported when the model comes from it).
    """
    model = getattr(model, "_orig_mod", model)
    if not type(model).__module__.startswith("sentence_transformers"):
        return False
    try:
        from sentence_transformers.sentence_transformer.modules import Router, StaticEmbedding
    except ImportError:  # older layouts
        from sentence_transformers.models import Router, StaticEmbedding
    try:
        first = model[0]
    except (TypeError, IndexError, KeyError):
        return False
    inputs = [route[0] for route in first.sub_modules.values()] if isinstance(first, Router) else [first]
    return any(isinstance(module, StaticEmbedding) for module in inputs)


def _value_and_backward(maths: LossOnEmbeddings, embeddings: list[Tensor], labels: Tensor | None) -> Tensor:
    with torch.enable_grad():
        value = maths(embeddings, labels)
        if value.requires_grad:
            value.backward()
    return value.detach()


def _check_splittable(loss: nn.Module, sentence_features: list[dict[str, Any]]) -> None:
    for features in sentence_features:
        ids = features.get("input_ids")
        if "offsets" in features or (isinstance(ids, Tensor) and ids.dim() == 1):
            raise LossInputError(
                f"{type(loss).__name__} splits every column into mini-batches of rows, but these features are "
                "flattened (a StaticEmbedding model's input_ids + offsets). Use the uncached loss instead."
            )
