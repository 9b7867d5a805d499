"""TripletLoss and the batch-triplet losses: explicit loops over every (a, p, n) on 2-D points, parity, bad input."""

import math

import pytest
import torch
from batches import ANCHORS, NEGATIVES_1, POSITIVES, assert_parity, make_features

from lossbook.losses.base import LossInputError
from lossbook.losses.batch_triplets import (
    BatchAllTripletLoss,
    BatchHardSoftMarginTripletLoss,
    BatchHardTripletLoss,
    BatchHardTripletLossDistanceFunction,
    BatchSemiHardTripletLoss,
    batch_all_triplet_loss_plain,
    batch_semi_hard_triplet_loss_plain,
)
from lossbook.losses.triplets import TripletDistanceMetric, TripletLoss
from lossbook.teaching import unit

DTYPES = [torch.float32, torch.float64]
BATCH_LOSSES = [BatchAllTripletLoss, BatchHardTripletLoss, BatchSemiHardTripletLoss, BatchHardSoftMarginTripletLoss]
CLS_X, CLS_Y = ANCHORS + POSITIVES, [0, 1, 2, 3, 0, 1, 2, 3]  # REFERENCE-LOSSES.md §6


def euclidean(p, q):
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(p, q)))


def manhattan(p, q):
    return sum(abs(x - y) for x, y in zip(p, q))


def cosine_distance(p, q):
    dot = sum(x * y for x, y in zip(p, q))
    return 1 - dot / (math.sqrt(sum(x * x for x in p)) * math.sqrt(sum(y * y for y in q)))


# ---------------------------------------------------------------------------------------------- TripletLoss

