"""lossbook.anatomy: the arrows are autograd of the loss class itself, the pair weights add up to them exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lossbook import losses
from lossbook.anatomy import (
    PRESETS,
    PointsModel,
    anatomy,
    anatomy_losses,
    build_loss,
    loss_options,
    preset,
    presets_for,
    refusal,
)
from lossbook.anatomy_presets import takes_guide
from lossbook.formats import FORMATS
from lossbook.losses.base import EmbeddingPath, LossInputError

SHOWN = [name for name, reason in anatomy_losses().items() if reason is None]
REFUSED = [name for name, reason in anatomy_losses().items() if reason is not None]
CASES = [(name, batch) for name in SHOWN for batch in presets_for(name)]
COSINE_MEASURES = {"cos_sim": 1, "pairwise_cos_sim": 1, "cosine": 1, "torch_cosine_distance": -1}  # d = 1 - cos


def _ids(case):
    return f"{case[0]}-{case[1]}"


def _anatomy(name, preset_name):
    batch = preset(preset_name)
    return anatomy(build_loss(name), batch.embeddings, batch.labels), batch


def _independent_gradients(name, batch):
    """dL/dx by a separate autograd call on a separately built loss, in float64 (no anatomy code involved)."""
    loss = build_loss(name).double()
    points = [torch.tensor(e, dtype=torch.float64, requires_grad=True) for e in batch.embeddings]
    labels = None if batch.labels is None else torch.as_tensor(batch.labels)
    labels = labels.double() if labels is not None and labels.is_floating_point() else labels
    # The GIST losses read a guide's embeddings of the batch; the anatomy's default guide is the batch as given.
    guide = {"guide_embeddings": [p.detach().clone() for p in points]} if takes_guide(loss) else {}
    value = loss.compute_loss_from_embeddings(points, labels, **guide)
    value = sum(value.values()) if isinstance(value, dict) else value  # the regulariser's named parts
    return [g.numpy() for g in torch.autograd.grad(value, points)], float(value.detach())


def _largest_difference(first, second) -> float:
    return max(float(np.abs(a - b).max()) for a, b in zip(first, second))


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_the_arrows_are_the_autograd_gradient_of_the_loss(case):
    name, preset_name = case
    anat, batch = _anatomy(name, preset_name)
    expected, value = _independent_gradients(name, batch)
    assert anat.loss_value == pytest.approx(value, abs=1e-12)
    assert [g.shape for g in anat.gradients] == [e.shape for e in batch.embeddings]
    assert _largest_difference(anat.gradients, expected) < 1e-6
    # Negative control: the same comparison catches a flipped sign (the gradients are far from zero here).
    assert max(float(np.abs(g).max()) for g in expected) > 1e-3
    assert _largest_difference([-g for g in anat.gradients], expected) > 1e-6


def test_the_comparison_tells_two_losses_apart_and_the_cached_twin_apart_from_none():
    batch = preset("scores-order-right")
    cosent = anatomy(build_loss("CoSENTLoss"), batch.embeddings, batch.labels)
    regression, _ = _independent_gradients("CosineSimilarityLoss", batch)
    assert _largest_difference(cosent.gradients, regression) > 1e-3  # another loss: other forces
    pairs = preset("pair")
    cached = anatomy(build_loss("CachedMultipleNegativesRankingLoss"), pairs.embeddings)
    plain, _ = _independent_gradients("MultipleNegativesRankingLoss", pairs)
    assert _largest_difference(cached.gradients, plain) < 1e-12  # the cached loss has the same maths


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_one_small_step_lowers_the_loss_and_stays_on_the_unit_sphere(case):
    name, preset_name = case
    anat, batch = _anatomy(name, preset_name)
    moved = anat.step(1e-3)
    assert anat.unit and all(np.allclose(np.linalg.norm(m, axis=1), 1.0) for m in moved)
    after = anatomy(build_loss(name), moved, batch.labels)
    assert after.loss_value < anat.loss_value


def test_a_step_keeps_points_off_the_sphere_where_they_were():
    anat = anatomy(build_loss("MSELoss"), [np.array([[2.0, 0.0]])], np.array([[0.0, 1.0]]))
    assert not anat.unit
    (moved,) = anat.step(0.1)
    np.testing.assert_allclose(moved, [[2.0, 0.0]] - 0.1 * anat.gradients[0])


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_each_preset_passes_the_loss_own_input_checks(case):
    name, preset_name = case
    loss, batch = build_loss(name), preset(preset_name)
    inner = loss.loss if isinstance(loss, losses.MatryoshkaLoss) else loss
    assert FORMATS[batch.format] in inner.formats or FORMATS["any"] in inner.formats
    columns = [torch.as_tensor(e) for e in batch.embeddings]
    labels = None if batch.labels is None else torch.as_tensor(batch.labels)
    loss.check_inputs(columns, labels)  # raises a LossInputError when the batch does not fit


def test_every_format_of_a_shown_loss_has_a_preset_and_a_wrong_one_is_refused_by_the_loss():
    formats = {fmt.key for name in SHOWN for fmt in getattr(losses, name).formats} - {"any"}
    assert formats <= {batch.format for batch in PRESETS.values()}
    assert all(presets_for(name) for name in SHOWN)
    pairs = preset("pair")
    with pytest.raises(LossInputError, match="SoftmaxLoss needs labels"):
        anatomy(build_loss("SoftmaxLoss"), pairs.embeddings, None)


def test_the_tutorial_presets_show_what_they_promise():
    order_right = preset("scores-order-right")
    cosines = (order_right.embeddings[0] * order_right.embeddings[1]).sum(1)
    assert np.argsort(cosines).tolist() == np.argsort(order_right.labels).tolist()
    assert np.abs(cosines - order_right.labels).min() > 0.5
    cosent = anatomy(build_loss("CoSENTLoss"), order_right.embeddings, order_right.labels)
    regression = anatomy(build_loss("CosineSimilarityLoss"), order_right.embeddings, order_right.labels)
    assert cosent.loss_value < 0.05 < 0.5 < regression.loss_value
    duplicate, _ = _anatomy("MultipleNegativesRankingLoss", "duplicate-in-batch")
    a0, p0, p1 = (duplicate.pair_labels.index(label) for label in ("a0", "p0", "p1"))
    np.testing.assert_array_equal(duplicate.points[p0], duplicate.points[p1])  # one positive, twice
    assert duplicate.pull[a0, p0] > 0 > duplicate.pull[a0, p1]  # pulled to its positive, pushed from the copy
    matryoshka, batch = _anatomy("MatryoshkaLoss", "matryoshka-3d")
    assert batch.dim == 3 and matryoshka.loss_name == "MatryoshkaLoss(MultipleNegativesRankingLoss)"
    assert presets_for("MatryoshkaLoss") == ["matryoshka-3d"]
    # The preset shows what Matryoshka adds: the 3-D points work, their 2-D prefixes do not, so most of its
    # force lies in the prefix coordinates while plain MNRL's lies mostly in the third (negative control).
    mnrl = anatomy(build_loss("MultipleNegativesRankingLoss"), batch.embeddings)
    prefixes = [e[:, :2] / np.linalg.norm(e[:, :2], axis=1, keepdims=True) for e in batch.embeddings]
    assert anatomy(build_loss("MultipleNegativesRankingLoss"), prefixes).loss_value > 3 * mnrl.loss_value

    def prefix_share(a):
        return (a.flat_gradients[:, :2] ** 2).sum() / (a.flat_gradients**2).sum()

    assert prefix_share(mnrl) < 0.5 < prefix_share(matryoshka)
    names = _anatomy("AnglELoss", "n-tuple")[0].pair_labels
    assert names[:4] == ["a0", "a1", "a2", "p0"] and names[-3:] == ["n2_0", "n2_1", "n2_2"]
    assert preset("pair", seed=3).embeddings[0].tolist() != preset("pair").embeddings[0].tolist()


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_the_pair_weights_add_up_to_the_arrows(case):
    """``pair_gradients`` (the chain rule through every recorded similarity) is the whole gradient."""
    name, preset_name = case
    anat, _ = _anatomy(name, preset_name)
    if anat.pair_weights is None:  # only the losses that never compare two points
        assert name in ("SoftmaxLoss", "MSELoss", "EmbedDistillLoss") and "compares no two points" in anat.note
        return
    assert anat.pair_weights.shape == (len(anat.points),) * 2 == anat.pair_read.shape
    assert np.all(anat.pair_weights[~anat.pair_read] == 0)
    assert _largest_difference(anat.pair_gradients, anat.gradients) < 1e-12


def _pair_derivatives(measure: str, points: np.ndarray) -> np.ndarray:
    """``[p, q]``: d s(x_p, x_q) / d x_p for unit vectors, written out by hand for three kinds of measure."""
    difference = points[:, None, :] - points[None, :, :]
    if measure in COSINE_MEASURES:  # the cosine's tangent (x_q - cos x_p), negated for the distance 1 - cos
        cosines = points @ points.T
        return COSINE_MEASURES[measure] * (points[None, :, :] - cosines[:, :, None] * points[:, None, :])
    if measure == "pairwise_dot_score":
        return np.broadcast_to(points[None, :, :], difference.shape)
    lengths = np.linalg.norm(difference, axis=-1, keepdims=True)  # Euclidean: the unit vector from q to p
    return np.divide(difference, lengths, out=np.zeros_like(difference), where=lengths > 0)


HAND_MEASURES = (*COSINE_MEASURES, "pairwise_dot_score", "pairwise_euclidean_distance", "euclidean_distance")


@pytest.mark.parametrize(
    "case", [c for c in CASES if c[1] != "matryoshka-3d" and _anatomy(*c)[0].pair_measure in HAND_MEASURES], ids=_ids
)
def test_the_pair_weights_rebuild_each_arrow_from_hand_written_pair_derivatives(case):
    """An arrow is the sum over its pairs of weight x d s/d x_p (the measure is symmetric, so both slots count)."""
    anat, _ = _anatomy(*case)
    derivatives = _pair_derivatives(anat.pair_measure, anat.points)
    rebuilt = ((anat.pair_weights + anat.pair_weights.T)[:, :, None] * derivatives).sum(axis=1)
    np.testing.assert_allclose(rebuilt, anat.flat_gradients, atol=1e-12)
    wrong = ((anat.pair_weights - anat.pair_weights.T)[:, :, None] * derivatives).sum(axis=1)
    assert np.abs(wrong - anat.flat_gradients).max() > 1e-6  # negative control: one slot's sign flipped


@pytest.mark.parametrize("name", ["MultipleNegativesRankingLoss", "CachedMultipleNegativesRankingLoss"])
def test_each_anchor_pull_on_its_positive_equals_its_push_on_the_rest(name):
    """InfoNCE's row of dL/ds is scale/B (softmax - one-hot): it sums to 0, the pull balanced by the pushes."""
    anat, batch = _anatomy(name, "n-tuple")
    anchors = len(batch.embeddings[0])
    np.testing.assert_allclose(anat.pair_weights[:anchors].sum(axis=1), 0.0, atol=1e-12)
    positives = [anchors + i for i in range(anchors)]
    assert np.all(anat.pull[range(anchors), positives] > 0)


