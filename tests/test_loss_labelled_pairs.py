"""ContrastiveLoss, OnlineContrastiveLoss, SoftmaxLoss: explicit loops on 2-D points, parity, bad input."""

import math

import pytest
import torch
from batches import ANCHORS, NEGATIVES_1, POSITIVES, assert_parity, make_features

from lossbook.losses.base import LossInputError
from lossbook.losses.labelled_pairs import ContrastiveLoss, OnlineContrastiveLoss, SiameseDistanceMetric, SoftmaxLoss
from lossbook.teaching import unit

DTYPES = [torch.float32, torch.float64]

# The reference batch of REFERENCE-LOSSES.md §6: (anchor, positive) = 1 and (anchor, hard negative) = 0.
BIN_A, BIN_B, BIN_Y = ANCHORS + ANCHORS, POSITIVES + NEGATIVES_1, [1, 1, 1, 1, 0, 0, 0, 0]
NLI_Y = [0, 0, 0, 0, 2, 2, 1, 1]


def cosine_distance(p, q):
    dot = sum(x * y for x, y in zip(p, q))
    return 1 - dot / (math.sqrt(sum(x * x for x in p)) * math.sqrt(sum(y * y for y in q)))


def euclidean(p, q):
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(p, q)))


def manhattan(p, q):
    return sum(abs(x - y) for x, y in zip(p, q))


METRICS = {"COSINE_DISTANCE": cosine_distance, "EUCLIDEAN": euclidean, "MANHATTAN": manhattan}

# Pairs at known angles (some with length != 1 so the three metrics differ) and their 0/1 labels.
FIRST = [unit(0), unit(90, 2.0), unit(30), unit(200, 0.5), unit(45), unit(120)]
SECOND = [unit(20), unit(100), unit(210, 1.5), unit(190), unit(50), unit(300)]
LABELS = [1, 1, 0, 1, 0, 0]