TRIPLET_METRICS = {"EUCLIDEAN": euclidean, "COSINE": cosine_distance, "MANHATTAN": manhattan}
ANCHOR_POINTS = [unit(0), unit(90, 2.0), unit(200), unit(45, 0.5)]
POSITIVE_POINTS = [unit(30), unit(80), unit(250, 1.5), unit(40)]
NEGATIVE_POINTS = [unit(60), unit(270), unit(210), unit(135)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("metric", list(TRIPLET_METRICS))
@pytest.mark.parametrize("margin", [5, 0.3])
def test_triplet_matches_explicit_loop(dtype, metric, margin):
    d = TRIPLET_METRICS[metric]
    terms = [max(0.0, d(a, p) - d(a, n) + margin) for a, p, n in zip(ANCHOR_POINTS, POSITIVE_POINTS, NEGATIVE_POINTS)]
    loss = TripletLoss(None, getattr(TripletDistanceMetric, metric), triplet_margin=margin)
    embeddings = [torch.tensor(points, dtype=dtype) for points in (ANCHOR_POINTS, POSITIVE_POINTS, NEGATIVE_POINTS)]
    value = loss.compute_loss_from_embeddings(embeddings, None)
    assert value.dtype == dtype
    assert value.item() == pytest.approx(sum(terms) / len(terms), abs=1e-5)


def test_default_euclidean_margin_cannot_be_met_by_unit_vectors():
    # Unit vectors are at most 2 apart, so d(a,p) - d(a,n) + 5 >= 3: even the best triplet costs 3.
    best = [torch.tensor([unit(0)]), torch.tensor([unit(0)]), torch.tensor([unit(180)])]
    assert TripletLoss(None).compute_loss_from_embeddings(best, None).item() == pytest.approx(3.0)


# ---------------------------------------------------------------------------------------------- batch losses

# Three classes at known angles (class 1 is 180 deg wide, so its pairs have no farther negative); the
# "singleton-classes" variant splits class 2 in two.
POINTS = [unit(0), unit(40), unit(100), unit(60), unit(240), unit(250), unit(300)]
CLASSES = [0, 0, 0, 1, 1, 2, 2]
MATRIX_METRICS = {"euclidean_distance": euclidean, "cosine_distance": cosine_distance}


def distance_table(points, metric):
    return [[metric(p, q) for q in points] for p in points]


def batch_all_loop(D, y, m):
    total, active = 0.0, 0
    for a in range(len(y)):
        for p in range(len(y)):
            for n in range(len(y)):
                if a != p and y[a] == y[p] and y[n] != y[a]:
                    loss = max(0.0, D[a][p] - D[a][n] + m)
                    total += loss
                    active += loss > 1e-16
    return total / active if active else 0.0


def hardest(D, y, a):
    positives = [D[a][p] for p in range(len(y)) if p != a and y[p] == y[a]]
    negatives = [D[a][n] for n in range(len(y)) if y[n] != y[a]]
    return max(positives, default=0.0), min(negatives)


def batch_hard_loop(D, y, m):
    return sum(max(0.0, hp - hn + m) for hp, hn in (hardest(D, y, a) for a in range(len(y)))) / len(y)


def batch_soft_margin_loop(D, y, m=None):
    return sum(math.log1p(math.exp(hp - hn)) for hp, hn in (hardest(D, y, a) for a in range(len(y)))) / len(y)


def batch_semi_hard_loop(D, y, m):
    total, pairs = 0.0, 0
    for a in range(len(y)):
        for p in range(len(y)):
            if a == p or y[a] != y[p]:
                continue
            negatives = [D[a][n] for n in range(len(y)) if y[n] != y[a]]
            farther = [d for d in negatives if d > D[a][p]]
            chosen = min(farther) if farther else max(negatives)
            total += max(0.0, D[a][p] - chosen + m)
            pairs += 1
    return total / pairs if pairs else 0.0


LOOPS = {
    BatchAllTripletLoss: batch_all_loop,
    BatchHardTripletLoss: batch_hard_loop,
    BatchSemiHardTripletLoss: batch_semi_hard_loop,
    BatchHardSoftMarginTripletLoss: batch_soft_margin_loop,
}


def build(loss_class, metric_name, margin):
    metric = getattr(BatchHardTripletLossDistanceFunction, metric_name)
    if loss_class is BatchHardSoftMarginTripletLoss:
        return loss_class(None, metric)
    return loss_class(None, metric, margin=margin)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss_class", BATCH_LOSSES)
@pytest.mark.parametrize("metric_name", list(MATRIX_METRICS))
@pytest.mark.parametrize("margin", [5, 0.3])
@pytest.mark.parametrize("classes", [CLASSES, [0, 0, 0, 1, 1, 2, 3]], ids=["pairs", "singleton-classes"])
def test_batch_losses_match_loops_over_every_triplet(dtype, loss_class, metric_name, margin, classes):
    D = distance_table(POINTS, MATRIX_METRICS[metric_name])
    expected = LOOPS[loss_class](D, classes, margin)
    value = build(loss_class, metric_name, margin).compute_loss_from_embeddings(
        [torch.tensor(POINTS, dtype=dtype)], torch.tensor(classes)
    )
    assert value.dtype == dtype
    assert value.item() == pytest.approx(expected, abs=1e-5)


def test_semi_hard_loop_exercises_both_branches():
    # The 0.3 margin cases above only test something if some (a, p) have a farther negative and some don't.
    D = distance_table(POINTS, euclidean)
    has_farther = {
        any(D[a][n] > D[a][p] for n in range(7) if CLASSES[n] != CLASSES[a])
        for a in range(7)
        for p in range(7)
        if a != p and CLASSES[a] == CLASSES[p]
    }
    assert has_farther == {True, False}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("metric_name", list(MATRIX_METRICS))
def test_distance_matrices_match_loops_and_have_finite_gradients(dtype, metric_name):
    points = POINTS + [POINTS[0]]  # a duplicate row: distance exactly 0 off the diagonal
    x = torch.tensor(points, dtype=dtype, requires_grad=True)
    matrix = getattr(BatchHardTripletLossDistanceFunction, metric_name)(x)
    expected = distance_table(points, MATRIX_METRICS[metric_name])
    for row, expected_row in zip(matrix.tolist(), expected):
        assert row == pytest.approx(expected_row, abs=1e-5)
    matrix.sum().backward()
    assert torch.isfinite(x.grad).all()
    squared = BatchHardTripletLossDistanceFunction.euclidean_distance(x.detach(), squared=True)
    assert squared[0, 1].item() == pytest.approx(euclidean(points[0], points[1]) ** 2, abs=1e-5)


@pytest.mark.parametrize("loss_class", BATCH_LOSSES)
@pytest.mark.parametrize("rows", [1, 4])
def test_single_class_batch_gives_zero_with_grad_fn(loss_class, rows):
    x = torch.tensor(POINTS[:rows], requires_grad=True)
    loss = loss_class(None)
    with pytest.warns(UserWarning, match="all share one class.*no \\(anchor, positive, negative\\) triplet.*loss is 0"):
        value = loss.compute_loss_from_embeddings([x], torch.full((rows,), 7))
    assert value.item() == 0.0 and value.grad_fn is not None
    value.backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() == 0


def test_single_class_divergence_from_the_reference_is_as_documented():
    st_losses = pytest.importorskip("sentence_transformers.sentence_transformer.losses")
    x, labels = torch.tensor(POINTS[:4], requires_grad=True), torch.zeros(4, dtype=torch.long)
    assert st_losses.BatchAllTripletLoss(None).compute_loss_from_embeddings([x], labels).item() == 0.0
    assert st_losses.BatchHardTripletLoss(None).compute_loss_from_embeddings([x], labels).item() == pytest.approx(5.0)
    assert st_losses.BatchHardSoftMarginTripletLoss(None).compute_loss_from_embeddings(
        [x], labels
    ).item() == pytest.approx(math.log(2))
    D = distance_table(POINTS[:4], euclidean)
    mean_same_class = sum(D[a][p] for a in range(4) for p in range(4) if a != p) / 12
    assert st_losses.BatchSemiHardTripletLoss(None).compute_loss_from_embeddings([x], labels).item() == pytest.approx(
        mean_same_class + 5, abs=1e-5
    )


def test_formats_config_citation_and_aliases():
    for loss_class in BATCH_LOSSES:
        assert [f.key for f in loss_class.formats] == ["sentence-class"]
        assert "1703.07737" in loss_class(None).citation
    assert BatchAllTripletLoss.commonly_used == BatchAllTripletLoss.formats and BatchHardTripletLoss.commonly_used == ()
    assert [f.key for f in TripletLoss.formats] == ["triplet"] and "1703.07737" in TripletLoss(None).citation
    assert TripletLoss(None).get_config_dict() == {
        "distance_metric": "TripletDistanceMetric.EUCLIDEAN",
        "triplet_margin": 5,
    }
    assert BatchAllTripletLoss(None).get_config_dict() == {"distance_metric": "euclidean_distance", "margin": 5}
    assert BatchSemiHardTripletLoss(
        None, BatchHardTripletLossDistanceFunction.cosine_distance, 0.3
    ).get_config_dict() == {"distance_metric": "cosine_distance", "margin": 0.3}
    assert BatchHardSoftMarginTripletLoss(None).get_config_dict() == {"distance_metric": "euclidean_distance"}
    assert BatchHardTripletLoss("model").sentence_embedder == "model"
    assert (
        BatchHardTripletLossDistanceFunction.eucledian_distance
        is BatchHardTripletLossDistanceFunction.euclidean_distance
    )


def test_bad_input_names_the_format():
    x = torch.randn(4, 3)
    for loss in (loss_class(None) for loss_class in BATCH_LOSSES):
        with pytest.raises(
            LossInputError, match=r"expects 1 input column.*single sentences \+ class.*got 3.*TripletLoss"
        ):
            loss.compute_loss_from_embeddings([x, x, x], torch.tensor([0, 0, 1, 1]))
        with pytest.raises(LossInputError, match="needs labels"):
            loss.compute_loss_from_embeddings([x], None)
        with pytest.raises(LossInputError, match=r"integer class ids.*torch.float32.*labels.long\(\).*CoSENTLoss"):
            loss.compute_loss_from_embeddings([x], torch.tensor([0.1, 0.9, 0.4, 0.4]))
        with pytest.raises(LossInputError, match="expects 4 class ids"):
            loss.compute_loss_from_embeddings([x], torch.tensor([0, 1]))
    with pytest.raises(LossInputError, match=r"expects 3 input column.*triplets.*got 2.*mine_hard_negatives"):
        TripletLoss(None).compute_loss_from_embeddings([x, x], None)
    with pytest.raises(LossInputError, match=r"expects 3 input column.*got 4"):
        TripletLoss(None).compute_loss_from_embeddings([x, x, x, x], None)


def test_trains_the_tiny_model(tiny):
    cases = [(TripletLoss(tiny), [ANCHORS, POSITIVES, NEGATIVES_1], None)]
    cases += [(loss_class(tiny), [CLS_X], torch.tensor(CLS_Y)) for loss_class in BATCH_LOSSES]
    for loss, columns, labels in cases:
        tiny.zero_grad(set_to_none=True)
        value = loss(make_features(tiny, *columns), labels)
        value.backward()
        assert torch.isfinite(value)
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in tiny.parameters())