def test_alignment_and_uniformity_by_hand():
    anat = anatomy(build_loss("CosineSimilarityLoss"), [np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])], [0.9])
    alignment, uniformity = anat.alignment_uniformity()
    assert anat.positive_pairs == [(0, 1)]
    assert alignment == pytest.approx(2.0) and uniformity == pytest.approx(-4.0)  # |x - y|^2 = 2, log e^-4
    lonely = anatomy(build_loss("MSELoss"), [np.array([[1.0, 0.0]])], np.array([[0.0, 1.0]]))
    assert np.isnan(lonely.alignment_uniformity()[0])


def test_shown_and_refused_losses_follow_how_each_gets_its_embeddings():
    given = (EmbeddingPath.GIVEN, EmbeddingPath.GRADIENT_CACHE)
    guided = (EmbeddingPath.WITH_GUIDE, EmbeddingPath.GRADIENT_CACHE_WITH_GUIDE)  # the guide's points come along
    expected = {name for name in losses.LOSS_NAMES if getattr(losses, name).embedding_path in given + guided}
    assert set(SHOWN) == expected | {"MatryoshkaLoss"} and len(SHOWN) + len(REFUSED) == 29
    assert {"GISTEmbedLoss", "CachedGISTEmbedLoss"} <= set(SHOWN)
    assert set(REFUSED) == {
        "ContrastiveTensionLoss",
        "ContrastiveTensionLossInBatchNegatives",
        "DenoisingAutoEncoderLoss",
        "AdaptiveLayerLoss",
        "Matryoshka2dLoss",
    }


