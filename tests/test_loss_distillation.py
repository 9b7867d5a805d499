"""Distillation losses (MSELoss, EmbedDistillLoss, MarginMSELoss, DistillKLDivLoss): explicit loops, parity,
bad input."""

import math

import pytest
import torch
from batches import ANCHORS, NEGATIVES_1, NEGATIVES_2, POSITIVES, assert_parity, make_features

from lossbook.losses.base import LossInputError
from lossbook.losses.distillation import EmbedDistillLoss, MSELoss
from lossbook.losses.distillation_scores import DistillKLDivLoss, MarginMSELoss

# Student and teacher points in 3-D (not unit-norm on purpose: the losses must not assume it).
STUDENT_A = [[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [0.0, 0.5, -0.5]]
STUDENT_B = [[0.0, 1.0, 0.0], [0.3, -0.2, 0.9], [1.0, 1.0, 1.0]]
TEACHER_A = [[0.8, 0.6, 0.0], [0.0, 1.0, 0.0], [0.2, 0.2, -0.9]]
TEACHER_B = [[0.5, 0.5, 0.5], [0.0, 0.0, 1.0], [1.0, 0.0, 1.0]]
MARGINS = [[0.5, -0.2], [0.1, 0.3], [-0.4, 0.0]]
SCORES = [[0.9, 0.4, 0.1], [0.2, 0.8, 0.5], [3.0, -1.0, 0.0]]
KD = [[0.9, 0.4, 0.1], [0.8, 0.5, 0.2], [0.7, 0.6, 0.0], [0.95, 0.3, 0.2]]


def dot(u, v):
    return sum(a * b for a, b in zip(u, v))


def norm(u):
    return math.sqrt(dot(u, u))


def distance(metric, s, t):
    if metric == "mse":
        return sum((a - b) ** 2 for a, b in zip(s, t)) / len(s)
    if metric == "l2":
        return norm([a - b for a, b in zip(s, t)])
    return 1 - dot(s, t) / (norm(s) * norm(t))


def tensor(rows, dtype):
    return torch.tensor(rows, dtype=dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("metric", ["cosine", "l2", "mse"])
def test_embed_distill_matches_loop_shared_and_per_column(dtype, metric):
    loss = EmbedDistillLoss(model=None, distance_metric=metric)
    students = [tensor(STUDENT_A, dtype), tensor(STUDENT_B, dtype)]
    # 2-D labels: one teacher row shared by both columns.
    shared = sum(distance(metric, s, t) for column in (STUDENT_A, STUDENT_B) for s, t in zip(column, TEACHER_A)) / 6
    value = loss.compute_loss_from_embeddings(students, tensor(TEACHER_A, dtype))
    assert value.dtype == dtype and value.item() == pytest.approx(shared, abs=1e-6)
    # 3-D labels: one teacher per column.
    per_column = (
        sum(distance(metric, s, t) for s, t in zip(STUDENT_A, TEACHER_A)) / 3
        + sum(distance(metric, s, t) for s, t in zip(STUDENT_B, TEACHER_B)) / 3
    ) / 2
    labels = torch.stack([tensor(TEACHER_A, dtype), tensor(TEACHER_B, dtype)], dim=1)
    assert loss.compute_loss_from_embeddings(students, labels).item() == pytest.approx(per_column, abs=1e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_mse_loss_matches_loop(dtype):
    expected = sum((a - b) ** 2 for s, t in zip(STUDENT_A, TEACHER_A) for a, b in zip(s, t)) / 9
    value = MSELoss(model=None).compute_loss_from_embeddings([tensor(STUDENT_A, dtype)], tensor(TEACHER_A, dtype))
    assert value.dtype == dtype and value.item() == pytest.approx(expected, abs=1e-7)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_margin_mse_matches_loop_for_margins_and_raw_scores(dtype):
    q, p, n1, n2 = STUDENT_A, STUDENT_B, TEACHER_A, TEACHER_B
    expected = (
        sum(
            ((dot(q[i], p[i]) - dot(q[i], n[i])) - MARGINS[i][j]) ** 2 for i in range(3) for j, n in enumerate((n1, n2))
        )
        / 6
    )
    columns = [tensor(c, dtype) for c in (q, p, n1, n2)]
    loss = MarginMSELoss(model=None)
    value = loss.compute_loss_from_embeddings(columns, tensor(MARGINS, dtype))
    assert value.dtype == dtype and value.item() == pytest.approx(expected, abs=1e-6)
    # Raw teacher scores (B, k+1) become margins score_pos - score_neg_j.
    expected_raw = (
        sum(
            ((dot(q[i], p[i]) - dot(q[i], n[i])) - (SCORES[i][0] - SCORES[i][j + 1])) ** 2
            for i in range(3)
            for j, n in enumerate((n1, n2))
        )
        / 6
    )
    assert loss.compute_loss_from_embeddings(columns, tensor(SCORES, dtype)).item() == pytest.approx(
        expected_raw, abs=1e-6
    )
    # One negative: margins may be (B,).
    single = sum(((dot(q[i], p[i]) - dot(q[i], n1[i])) - MARGINS[i][0]) ** 2 for i in range(3)) / 3
    value = loss.compute_loss_from_embeddings(columns[:3], tensor([m[0] for m in MARGINS], dtype))
    assert value.item() == pytest.approx(single, abs=1e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("student_t, teacher_t", [(1.0, 1.0), (2.0, 2.0), (0.5, 3.0)])
def test_distill_kl_div_matches_loop(dtype, student_t, teacher_t):
    q, candidates = STUDENT_A, (STUDENT_B, TEACHER_A, TEACHER_B)
    total = 0.0
    for i in range(3):
        s = [dot(q[i], c[i]) / student_t for c in candidates]
        t = [x / teacher_t for x in SCORES[i]]
        log_z_s = math.log(sum(math.exp(x) for x in s))
        z_t = sum(math.exp(x) for x in t)
        for j in range(3):
            pi = math.exp(t[j]) / z_t
            total += pi * (math.log(pi) - (s[j] - log_z_s))
    expected = total / 3 * student_t**2
    loss = DistillKLDivLoss(model=None, student_temperature=student_t, teacher_temperature=teacher_t)
    value = loss.compute_loss_from_embeddings([tensor(c, dtype) for c in (q, *candidates)], tensor(SCORES, dtype))
    assert value.dtype == dtype and value.item() == pytest.approx(expected, abs=1e-6)


def test_labels_are_not_trained():
    x = torch.randn(3, 3, requires_grad=True)
    teacher = torch.randn(3, 3, requires_grad=True)
    MSELoss(model=None).compute_loss_from_embeddings([x], teacher).backward()
    assert teacher.grad is None and x.grad is not None


def test_bad_teacher_embeddings_name_the_shape_and_converter():
    loss = MSELoss(model=None)
    x = torch.randn(4, 3)
    with pytest.raises(LossInputError, match="needs labels.*add_teacher_embeddings"):
        loss.compute_loss_from_embeddings([x], None)
    with pytest.raises(LossInputError, match=r"shape \(4, dim\) or \(4, 1, dim\).*add_teacher_embeddings"):
        loss.compute_loss_from_embeddings([x], torch.randn(4))
    with pytest.raises(LossInputError, match=r"teacher embeddings for 3 columns.*Expected \(4, 2, dim\)"):
        loss.compute_loss_from_embeddings([x, x], torch.randn(4, 3, 3))
    with pytest.raises(
        LossInputError, match=r"teacher embeddings of shape \(4, 5\); expected \(4, 3\).*projection_dim=5"
    ):
        loss.compute_loss_from_embeddings([x], torch.randn(4, 5))
    with pytest.raises(LossInputError, match=r"teacher embeddings of shape \(2, 3\)"):
        loss.compute_loss_from_embeddings([x], torch.randn(2, 3))
    with pytest.raises(LossInputError, match="1 or more input column"):
        loss.compute_loss_from_embeddings([], torch.randn(4, 3))
    with pytest.raises(ValueError, match="distance_metric"):
        EmbedDistillLoss(model=None, distance_metric="dot")


def test_bad_margins_and_scores_name_the_shapes_and_converters():
    x = torch.randn(4, 3)
    margin = MarginMSELoss(model=None)
    with pytest.raises(LossInputError, match="3 or more input column"):
        margin.compute_loss_from_embeddings([x, x], torch.ones(4))
    with pytest.raises(LossInputError, match="needs labels"):
        margin.compute_loss_from_embeddings([x, x, x], None)
    with pytest.raises(
        LossInputError, match=r"Expected margins \(4, 2\).*\(4, 3\).*add_teacher_margins.*add_teacher_scores"
    ):
        margin.compute_loss_from_embeddings([x, x, x, x], torch.ones(4, 5))
    kl = DistillKLDivLoss(model=None)
    with pytest.raises(LossInputError, match="3 or more input column"):
        kl.compute_loss_from_embeddings([x, x], torch.ones(4, 1))
    with pytest.raises(LossInputError, match=r"shape \(4, 3\).*looks like margins.*add_teacher_scores"):
        kl.compute_loss_from_embeddings([x, x, x, x], torch.ones(4, 2))
    with pytest.raises(LossInputError, match="NaN"):
        kl.compute_loss_from_embeddings([x, x, x], torch.tensor([[0.0, float("nan")]] * 4))
    with pytest.raises(ValueError, match="positive finite"):
        DistillKLDivLoss(model=None, teacher_temperature=0.0)


def test_projection_maps_to_a_teacher_of_another_size(tiny, tmp_path):
    loss = EmbedDistillLoss(tiny, distance_metric="cosine", projection_dim=5)
    value = loss(make_features(tiny, ANCHORS), torch.randn(4, 5))
    value.backward()
    assert loss.projection.weight.grad is not None
    loss.save_projection(tmp_path / "projection.safetensors")
    other = EmbedDistillLoss(tiny, projection_dim=None)
    other.load_projection(tmp_path / "projection.safetensors")
    assert torch.equal(other.projection.weight, loss.projection.weight) and other.projection_dim == 5


@pytest.mark.parametrize(
    "make_loss, columns, labels",
    [
        (lambda m: MSELoss(m), [ANCHORS, POSITIVES], torch.randn(4, 2, 64)),
        (lambda m: EmbedDistillLoss(m, "l2"), [ANCHORS], torch.randn(4, 64)),
        (lambda m: MarginMSELoss(m), [ANCHORS, POSITIVES, NEGATIVES_1], torch.tensor([0.5, 0.4, 0.6, 0.3])),
        (lambda m: DistillKLDivLoss(m), [ANCHORS, POSITIVES, NEGATIVES_1, NEGATIVES_2], torch.tensor(KD)),
    ],
)
def test_trains_the_tiny_model(tiny, make_loss, columns, labels):
    value = make_loss(tiny)(make_features(tiny, *columns), labels)
    value.backward()
    assert torch.isfinite(value)
    assert tiny.transformer.embeddings.word_embeddings.weight.grad.abs().sum() > 0


def teacher_of(texts):
    """Teacher embeddings computed by whichever model the parity helper passes (both give the same)."""

    def compute(model):
        with torch.no_grad():
            if hasattr(model, "preprocess"):  # sentence-transformers returns inference tensors: clone them
                return model.encode(texts, convert_to_tensor=True).clone()
            return model.encode(texts)

    return compute


def teacher_per_column(*columns):
    return lambda model: torch.stack([teacher_of(c)(model) for c in columns], dim=1)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, ours, reference, columns, labels, other_labels, expected",
    [
        ("MSELoss", MSELoss, "MSELoss", [ANCHORS], teacher_of(POSITIVES), teacher_of(NEGATIVES_2), 0.00161093),
        (
            "MSELoss broadcast",
            MSELoss,
            "MSELoss",
            [ANCHORS, POSITIVES],
            teacher_of(POSITIVES),
            teacher_of(NEGATIVES_2),
            0.00080547,
        ),
        (
            "EmbedDistill cosine",
            EmbedDistillLoss,
            "EmbedDistillLoss",
            [ANCHORS, POSITIVES],
            teacher_per_column(POSITIVES, ANCHORS),
            teacher_per_column(ANCHORS, POSITIVES),
            0.30929899,
        ),
        (
            "EmbedDistill l2",
            lambda m: EmbedDistillLoss(m, "l2"),
            "EmbedDistillLoss:l2",
            [ANCHORS],
            teacher_of(POSITIVES),
            teacher_of(NEGATIVES_2),
            0.77269089,
        ),
        (
            "EmbedDistill mse per column",
            lambda m: EmbedDistillLoss(m, "mse"),
            "EmbedDistillLoss:mse",
            [ANCHORS, POSITIVES],
            teacher_per_column(NEGATIVES_1, NEGATIVES_2),
            teacher_per_column(POSITIVES, ANCHORS),
            None,
        ),
        (
            "MarginMSE",
            MarginMSELoss,
            "MarginMSELoss",
            [ANCHORS, POSITIVES, NEGATIVES_1],
            torch.tensor([0.5, 0.4, 0.6, 0.3]),
            torch.tensor([-0.5, 0.4, -0.6, 0.3]),
            0.16176911,
        ),
        (
            "MarginMSE scores",
            MarginMSELoss,
            "MarginMSELoss",
            [ANCHORS, POSITIVES, NEGATIVES_1, NEGATIVES_2],
            torch.tensor(KD),
            torch.tensor(KD).flip(1),
            0.13688476,
        ),
        (
            "DistillKLDiv T=1",
            DistillKLDivLoss,
            "DistillKLDivLoss",
            [ANCHORS, POSITIVES, NEGATIVES_1, NEGATIVES_2],
            torch.tensor(KD),
            torch.tensor(KD).flip(1),
            0.02082667,
        ),
        (
            "DistillKLDiv T=2",
            lambda m: DistillKLDivLoss(m, temperature=2.0),
            "DistillKLDivLoss:2.0",
            [ANCHORS, POSITIVES, NEGATIVES_1, NEGATIVES_2],
            torch.tensor(KD),
            torch.tensor(KD).flip(1),
            0.02071160,
        ),
    ],
)
def test_parity_with_sentence_transformers(
    minilm, st_model, name, ours, reference, columns, labels, other_labels, expected
):
    from sentence_transformers.sentence_transformer import losses as st_losses

    class_name, _, argument = reference.partition(":")
    if not argument:
        reference_loss = getattr(st_losses, class_name)(st_model)
    elif class_name == "DistillKLDivLoss":
        reference_loss = st_losses.DistillKLDivLoss(st_model, temperature=float(argument))
    else:
        reference_loss = getattr(st_losses, class_name)(st_model, distance_metric=argument)
    our_loss = ours(minilm)
    value = assert_parity(our_loss, reference_loss, minilm, st_model, columns, labels, expected=expected)
    assert our_loss.get_config_dict() == reference_loss.get_config_dict()
    assert our_loss.citation == reference_loss.citation
    # Negative control: other teacher targets give another value.
    other = our_loss(make_features(minilm, *columns), other_labels(minilm) if callable(other_labels) else other_labels)
    assert abs(other.item() - value) > 1e-4


@pytest.mark.slow
def test_runs_on_a_sentence_transformer(st_model):
    from sentence_transformers.sentence_transformer import losses as st_losses

    labels, columns = torch.tensor(KD), [ANCHORS, POSITIVES, NEGATIVES_1, NEGATIVES_2]
    ours = DistillKLDivLoss(st_model)(make_features(st_model, *columns), labels)
    reference = st_losses.DistillKLDivLoss(st_model)(make_features(st_model, *columns), labels)
    assert ours.item() == pytest.approx(reference.item(), abs=1e-6)