def columns(dtype):
    return [torch.tensor(FIRST, dtype=dtype), torch.tensor(SECOND, dtype=dtype)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("metric", list(METRICS))
@pytest.mark.parametrize("size_average", [True, False])
def test_contrastive_matches_explicit_loop(dtype, metric, size_average):
    margin = 0.8
    terms = []
    for p, q, y in zip(FIRST, SECOND, LABELS):
        d = METRICS[metric](p, q)
        terms.append(0.5 * (y * d**2 + (1 - y) * max(0.0, margin - d) ** 2))
    expected = sum(terms) / len(terms) if size_average else sum(terms)
    loss = ContrastiveLoss(None, getattr(SiameseDistanceMetric, metric), margin=margin, size_average=size_average)
    value = loss.compute_loss_from_embeddings(columns(dtype), torch.tensor(LABELS))
    assert value.dtype == dtype
    # pairwise_distance adds 1e-6 to every coordinate difference, as in the reference.
    assert value.item() == pytest.approx(expected, abs=2e-5)


def online_loop(distances, labels, margin):
    positives = [d for d, y in zip(distances, labels) if y == 1]
    negatives = [d for d, y in zip(distances, labels) if y == 0]
    negative_threshold = max(positives) if positives else sum(negatives) / len(negatives)
    positive_threshold = min(negatives) if negatives else sum(positives) / len(positives)
    total = 0.0
    for d in positives:
        if d > positive_threshold:
            total += d**2
    for d in negatives:
        if d < negative_threshold:
            total += max(0.0, margin - d) ** 2
    return total


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("metric", list(METRICS))
@pytest.mark.parametrize("labels", [LABELS, [1] * 6, [0] * 6], ids=["mixed", "all-positive", "all-negative"])
def test_online_contrastive_matches_explicit_loop(dtype, metric, labels):
    margin = 1.5
    distances = [METRICS[metric](p, q) for p, q in zip(FIRST, SECOND)]
    loss = OnlineContrastiveLoss(None, getattr(SiameseDistanceMetric, metric), margin=margin)
    value = loss.compute_loss_from_embeddings(columns(dtype), torch.tensor(labels))
    assert value.dtype == dtype
    assert value.item() == pytest.approx(online_loop(distances, labels, margin), abs=2e-5)


def test_online_contrastive_is_zero_when_the_batch_is_separated():
    a = torch.tensor([unit(0), unit(0), unit(0), unit(0)])
    b = torch.tensor([unit(5), unit(10), unit(120), unit(150)])
    value = OnlineContrastiveLoss(None).compute_loss_from_embeddings([a, b], torch.tensor([1, 1, 0, 0]))
    assert value.item() == 0.0


def softmax_loop(features_per_row, weight, bias, labels):
    total = 0.0
    for features, label in zip(features_per_row, labels):
        logits = [sum(w * f for w, f in zip(row, features)) + b for row, b in zip(weight, bias)]
        log_norm = math.log(sum(math.exp(z) for z in logits))
        if isinstance(label, list):  # class probabilities
            total += -sum(q * (z - log_norm) for q, z in zip(label, logits))
        else:
            total += -(logits[label] - log_norm)
    return total / len(features_per_row)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "flags",
    [(True, True, False), (True, True, True), (False, True, True)],
    ids=["u-v-diff", "u-v-diff-mult", "diff-mult"],
)
@pytest.mark.parametrize("probabilities", [False, True], ids=["ids", "probabilities"])
def test_softmax_matches_explicit_loop(dtype, flags, probabilities):
    rep, difference, multiplication = flags
    loss = SoftmaxLoss(
        None,
        2,
        num_labels=3,
        concatenation_sent_rep=rep,
        concatenation_sent_difference=difference,
        concatenation_sent_multiplication=multiplication,
    ).to(dtype)
    width = loss.classifier.in_features
    weight = [[0.7 * math.sin(c * width + k) for k in range(width)] for c in range(3)]
    bias = [0.1, -0.2, 0.05]
    with torch.no_grad():
        loss.classifier.weight.copy_(torch.tensor(weight))
        loss.classifier.bias.copy_(torch.tensor(bias))
    features = []
    for u, v in zip(FIRST, SECOND):
        row = (u + v if rep else []) + ([abs(x - y) for x, y in zip(u, v)] if difference else [])
        features.append(row + ([x * y for x, y in zip(u, v)] if multiplication else []))
    class_ids = [0, 2, 1, 1, 0, 2]
    labels = (
        [[0.2, 0.5, 0.3], [1.0, 0.0, 0.0], [0.0, 0.1, 0.9], [1 / 3] * 3, [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]]
        if probabilities
        else class_ids
    )
    value = loss.compute_loss_from_embeddings(
        columns(dtype), torch.tensor(labels, dtype=dtype if probabilities else None)
    )
    assert value.dtype == dtype
    assert value.item() == pytest.approx(softmax_loop(features, weight, bias, labels), abs=1e-5)


def test_formats_config_and_citation():
    assert [f.key for f in ContrastiveLoss.formats] == [f.key for f in OnlineContrastiveLoss.formats] == ["pair-binary"]
    assert [f.key for f in SoftmaxLoss.formats] == ["pair-class"]
    assert ContrastiveLoss.commonly_used == ContrastiveLoss.formats and SoftmaxLoss.commonly_used == SoftmaxLoss.formats
    assert OnlineContrastiveLoss.commonly_used == ()
    assert ContrastiveLoss(None).get_config_dict() == {
        "distance_metric": "SiameseDistanceMetric.COSINE_DISTANCE",
        "margin": 0.5,
        "size_average": True,
    }
    assert OnlineContrastiveLoss(None, SiameseDistanceMetric.EUCLIDEAN, 1).get_config_dict() == {
        "distance_metric": "SiameseDistanceMetric.EUCLIDEAN",
        "margin": 1,
    }
    assert SoftmaxLoss(None, 4, 3).get_config_dict() == {
        "num_labels": 3,
        "concatenation_sent_rep": True,
        "concatenation_sent_difference": True,
        "concatenation_sent_multiplication": False,
    }
    assert "hadsell2006dimensionality" in ContrastiveLoss(None).citation
    assert OnlineContrastiveLoss(None).citation is None
    assert "1908.10084" in SoftmaxLoss(None, 4, 3).citation


