"""GlobalOrthogonalRegularizationLoss: explicit loops over pairs, parity with sentence-transformers, bad input."""

import math

import pytest
import torch
from batches import ANCHORS, NEGATIVES_1, POSITIVES, assert_parity, make_features

from lossbook.losses.regularization import GlobalOrthogonalRegularizationLoss
from lossbook.teaching import unit


def gor_terms(angles: list[float]) -> tuple[float, float]:
    """(M1², relu(M2 − 1/d)) for 2-D unit vectors at the given angles, over ordered pairs i != j."""
    pairs = [(i, j) for i in range(len(angles)) for j in range(len(angles)) if i != j]
    cosines = [math.cos(math.radians(angles[j] - angles[i])) for i, j in pairs]
    m1 = sum(cosines) / len(pairs)
    m2 = sum(c * c for c in cosines) / len(pairs)
    return m1**2, max(0.0, m2 - 1 / 2)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("aggregation", ["mean", "sum"])
def test_matches_explicit_loop(dtype, aggregation):
    columns = [[0, 10, 20, 200], [0, 90, 180, 45]]
    terms = [gor_terms(c) for c in columns]
    reduce = (lambda xs: sum(xs) / len(xs)) if aggregation == "mean" else sum
    loss = GlobalOrthogonalRegularizationLoss(
        model=None, mean_weight=0.5, second_moment_weight=2.0, aggregation=aggregation
    )
    embeddings = [torch.tensor([unit(a) for a in c], dtype=dtype) for c in columns]
    parts = loss.compute_loss_from_embeddings(embeddings)
    assert set(parts) == {"gor_mean", "gor_second_moment"}
    assert parts["gor_mean"].dtype == dtype
    assert parts["gor_mean"].item() == pytest.approx(0.5 * reduce([t[0] for t in terms]), abs=1e-6)
    assert parts["gor_second_moment"].item() == pytest.approx(2.0 * reduce([t[1] for t in terms]), abs=1e-6)


def test_a_zero_weight_leaves_its_key_out():
    loss = GlobalOrthogonalRegularizationLoss(model=None, mean_weight=0.0)
    assert set(loss.compute_loss_from_embeddings([torch.randn(3, 4)])) == {"gor_second_moment"}


def test_batch_of_one_is_a_differentiable_zero():
    x = torch.randn(1, 4, requires_grad=True)
    parts = GlobalOrthogonalRegularizationLoss(model=None).compute_loss_from_embeddings([x])
    total = sum(parts.values())
    assert total.item() == 0.0 and total.requires_grad
    total.backward()
    assert torch.isfinite(x.grad).all()


def test_bad_input():
    with pytest.raises(ValueError, match="At least one of mean_weight or second_moment_weight"):
        GlobalOrthogonalRegularizationLoss(model=None, mean_weight=0, second_moment_weight=None)
    with pytest.raises(ValueError, match="aggregation must be 'mean' or 'sum'"):
        GlobalOrthogonalRegularizationLoss(model=None, aggregation="max")
    with pytest.raises(ValueError, match="1 or more input column"):
        GlobalOrthogonalRegularizationLoss(model=None).compute_loss_from_embeddings([])


def test_trains_the_tiny_model(tiny):
    parts = GlobalOrthogonalRegularizationLoss(tiny)(make_features(tiny, ANCHORS, POSITIVES))
    total = sum(parts.values())
    total.backward()
    assert torch.isfinite(total)
    assert tiny.transformer.embeddings.word_embeddings.weight.grad.abs().sum() > 0


@pytest.mark.slow
def test_parity_with_sentence_transformers(minilm, st_model):
    from sentence_transformers.sentence_transformer import losses as st_losses

    ours, reference = GlobalOrthogonalRegularizationLoss(minilm), st_losses.GlobalOrthogonalRegularizationLoss(st_model)
    value = assert_parity(ours, reference, minilm, st_model, [ANCHORS, POSITIVES], expected=0.15269491)
    parts = ours(make_features(minilm, ANCHORS, POSITIVES))
    assert parts["gor_mean"].item() == pytest.approx(0.05601045, abs=1e-6)
    assert parts["gor_second_moment"].item() == pytest.approx(0.09668446, abs=1e-6)
    assert ours.get_config_dict() == reference.get_config_dict() and ours.citation == reference.citation
    # Negative control: other texts spread differently.
    other = sum(ours(make_features(minilm, ANCHORS, NEGATIVES_1)).values())
    assert abs(other.item() - value) > 1e-3
