"""CoSENTLoss, AnglELoss (and CosineSimilarityLoss's score checks): explicit loops on 2-D points, parity, bad input."""

import math

import pytest
import torch
from batches import ANCHORS, NEGATIVES_1, POSITIVES, STS_A, STS_B, STS_SCORES, assert_parity, make_features

from lossbook.losses.base import LossInputError
from lossbook.losses.scored_pairs import AnglELoss, CoSENTLoss, CosineSimilarityLoss, cosent, cosent_plain
from lossbook.similarity import pairwise_angle_sim, pairwise_cos_sim, pairwise_dot_score
from lossbook.teaching import unit

DTYPES = [torch.float32, torch.float64]


def points(angles, dtype):
    return torch.tensor([unit(t) for t in angles], dtype=dtype)


def cosent_loop(similarities, labels, scale=20.0):
    """log(1 + sum over (i, j) with y_i < y_j of exp(scale * (s_i - s_j)))."""
    total = 1.0
    for s_i, y_i in zip(similarities, labels):
        for s_j, y_j in zip(similarities, labels):
            if y_i < y_j:
                total += math.exp(scale * (s_i - s_j))
    return math.log(total)


def angle_sim_2d(theta_x, theta_y):
    """|cos + sin| of the 2-D vectors read as complex numbers: |cos(tx - ty) + sin(tx - ty)|."""
    delta = math.radians(theta_x - theta_y)
    return abs(math.cos(delta) + math.sin(delta))


# Angles of the pairs' first and second points, and gold scores with a tie (0.5, 0.5).
ANGLES_A, ANGLES_B, SCORES = [0, 90, 30, 200, 45], [60, 100, 210, 190, 135], [0.5, 0.9, 0.1, 0.5, 0.3]