@pytest.mark.parametrize("name", REFUSED)
def test_a_loss_that_cannot_be_shown_says_why_in_one_line(name):
    reason = anatomy_losses()[name]
    assert "\n" not in reason and reason.startswith(f"{name} cannot be shown on given points")
    with pytest.raises(ValueError, match=f"^{name} cannot be shown"):
        build_loss(name)


def test_refused_instances_raise_the_same_line_from_anatomy():
    points = preset("pair").embeddings
    built = [
        losses.ContrastiveTensionLoss(PointsModel(2)),
        losses.ContrastiveTensionLossInBatchNegatives(PointsModel(2)),
    ]
    for loss in built:
        with pytest.raises(ValueError, match=f"^{type(loss).__name__} cannot be shown") as raised:
            anatomy(loss, points)
        assert str(raised.value) == refusal(loss)
    around_a_guide = losses.MatryoshkaLoss(PointsModel(2), losses.GISTEmbedLoss(None, None), [2])
    with pytest.raises(ValueError, match="hands the loss it wraps no guide embeddings"):
        anatomy(around_a_guide, points)


def test_options_come_from_the_constructor_and_bad_names_say_so():
    assert loss_options("MultipleNegativesRankingLoss") == {"scale": 20.0}
    assert loss_options("MegaBatchMarginLoss") == {"positive_margin": 0.8, "negative_margin": 0.3}
    assert loss_options("MatryoshkaLoss") == {"scale": 20.0}  # the wrapped loss's
    assert loss_options("CosineSimilarityLoss") == {}
    assert build_loss("MatryoshkaLoss", scale=5.0).loss.scale == 5.0
    with pytest.raises(ValueError, match="Unknown loss 'CoSentLoss'. Did you mean CoSENTLoss"):
        build_loss("CoSentLoss")
    with pytest.raises(ValueError, match="Unknown preset 'pairs'. Did you mean 'pair'"):
        preset("pairs")
    with pytest.raises(ValueError, match="one \\(rows, dim\\) array per column"):
        anatomy(build_loss("MultipleNegativesRankingLoss"), [np.zeros((2, 2)), np.zeros((2, 3))])


def test_gist_drops_the_negative_its_guide_rates_above_the_positive_where_mnrl_pushes_it():
    def circle(*degrees):
        return np.array([[np.cos(np.radians(d)), np.sin(np.radians(d))] for d in degrees])

    # Anchor a0 at 0 degrees, its positive at 30; the other row's positive p1 sits at 10: closer to a0 than a0's
    # own positive, so the guide (the batch as given) calls it a false negative.
    points = [circle(0, 180), circle(30, 10)]
    gist, mnrl = (anatomy(build_loss(name), points) for name in ("GISTEmbedLoss", "MultipleNegativesRankingLoss"))
    a0, p1 = gist.pair_labels.index("a0"), gist.pair_labels.index("p1")
    assert mnrl.pull[a0, p1] < -1e-3  # pushed away
    assert gist.pull[a0, p1] == 0  # masked: no force at all
    # A guide that sees p1 far away (at 150 degrees) lets GIST push it like MNRL does.
    far = anatomy(build_loss("GISTEmbedLoss"), points, guide=[circle(0, 180), circle(30, 150)])
    assert far.pull[a0, p1] < -1e-3
