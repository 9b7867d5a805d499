"""Contrastive Tension losses: explicit loops, label derivation, parity with sentence-transformers, bad input."""

import math

import pytest
import torch
from batches import ANCHORS, NEGATIVES_1, POSITIVES, assert_parity, encoder_gradients, make_features

from lossbook.losses.base import LossInputError
from lossbook.losses.unsupervised import (
    ContrastiveTensionLoss,
    ContrastiveTensionLossInBatchNegatives,
    identical_rows,
)
from lossbook.teaching import unit

CT_B = [ANCHORS[0], POSITIVES[1], ANCHORS[2], NEGATIVES_1[3]]  # rows 0 and 2 repeat the anchor: labels 1, 0, 1, 0

FIRST = [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.0, 2.0, -1.0]]
SECOND = [[2.0, 1.0, 0.0], [-1.0, 0.5, 0.5], [0.0, 0.3, 0.3]]


def dot(u, v):
    return sum(a * b for a, b in zip(u, v))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_ct_matches_explicit_loop(dtype):
    labels = [1, 0, 1]
    expected = sum(math.log(1 + math.exp(dot(a, b))) - y * dot(a, b) for a, b, y in zip(FIRST, SECOND, labels))
    loss = ContrastiveTensionLoss(torch.nn.Linear(1, 1))  # any module: the maths never calls it
    embeddings = [torch.tensor(FIRST, dtype=dtype), torch.tensor(SECOND, dtype=dtype)]
    value = loss.compute_loss_from_embeddings(embeddings, torch.tensor(labels))
    assert value.dtype == dtype and value.item() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_ct_in_batch_matches_explicit_loop(dtype):
    a_angles, b_angles, scale = [0, 80, 200], [10, 100, 170], 20.0
    sim = [[scale * math.cos(math.radians(b - a)) for b in b_angles] for a in a_angles]
    rows = sum(math.log(sum(math.exp(s) for s in sim[i])) - sim[i][i] for i in range(3)) / 3
    cols = sum(math.log(sum(math.exp(sim[j][i]) for j in range(3))) - sim[i][i] for i in range(3)) / 3
    loss = ContrastiveTensionLossInBatchNegatives(torch.nn.Linear(1, 1), scale=scale)
    embeddings = [
        torch.tensor([unit(a) for a in a_angles], dtype=dtype),
        torch.tensor([unit(b) for b in b_angles], dtype=dtype),
    ]
    value = loss.compute_loss_from_embeddings(embeddings)
    assert value.dtype == dtype and value.item() == pytest.approx((rows + cols) / 2, abs=1e-5)


def test_identical_rows_ignore_padding():
    first = {
        "input_ids": torch.tensor([[5, 6, 0, 0], [5, 7, 8, 0]]),
        "attention_mask": torch.tensor([[1, 1, 0, 0], [1, 1, 1, 0]]),
    }
    second = {"input_ids": torch.tensor([[5, 6], [5, 7]]), "attention_mask": torch.tensor([[1, 1], [1, 1]])}
    assert identical_rows(first, second).tolist() == [1.0, 0.0]


def test_ct_derives_labels_from_the_texts(tiny):
    loss = ContrastiveTensionLoss(tiny)
    derived = loss(make_features(tiny, ANCHORS, CT_B))
    given = loss(make_features(tiny, ANCHORS, CT_B), torch.tensor([1, 0, 1, 0]))
    assert derived.item() == pytest.approx(given.item(), abs=1e-6)


def test_ct_bad_input(tiny):
    loss = ContrastiveTensionLoss(tiny)
    x = torch.randn(4, 3)
    with pytest.raises(LossInputError, match="expects 2 input columns.*sentences_to_anchor_pairs"):
        loss(make_features(tiny, ANCHORS))
    with pytest.raises(LossInputError, match=r"1 \(identical texts\) or 0"):
        loss.compute_loss_from_embeddings([x, x], torch.tensor([0, 1, 2, 1]))
    with pytest.raises(LossInputError, match="got 3 labels for 4 pairs"):
        loss.compute_loss_from_embeddings([x, x], torch.tensor([0, 1, 1]))
    with pytest.raises(LossInputError, match="needs 0/1 labels"):
        loss.compute_loss_from_embeddings([x, x], None)