def test_contrastive_bad_input_names_the_format():
    x = torch.randn(4, 3)
    for loss in (ContrastiveLoss(None), OnlineContrastiveLoss(None)):
        with pytest.raises(
            LossInputError,
            match=r"expects 2 input column.*1 if positive, 0 if negative.*got 3.*"
            r"triplets_to_binary_pairs",
        ):
            loss.compute_loss_from_embeddings([x, x, x], torch.ones(4))
        with pytest.raises(LossInputError, match=r"needs labels.*scored_pairs_to_binary_pairs"):
            loss.compute_loss_from_embeddings([x, x], None)
        with pytest.raises(LossInputError, match="expects 4 labels"):
            loss.compute_loss_from_embeddings([x, x], torch.ones(3))
        with pytest.raises(LossInputError, match=r"labels in \[0, 1\].*from -1 to 1.*Map -1/\+1 labels to 0/1"):
            loss.compute_loss_from_embeddings([x, x], torch.tensor([1, -1, 1, -1]))
    with pytest.warns(UserWarning, match="weight the positive term"):
        ContrastiveLoss(None).compute_loss_from_embeddings([x, x], torch.tensor([1, 0.5, 0, 0]))
    with pytest.warns(UserWarning, match="ignored"):
        OnlineContrastiveLoss(None).compute_loss_from_embeddings([x, x], torch.tensor([1, 0.5, 0, 0]))


def test_softmax_bad_input_names_the_format():
    x = torch.randn(4, 3)
    loss = SoftmaxLoss(None, 3, num_labels=3)
    with pytest.raises(LossInputError, match=r"expects 2 input column.*pairs \+ class.*got 1"):
        loss.compute_loss_from_embeddings([x], torch.tensor([0, 1, 2, 0]))
    with pytest.raises(LossInputError, match=r"needs labels.*loss.predict"):
        loss.compute_loss_from_embeddings([x, x], None)
    with pytest.raises(LossInputError, match=r"integer class ids.*'pair-class'.*torch.float32.*labels.long\(\)"):
        loss.compute_loss_from_embeddings([x, x], torch.tensor([0.0, 1.0, 2.0, 0.0]))
    with pytest.raises(LossInputError, match=r"num_labels=3, so class ids must be 0..2, but got ids from 0 to 3"):
        loss.compute_loss_from_embeddings([x, x], torch.tensor([0, 1, 3, 0]))
    with pytest.raises(LossInputError, match="class ids must be 0..2"):
        loss.compute_loss_from_embeddings([x, x], torch.tensor([0, -1, 2, 0]))
    with pytest.raises(LossInputError, match="expects 4 class ids"):
        loss.compute_loss_from_embeddings([x, x], torch.tensor([0, 1, 2]))
    with pytest.raises(LossInputError, match="not non-negative rows summing to 1"):
        loss.compute_loss_from_embeddings([x, x], torch.full((4, 3), 0.5))
    with pytest.raises(LossInputError, match="built for 3-dimensional embeddings but got 5"):
        loss.compute_loss_from_embeddings([torch.randn(4, 5)] * 2, torch.tensor([0, 1, 2, 0]))
    with pytest.raises(ValueError, match="at least one of concatenation_sent_rep"):
        SoftmaxLoss(None, 3, 3, concatenation_sent_rep=False, concatenation_sent_difference=False)
    # CrossEntropyLoss's ignore_index (-100) marks rows to skip, not a bad id.
    assert torch.isfinite(loss.compute_loss_from_embeddings([x, x], torch.tensor([0, -100, 2, 0])))


def test_softmax_deprecated_dimension_name_and_predict(tiny):
    with pytest.warns(DeprecationWarning, match="'sentence_embedding_dimension' is deprecated"):
        loss = SoftmaxLoss(tiny, sentence_embedding_dimension=64, num_labels=3)
    assert loss.classifier.in_features == 3 * 64
    with pytest.raises(TypeError, match="not both"):
        SoftmaxLoss(tiny, embedding_dimension=64, sentence_embedding_dimension=64, num_labels=3)
    with pytest.raises(LossInputError, match=r"needs labels.*predict"):
        loss(make_features(tiny, BIN_A[:2], BIN_B[:2]), None)
    embeddings, logits = loss.predict(make_features(tiny, BIN_A[:2], BIN_B[:2]))
    assert len(embeddings) == 2 and logits.shape == (2, 3)


