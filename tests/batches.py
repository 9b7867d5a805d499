"""Reference batches (from ../shared/design/REFERENCE-LOSSES.md §6) and a feature builder for tests.

Import with ``from batches import ...`` (pytest puts tests/ on sys.path).
"""

from __future__ import annotations

import torch

# The reference batch of ../shared/design/REFERENCE-LOSSES.md §6 (short sentences with known relations).
ANCHORS = [
    "A man is playing a guitar.",
    "A man is playing a violin.",
    "A woman is slicing an onion.",
    "A woman is cutting a tomato.",
]
POSITIVES = [
    "Someone strums an acoustic guitar on stage.",
    "A musician performs on a fiddle.",
    "An onion is being chopped by a lady.",
    "A tomato is sliced with a knife.",
]
NEGATIVES_1 = [
    "A man is playing a piano.",
    "A man is playing a cello.",
    "A woman is peeling a potato.",
    "A woman is cutting a cucumber.",
]
NEGATIVES_2 = [
    "A boy is playing a flute.",
    "A girl is singing a song.",
    "A chef is frying an egg.",
    "A man is slicing bread.",
]
STS_A = [
    "A plane is taking off.",
    "A man is playing a flute.",
    "A man is spreading cheese on a pizza.",
    "Three men are playing chess.",
    "A man is playing the cello.",
    "Some men are fighting.",
]
STS_B = [
    "An air plane is taking off.",
    "A man is playing a bamboo flute.",
    "A man is spreading shredded cheese on an uncooked pizza.",
    "Two men are playing chess.",
    "A man seated is playing the cello.",
    "Two men are fighting.",
]
STS_SCORES = [1.0, 0.76, 0.76, 0.52, 0.85, 0.85]


def make_features(model, *columns):
    """Fresh tokenized feature dicts, one per column (a forward pass writes into them)."""
    if hasattr(model, "preprocess"):  # sentence-transformers
        return [model.preprocess(list(column)) for column in columns]
    return [model.tokenize(list(column)) for column in columns]


def encoder_gradients(model) -> dict[str, torch.Tensor]:
    """The transformer's parameter gradients keyed by a name both implementations share.

    lossbook names them ``transformer.X``; sentence-transformers ``0.model.X`` (or ``0.auto_model.X``).
    """
    grads = {}
    for name, parameter in model.named_parameters():
        for prefix in ("transformer.", "0.model.", "0.auto_model."):
            if name.startswith(prefix) and parameter.grad is not None:
                grads[name[len(prefix) :]] = parameter.grad.detach().clone()
    return grads


def assert_parity(
    ours,
    reference,
    our_model,
    reference_model,
    columns,
    labels=None,
    *,
    expected=None,
    value_atol=1e-5,
    grad_atol=1e-4,
    backward=True,
):
    """Same batch through our loss and the reference: values within ``value_atol``, encoder grads within ``grad_atol``.

    ``ours`` / ``reference`` are loss modules already built on ``our_model`` / ``reference_model``.
    ``labels`` may be a callable(model) for labels that depend on the model (teacher embeddings).
    Returns our value. Both models must be in eval mode (no dropout) for the gradients to match.
    """

    our_model.zero_grad(set_to_none=True)
    reference_model.zero_grad(set_to_none=True)
    our_labels = labels(our_model) if callable(labels) else labels
    reference_labels = labels(reference_model) if callable(labels) else labels
    our_value = ours(make_features(our_model, *columns), our_labels)
    reference_value = reference(make_features(reference_model, *columns), reference_labels)
    if isinstance(our_value, dict):
        our_value = sum(our_value.values())
    if isinstance(reference_value, dict):
        reference_value = sum(reference_value.values())
    assert abs(our_value.item() - reference_value.item()) <= value_atol, (our_value.item(), reference_value.item())
    if expected is not None:
        assert abs(our_value.item() - expected) <= max(value_atol, 1e-5), (our_value.item(), expected)
    if backward:
        our_value.backward()
        reference_value.backward()
        our_grads, reference_grads = encoder_gradients(our_model), encoder_gradients(reference_model)
        assert our_grads.keys() == reference_grads.keys() and our_grads, "no comparable encoder gradients"
        worst = max((our_grads[k] - reference_grads[k]).abs().max().item() for k in our_grads)
        assert worst <= grad_atol, f"largest encoder gradient difference {worst:.2e} > {grad_atol}"
        our_model.zero_grad(set_to_none=True)
        reference_model.zero_grad(set_to_none=True)
    return our_value.item()