def test_ct_in_batch_bad_input(tiny):
    loss = ContrastiveTensionLossInBatchNegatives(tiny)
    with pytest.raises(LossInputError, match="expects 1 input column.*ContrastiveTensionLoss"):
        loss(make_features(tiny, ANCHORS, ANCHORS))
    with pytest.raises(LossInputError, match="at least 2 rows"):
        loss(make_features(tiny, ANCHORS[:1]))


def test_both_train_the_model_and_its_copy(tiny):
    for loss, columns in (
        (ContrastiveTensionLoss(tiny), [ANCHORS, CT_B]),
        (ContrastiveTensionLossInBatchNegatives(tiny), [ANCHORS + POSITIVES]),
    ):
        tiny.zero_grad()
        value = loss(make_features(tiny, *columns))
        value.backward()
        assert torch.isfinite(value)
        assert loss.model1 is not tiny and loss.model2 is tiny
        assert tiny.transformer.embeddings.word_embeddings.weight.grad.abs().sum() > 0
        assert loss.model1.transformer.embeddings.word_embeddings.weight.grad.abs().sum() > 0
    # The copy and the learnable scale are parameters of the loss, so an optimizer over the loss trains them.
    names = {name for name, _ in loss.named_parameters()}
    assert "logit_scale" in names and any(name.startswith("model1.") for name in names)


def assert_copies_have_equal_gradients(ours, reference):
    our_grads, reference_grads = encoder_gradients(ours.model1), encoder_gradients(reference.model1)
    assert our_grads.keys() == reference_grads.keys() and our_grads
    worst = max((our_grads[k] - reference_grads[k]).abs().max().item() for k in our_grads)
    assert worst <= 1e-4, worst


@pytest.mark.slow
def test_ct_parity_with_sentence_transformers(minilm, st_model):
    from sentence_transformers.sentence_transformer import losses as st_losses

    ours, reference = ContrastiveTensionLoss(minilm), st_losses.ContrastiveTensionLoss(st_model)
    value = assert_parity(ours, reference, minilm, st_model, [ANCHORS, CT_B], expected=2.69074202)
    assert_copies_have_equal_gradients(ours, reference)
    assert ours.citation == reference.citation and ours.get_config_dict() == reference.get_config_dict()
    # Negative control: the opposite labels give another value.
    other = ours(make_features(minilm, ANCHORS, CT_B), torch.tensor([0, 1, 0, 1]))
    assert abs(other.item() - value) > 1e-2


@pytest.mark.slow
def test_ct_in_batch_parity_with_sentence_transformers(minilm, st_model):
    from sentence_transformers.sentence_transformer import losses as st_losses

    ours = ContrastiveTensionLossInBatchNegatives(minilm)
    reference = st_losses.ContrastiveTensionLossInBatchNegatives(st_model)
    value = assert_parity(ours, reference, minilm, st_model, [ANCHORS + POSITIVES], expected=0.01028647)
    assert_copies_have_equal_gradients(ours, reference)
    assert abs(ours.logit_scale.grad.item() - reference.logit_scale.grad.item()) <= 1e-5
    assert ours.citation == reference.citation and ours.get_config_dict() == reference.get_config_dict()
    # Negative control: other texts give another value.
    other = ours(make_features(minilm, ANCHORS + NEGATIVES_1))
    assert abs(other.item() - value) > 1e-4


@pytest.mark.slow
def test_runs_on_a_sentence_transformer(st_model):
    from sentence_transformers.sentence_transformer import losses as st_losses

    ours = ContrastiveTensionLoss(st_model)(make_features(st_model, ANCHORS, CT_B))
    reference = st_losses.ContrastiveTensionLoss(st_model)(make_features(st_model, ANCHORS, CT_B), None)
    assert ours.item() == pytest.approx(reference.item(), abs=1e-5)