# ---------------------------------------------------------------------------------------------- parity (slow)


def _reference(name, st_model, **kwargs):
    from sentence_transformers.sentence_transformer import losses as st_losses

    return getattr(st_losses, name)(st_model, **kwargs)


@pytest.mark.slow
@pytest.mark.parametrize(
    "metric, margin, expected",
    [
        ("EUCLIDEAN", 5, 4.89395285),  # REFERENCE-LOSSES.md §6
        ("COSINE", 0.2, 0.12960158),  # §6
    ],
)
def test_triplet_parity_with_sentence_transformers(minilm, st_model, metric, margin, expected):
    from sentence_transformers.sentence_transformer import losses as st_losses

    ours_loss = TripletLoss(minilm, getattr(TripletDistanceMetric, metric), triplet_margin=margin)
    reference = _reference(
        "TripletLoss", st_model, distance_metric=getattr(st_losses.TripletDistanceMetric, metric), triplet_margin=margin
    )
    ours = assert_parity(
        ours_loss, reference, minilm, st_model, [ANCHORS, POSITIVES, NEGATIVES_1], None, expected=expected
    )
    assert ours_loss.get_config_dict() == reference.get_config_dict()
    # Negative control: positives and negatives swapped.
    other = ours_loss(make_features(minilm, ANCHORS, NEGATIVES_1, POSITIVES), None)
    assert abs(other.item() - ours) > 1e-3