@pytest.mark.parametrize("dtype", DTYPES)
def test_cosent_matches_explicit_loop(dtype):
    cosines = [math.cos(math.radians(tb - ta)) for ta, tb in zip(ANGLES_A, ANGLES_B)]
    value = CoSENTLoss(model=None).compute_loss_from_embeddings(
        [points(ANGLES_A, dtype), points(ANGLES_B, dtype)], torch.tensor(SCORES)
    )
    assert value.dtype == dtype
    assert value.item() == pytest.approx(cosent_loop(cosines, SCORES), rel=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cosent_with_dot_similarity_and_scale_matches_loop(dtype):
    lengths = [1.0, 0.5, 2.0, 1.5, 0.8]
    a = points(ANGLES_A, dtype) * torch.tensor(lengths, dtype=dtype)[:, None]
    b = points(ANGLES_B, dtype)
    dots = [r * math.cos(math.radians(tb - ta)) for r, ta, tb in zip(lengths, ANGLES_A, ANGLES_B)]
    loss = CoSENTLoss(model=None, scale=3.0, similarity_fct=pairwise_dot_score)
    value = loss.compute_loss_from_embeddings([a, b], torch.tensor(SCORES))
    assert value.item() == pytest.approx(cosent_loop(dots, SCORES, scale=3.0), rel=1e-5)


def test_cosent_ties_add_nothing_and_bool_labels_work():
    a, b = points(ANGLES_A, torch.float64), points(ANGLES_B, torch.float64)
    assert CoSENTLoss(None).compute_loss_from_embeddings([a, b], torch.full((5,), 0.7)).item() == 0.0
    flags = torch.tensor([True, False, True, False, False])
    cosines = [math.cos(math.radians(tb - ta)) for ta, tb in zip(ANGLES_A, ANGLES_B)]
    value = CoSENTLoss(None).compute_loss_from_embeddings([a, b], flags)
    assert value.item() == pytest.approx(cosent_loop(cosines, [int(f) for f in flags]), rel=1e-9)


@pytest.mark.parametrize("seed", range(20))
def test_sorted_cosent_equals_the_plain_formula_with_ties(seed):
    """The O(B log B) suffix-logcumsumexp CoSENT against the B x B sum it replaces, in float64."""
    generator = torch.Generator().manual_seed(seed)
    batch = int(torch.randint(1, 40, (1,), generator=generator))
    scores = torch.randn(batch, generator=generator, dtype=torch.float64) * 20
    # Few distinct labels, so that most batches hold ties (and some hold a single label: the loss is 0).
    labels = torch.randint(0, 1 + seed % 5, (batch,), generator=generator).to(torch.float64) / 4
    scores.requires_grad_(True)
    fast, plain = cosent(scores, labels), cosent_plain(scores, labels)
    torch.testing.assert_close(fast, plain, rtol=1e-12, atol=1e-12)
    (fast_grad,), (plain_grad,) = torch.autograd.grad(fast, scores), torch.autograd.grad(plain, scores)
    torch.testing.assert_close(fast_grad, plain_grad, rtol=1e-10, atol=1e-12)


def test_cosent_half_precision_is_computed_in_float32():
    a, b = points(ANGLES_A, torch.float16), points(ANGLES_B, torch.float16)
    value = CoSENTLoss(None).compute_loss_from_embeddings([a, b], torch.tensor(SCORES))
    assert value.dtype == torch.float32 and torch.isfinite(value)


@pytest.mark.parametrize("dtype", DTYPES)
def test_pairwise_angle_sim_matches_loop_and_is_not_symmetric(dtype):
    x, y = points(ANGLES_A, dtype), points(ANGLES_B, dtype)
    expected = [angle_sim_2d(ta, tb) for ta, tb in zip(ANGLES_A, ANGLES_B)]
    assert pairwise_angle_sim(x, y).tolist() == pytest.approx(expected, abs=1e-6)
    swapped = [angle_sim_2d(tb, ta) for ta, tb in zip(ANGLES_A, ANGLES_B)]
    assert pairwise_angle_sim(y, x).tolist() == pytest.approx(swapped, abs=1e-6)
    assert expected != pytest.approx(swapped, abs=1e-3)
    # Odd dimension: one zero is padded, then the halves (x0, x1) and (x2, 0) form the complex numbers.
    u, v = [1.0, 2.0, -2.0], [0.5, -1.0, 3.0]
    nu, nv = math.sqrt(sum(t * t for t in u)), math.sqrt(sum(t * t for t in v))
    u, v = [t / nu for t in u] + [0.0], [t / nv for t in v] + [0.0]
    cosine = sum(p * q for p, q in zip(u, v))
    sine = sum(u[2 + k] * v[k] - u[k] * v[2 + k] for k in range(2))
    got = pairwise_angle_sim(torch.tensor([u[:3]], dtype=dtype) * nu, torch.tensor([v[:3]], dtype=dtype) * nv)
    assert got.item() == pytest.approx(abs(cosine + sine), abs=1e-6)
    assert pairwise_cos_sim(x, y).tolist() == pytest.approx(
        [math.cos(math.radians(tb - ta)) for ta, tb in zip(ANGLES_A, ANGLES_B)], abs=1e-6
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_angle_pairs_match_explicit_loop(dtype):
    similarities = [angle_sim_2d(ta, tb) for ta, tb in zip(ANGLES_A, ANGLES_B)]
    value = AnglELoss(None).compute_loss_from_embeddings(
        [points(ANGLES_A, dtype), points(ANGLES_B, dtype)], torch.tensor(SCORES)
    )
    assert value.dtype == dtype
    assert value.item() == pytest.approx(cosent_loop(similarities, SCORES), rel=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_angle_unlabeled_tuples_become_positive_and_negative_pairs(dtype):
    anchors, positives, negatives_1, negatives_2 = [0, 90, 180], [20, 80, 150], [60, 200, 170], [300, 10, 90]
    columns = [points(t, dtype) for t in (anchors, positives, negatives_1, negatives_2)]
    pair_sims, pair_labels = [], []
    for candidates, label in ((positives, 1.0), (negatives_1, 0.0), (negatives_2, 0.0)):
        for ta, tc in zip(anchors, candidates):
            pair_sims.append(angle_sim_2d(ta, tc))
            pair_labels.append(label)
    loss = AnglELoss(None)
    assert loss.compute_loss_from_embeddings(columns, None).item() == pytest.approx(
        cosent_loop(pair_sims, pair_labels), rel=1e-5
    )
    # Given labels y: the positive pairs get y, the negative pairs 1 - y.
    given = [0.9, 0.2, 0.6]
    pair_labels = given + [1 - y for y in given] * 2
    assert loss.compute_loss_from_embeddings(columns, torch.tensor(given)).item() == pytest.approx(
        cosent_loop(pair_sims, pair_labels), rel=1e-5
    )


def test_formats_config_and_citation():
    assert [f.key for f in CoSENTLoss.formats] == ["pair-score"]
    assert [f.key for f in AnglELoss.formats] == ["pair-score", "triplet", "n-tuple"]
    assert CoSENTLoss.commonly_used == AnglELoss.commonly_used == CosineSimilarityLoss.commonly_used
    assert CoSENTLoss(None).get_config_dict() == {"scale": 20.0, "similarity_fct": "pairwise_cos_sim"}
    assert AnglELoss(None, scale=10).get_config_dict() == {"scale": 10, "similarity_fct": "pairwise_angle_sim"}
    assert "10.1109/TASLP.2024.3402087" in CoSENTLoss(None).citation
    assert "li-li-2024-aoe" in AnglELoss(None).citation
    assert CosineSimilarityLoss(None).citation is None


def test_bad_input_names_the_format():
    x = torch.randn(3, 4)
    cosent, angle = CoSENTLoss(None), AnglELoss(None)
    with pytest.raises(LossInputError, match=r"expects 2 input column.*float similarity score.*got 1"):
        cosent.compute_loss_from_embeddings([x], torch.ones(3))
    with pytest.raises(LossInputError, match=r"got 3\. For \(anchor, positive, negative\).*AnglELoss"):
        cosent.compute_loss_from_embeddings([x, x, x], torch.ones(3))
    with pytest.raises(LossInputError, match="needs labels"):
        cosent.compute_loss_from_embeddings([x, x], None)
    with pytest.raises(LossInputError, match="expects 3 scores"):
        cosent.compute_loss_from_embeddings([x, x], torch.ones(2))
    with pytest.raises(LossInputError, match=r"needs labels.*Unlabeled data works as \(anchor, positive, negative"):
        angle.compute_loss_from_embeddings([x, x], None)
    with pytest.raises(LossInputError, match=r"expects 3 labels \(one per tuple\) or none"):
        angle.compute_loss_from_embeddings([x, x, x], torch.ones(9))
    with pytest.raises(LossInputError, match=r"expects 2 or more input column"):
        angle.compute_loss_from_embeddings([x], torch.ones(3))


def test_cosine_similarity_scores_outside_the_cosine_range():
    x = torch.randn(3, 4)
    loss = CosineSimilarityLoss(None)
    with pytest.raises(LossInputError, match=r"must lie in \[-1, 1\].*from 0 to 5.*divide STS-B's 0-5 scores by 5"):
        loss.compute_loss_from_embeddings([x, x], torch.tensor([0.0, 2.5, 5.0]))
    with pytest.warns(UserWarning, match=r"expects scores in \[0, 1\].*-0.5"):
        loss.compute_loss_from_embeddings([x, x], torch.tensor([-0.5, 0.2, 1.0]))
    # A custom transformation has its own range: no check.
    scaled = CosineSimilarityLoss(None, cos_score_transformation=torch.nn.Hardtanh(0, 5))
    assert torch.isfinite(scaled.compute_loss_from_embeddings([x, x], torch.tensor([0.0, 2.5, 5.0])))


def test_trains_the_tiny_model(tiny):
    for loss, columns, labels in [
        (CoSENTLoss(tiny), [STS_A, STS_B], torch.tensor(STS_SCORES)),
        (AnglELoss(tiny), [STS_A, STS_B], torch.tensor(STS_SCORES)),
        (AnglELoss(tiny), [ANCHORS, POSITIVES, NEGATIVES_1], None),
    ]:
        tiny.zero_grad(set_to_none=True)
        value = loss(make_features(tiny, *columns), labels)
        value.backward()
        assert torch.isfinite(value)
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in tiny.parameters())


@pytest.mark.slow
def test_cosent_parity_with_sentence_transformers(minilm, st_model):
    from sentence_transformers.sentence_transformer import losses as st_losses

    reference = st_losses.CoSENTLoss(st_model)
    ours = assert_parity(
        CoSENTLoss(minilm), reference, minilm, st_model, [STS_A, STS_B], torch.tensor(STS_SCORES), expected=1.89299440
    )  # REFERENCE-LOSSES.md §6
    assert CoSENTLoss(minilm).get_config_dict() == reference.get_config_dict()
    # Negative control: reversed scores rank the pairs the other way.
    other = CoSENTLoss(minilm)(make_features(minilm, STS_A, STS_B), torch.tensor(STS_SCORES[::-1]))
    assert abs(other.item() - ours) > 1e-3


@pytest.mark.slow
def test_angle_parity_with_sentence_transformers(minilm, st_model):
    from sentence_transformers.sentence_transformer import losses as st_losses

    reference = st_losses.AnglELoss(st_model)
    pairs = assert_parity(
        AnglELoss(minilm), reference, minilm, st_model, [STS_A, STS_B], torch.tensor(STS_SCORES), expected=1.88948882
    )  # REFERENCE-LOSSES.md §6
    triplets = assert_parity(
        AnglELoss(minilm), reference, minilm, st_model, [ANCHORS, POSITIVES, NEGATIVES_1], None, expected=3.45779443
    )  # REFERENCE-LOSSES.md §6
    assert AnglELoss(minilm).get_config_dict() == reference.get_config_dict()
    # Negative controls: reversed scores, and positives swapped with negatives.
    other_pairs = AnglELoss(minilm)(make_features(minilm, STS_A, STS_B), torch.tensor(STS_SCORES[::-1]))
    other_triplets = AnglELoss(minilm)(make_features(minilm, ANCHORS, NEGATIVES_1, POSITIVES), None)
    assert abs(other_pairs.item() - pairs) > 1e-3 and abs(other_triplets.item() - triplets) > 1e-3