def test_trains_the_tiny_model(tiny):
    softmax = SoftmaxLoss(tiny, 64, num_labels=3)
    for loss, labels in [(ContrastiveLoss(tiny), BIN_Y), (OnlineContrastiveLoss(tiny), BIN_Y), (softmax, NLI_Y)]:
        tiny.zero_grad(set_to_none=True)
        value = loss(make_features(tiny, BIN_A, BIN_B), torch.tensor(labels))
        value.backward()
        assert torch.isfinite(value)
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in tiny.parameters())
    # The head is a parameter of the loss (trained with it), not of the model.
    assert softmax.classifier.weight.grad is not None and softmax.classifier.weight.grad.abs().sum() > 0
    assert not any(p is softmax.classifier.weight for p in tiny.parameters())


@pytest.mark.slow
@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({}, 0.03131264),  # REFERENCE-LOSSES.md §6: cosine distance, margin 0.5
        ({"distance_metric": "EUCLIDEAN", "margin": 1.0}, 0.15985553),  # §6: Euclidean, margin 1
    ],
)
def test_contrastive_parity_with_sentence_transformers(minilm, st_model, kwargs, expected):
    from sentence_transformers.sentence_transformer import losses as st_losses

    ours_kwargs, reference_kwargs = dict(kwargs), dict(kwargs)
    if "distance_metric" in kwargs:
        ours_kwargs["distance_metric"] = getattr(SiameseDistanceMetric, kwargs["distance_metric"])
        reference_kwargs["distance_metric"] = getattr(st_losses.SiameseDistanceMetric, kwargs["distance_metric"])
    reference = st_losses.ContrastiveLoss(st_model, **reference_kwargs)
    ours = assert_parity(
        ContrastiveLoss(minilm, **ours_kwargs),
        reference,
        minilm,
        st_model,
        [BIN_A, BIN_B],
        torch.tensor(BIN_Y),
        expected=expected,
    )
    assert ContrastiveLoss(minilm, **ours_kwargs).get_config_dict() == reference.get_config_dict()
    # Negative control: flipped labels.
    other = ContrastiveLoss(minilm, **ours_kwargs)(make_features(minilm, BIN_A, BIN_B), 1 - torch.tensor(BIN_Y))
    assert abs(other.item() - ours) > 1e-3


@pytest.mark.slow
def test_online_contrastive_parity_with_sentence_transformers(minilm, st_model):
    from sentence_transformers.sentence_transformer import losses as st_losses

    reference = st_losses.OnlineContrastiveLoss(st_model)
    ours = assert_parity(
        OnlineContrastiveLoss(minilm),
        reference,
        minilm,
        st_model,
        [BIN_A, BIN_B],
        torch.tensor(BIN_Y),
        expected=0.42228749,
    )  # REFERENCE-LOSSES.md §6
    assert OnlineContrastiveLoss(minilm).get_config_dict() == reference.get_config_dict()
    other = OnlineContrastiveLoss(minilm)(make_features(minilm, BIN_A, BIN_B), 1 - torch.tensor(BIN_Y))
    assert abs(other.item() - ours) > 1e-3


@pytest.mark.slow
def test_softmax_parity_with_sentence_transformers(minilm, st_model):
    from sentence_transformers.sentence_transformer import losses as st_losses

    def deterministic_head(loss):  # the head of REFERENCE-LOSSES.md §6
        with torch.no_grad():
            loss.classifier.weight.copy_(torch.sin(torch.arange(3 * 1152.0)).view(3, 1152) * 0.05)
            loss.classifier.bias.zero_()
        return loss

    ours_loss = deterministic_head(SoftmaxLoss(minilm, 384, num_labels=3))
    reference = deterministic_head(st_losses.SoftmaxLoss(st_model, 384, num_labels=3))
    ours = assert_parity(
        ours_loss, reference, minilm, st_model, [BIN_A, BIN_B], torch.tensor(NLI_Y), expected=1.10497916
    )  # REFERENCE-LOSSES.md §6
    head_difference = (ours_loss.classifier.weight.grad - reference.classifier.weight.grad).abs().max().item()
    assert head_difference <= 1e-5
    assert ours_loss.get_config_dict() == reference.get_config_dict()
    other = ours_loss(make_features(minilm, BIN_A, BIN_B), torch.tensor(NLI_Y[::-1]))
    assert abs(other.item() - ours) > 1e-3
