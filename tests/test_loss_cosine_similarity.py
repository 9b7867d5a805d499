"""CosineSimilarityLoss: a hand-computed loop on 2-D points, parity with sentence-transformers, bad input."""

import math

import pytest
import torch
from batches import STS_A, STS_B, STS_SCORES, assert_parity, make_features

from lossbook.losses import CosineSimilarityLoss, LossInputError
from lossbook.teaching import unit


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_matches_explicit_loop_on_points_at_known_angles(dtype):
    angles_a, angles_b, scores = [0, 90, 30], [60, 90, 210], [0.5, 1.0, 0.2]
    a = torch.tensor([unit(t) for t in angles_a], dtype=dtype)
    b = torch.tensor([unit(t) for t in angles_b], dtype=dtype)
    expected = sum((s - math.cos(math.radians(tb - ta))) ** 2 for ta, tb, s in zip(angles_a, angles_b, scores)) / 3
    value = CosineSimilarityLoss(model=None).compute_loss_from_embeddings([a, b], torch.tensor(scores))
    assert value.dtype == dtype
    assert value.item() == pytest.approx(expected, abs=1e-6)


def test_bad_input_names_the_format():
    loss = CosineSimilarityLoss(model=None)
    x = torch.randn(3, 4)
    with pytest.raises(LossInputError, match="pairs.*float similarity score"):
        loss.compute_loss_from_embeddings([x], torch.ones(3))
    with pytest.raises(LossInputError, match="needs labels"):
        loss.compute_loss_from_embeddings([x, x], None)
    with pytest.raises(LossInputError, match="expects 3 scores"):
        loss.compute_loss_from_embeddings([x, x], torch.ones(2))


def test_trains_the_tiny_model(tiny):
    loss = CosineSimilarityLoss(tiny)
    value = loss(make_features(tiny, STS_A, STS_B), torch.tensor(STS_SCORES))
    value.backward()
    assert torch.isfinite(value)
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in tiny.parameters())


@pytest.mark.slow
def test_parity_with_sentence_transformers(minilm, st_model):
    from sentence_transformers.sentence_transformer import losses as st_losses

    ours = assert_parity(
        CosineSimilarityLoss(minilm),
        st_losses.CosineSimilarityLoss(st_model),
        minilm,
        st_model,
        [STS_A, STS_B],
        torch.tensor(STS_SCORES),
        expected=0.02050290,  # REFERENCE-LOSSES.md §6
    )
    # Negative control: other scores give another value, so the comparison above is not vacuous.
    other = CosineSimilarityLoss(minilm)(make_features(minilm, STS_A, STS_B), torch.tensor(STS_SCORES[::-1]))
    assert abs(other.item() - ours) > 1e-3