@pytest.mark.slow
@pytest.mark.parametrize(
    "loss_class, metric, margin, expected",
    [
        (BatchAllTripletLoss, "euclidean_distance", 5, 4.54487753),  # REFERENCE-LOSSES.md §6
        (BatchAllTripletLoss, "euclidean_distance", 0.3, 0.17265840),
        (BatchHardTripletLoss, "euclidean_distance", 5, 4.82347059),
        (BatchHardTripletLoss, "cosine_distance", 0.3, 0.16085175),
        (BatchSemiHardTripletLoss, "euclidean_distance", 5, 4.82347012),
        (BatchSemiHardTripletLoss, "euclidean_distance", 0.3, 0.13744512),
        (BatchHardSoftMarginTripletLoss, "euclidean_distance", None, 0.61133766),
    ],
)
def test_batch_triplet_parity_with_sentence_transformers(minilm, st_model, loss_class, metric, margin, expected):
    from sentence_transformers.sentence_transformer import losses as st_losses

    ours_kwargs = {"distance_metric": getattr(BatchHardTripletLossDistanceFunction, metric)}
    reference_kwargs = {"distance_metric": getattr(st_losses.BatchHardTripletLossDistanceFunction, metric)}
    if margin is not None:
        ours_kwargs["margin"] = reference_kwargs["margin"] = margin
    ours_loss = loss_class(minilm, **ours_kwargs)
    reference = _reference(loss_class.__name__, st_model, **reference_kwargs)
    ours = assert_parity(ours_loss, reference, minilm, st_model, [CLS_X], torch.tensor(CLS_Y), expected=expected)
    assert ours_loss.get_config_dict() == reference.get_config_dict()
    # Negative control: other classes.
    other = ours_loss(make_features(minilm, CLS_X), torch.tensor([0, 0, 1, 1, 2, 2, 3, 3]))
    assert abs(other.item() - ours) > 1e-3


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize(
    "loss_class, plain",
    [
        (BatchAllTripletLoss, batch_all_triplet_loss_plain),
        (BatchSemiHardTripletLoss, batch_semi_hard_triplet_loss_plain),
    ],
    ids=["batch_all", "batch_semi_hard"],
)
def test_mined_triplet_losses_equal_their_plain_formulas_with_ties(seed, loss_class, plain):
    """The per-pair / sorted computations of the losses against the (a, p, n) cube they replace, in float64."""
    generator = torch.Generator().manual_seed(seed)
    batch = int(torch.randint(4, 24, (1,), generator=generator))
    labels = torch.randint(0, 2 + seed % 4, (batch,), generator=generator)
    labels[:2] = torch.tensor([0, 1])  # at least two classes, as the losses require
    # Distances on a coarse grid, so that D_ap == D_an ties (and ties between negatives) occur.
    distances = torch.randint(0, 6, (batch, batch), generator=generator).to(torch.float64) / 2
    distances = ((distances + distances.T) / 2).fill_diagonal_(0).requires_grad_(True)
    margin = 0.5 + seed % 3
    loss = loss_class(None, distance_metric=lambda _: distances, margin=margin)
    fast_value = loss.compute_loss_from_embeddings([torch.zeros(batch, 1)], labels)
    plain_value = plain(distances, labels, margin)
    torch.testing.assert_close(fast_value, plain_value, rtol=1e-12, atol=1e-12)
    # Both pick the first of tied negatives (stable sort, min), so the gradients agree too.
    (fast_grad,), (plain_grad,) = (torch.autograd.grad(v, distances) for v in (fast_value, plain_value))
    torch.testing.assert_close(fast_grad, plain_grad, rtol=1e-12, atol=1e-12)
