"""MatryoshkaLoss, AdaptiveLayerLoss, Matryoshka2dLoss: explicit loops, every inner-loss path, parity, bad input."""

import copy
import logging
import math
import random
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from batches import ANCHORS, NEGATIVES_1, NEGATIVES_2, POSITIVES, STS_A, STS_B, STS_SCORES, assert_parity, make_features
from torch import nn

from lossbook.losses.adaptive_layer import AdaptiveLayerLoss, Matryoshka2dLoss
from lossbook.losses.base import EmbeddingPath
from lossbook.losses.cached_ranking import CachedMultipleNegativesRankingLoss
from lossbook.losses.denoising import DenoisingAutoEncoderLoss
from lossbook.losses.distillation import MSELoss
from lossbook.losses.modifiers import MatryoshkaLoss
from lossbook.losses.ranking import MultipleNegativesRankingLoss
from lossbook.losses.scored_pairs import CoSENTLoss, CosineSimilarityLoss
from lossbook.losses.unsupervised import ContrastiveTensionLoss

COLUMN_A = [[1.0, 2.0, -1.0], [0.5, -0.5, 2.0], [-1.0, 0.2, 0.3]]
COLUMN_B = [[2.0, -1.0, 0.5], [0.4, -0.1, 1.5], [1.0, 1.0, 1.0]]
SCORES = [0.9, 0.3, 0.1]


def normalized_prefix(vector, dim):
    prefix = vector[:dim]
    length = math.sqrt(sum(x * x for x in prefix))
    return [x / length for x in prefix]


def cosine_loss(column_a, column_b, scores):
    """CosineSimilarityLoss by hand: mean squared error between cos(a_i, b_i) and the score."""
    total = 0.0
    for a, b, s in zip(column_a, column_b, scores):
        cos = sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))
        total += (cos - s) ** 2
    return total / len(scores)


class PlainCosineLoss(nn.Module):
    """A loss that is not a lossbook loss: it can only call model(features), as a user's own loss would."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, sentence_features, labels):
        a, b = (self.model(f)["sentence_embedding"] for f in sentence_features)
        return ((F.cosine_similarity(a, b) - labels.to(a.dtype)) ** 2).mean()


class LayeredPoints(nn.Module):
    """A stand-in model whose hidden states are fixed points: one token per row, row ids in ``input_ids``.

    ``points[l][r]`` is hidden state ``l`` (0 = embedding layer) of row ``r``; pooling is normalisation.
    """

    def __init__(self, points, dtype):
        super().__init__()
        self.points = nn.Parameter(torch.tensor(points, dtype=dtype))

    def pool(self, hidden, attention_mask):
        return F.normalize(hidden[:, 0], p=2, dim=-1)

    def forward(self, features, *, output_all_layers=False):
        rows = features["input_ids"][:, 0]
        hidden = [self.points[layer, rows].unsqueeze(1) for layer in range(self.points.shape[0])]
        features["attention_mask"] = torch.ones(len(rows), 1)
        features["token_embeddings"] = hidden[-1]
        features["sentence_embedding"] = self.pool(hidden[-1], None)
        if output_all_layers:
            features["all_layer_embeddings"] = hidden
            features["layer_sentence_embeddings"] = [self.pool(h, None) for h in hidden[1:]]
        return features


def rows(*ids):
    return {"input_ids": torch.tensor([[i] for i in ids])}


# Three hidden states (embedding layer + 2 transformer layers) for 6 rows: rows 0-2 column A, 3-5 column B.
LAYER_POINTS = [
    [[1.0, 0.2, 0.0], [0.0, 1.0, 0.5], [0.3, 0.3, 1.0], [0.9, 0.1, 0.2], [0.2, 0.8, 0.1], [1.0, 0.0, 1.0]],
    [[0.5, 0.5, 0.1], [0.1, 0.9, 0.9], [0.7, 0.2, 0.4], [0.4, 0.6, 0.0], [0.8, 0.3, 0.3], [0.2, 0.2, 0.9]],
    [[0.9, 0.4, 0.2], [0.3, 0.7, 0.2], [0.1, 0.4, 0.8], [1.0, 0.3, 0.1], [0.1, 0.9, 0.4], [0.6, 0.1, 0.7]],
]


def softmax(values, temperature):
    exps = [math.exp(v / temperature) for v in values]
    return [e / sum(exps) for e in exps]


def adaptive_by_hand(layer_weighting, temperature, weights=(1.0, 1.0, 1.0)):
    """AdaptiveLayerLoss(CosineSimilarityLoss) on LAYER_POINTS, all prior layers, by explicit loops."""
    last_w, prior_w, kl_w = weights
    pooled = [[normalized_prefix(p, 3) for p in layer] for layer in LAYER_POINTS]
    final = pooled[-1]
    total = last_w * cosine_loss(final[:3], final[3:], SCORES)
    prior = [0, 1]
    for layer in prior:
        omega = {"uniform": 1.0, "log": 1 / (1 + math.log(1 + layer)), "linear": 1 / (1 + layer)}[layer_weighting]
        total += prior_w * omega / len(prior) * cosine_loss(pooled[layer][:3], pooled[layer][3:], SCORES)
        if temperature > 0:
            kl = 0.0
            for teacher_row, student_row in zip(final, pooled[layer]):  # rows: column A then column B
                p, q = softmax(teacher_row, temperature), softmax(student_row, temperature)
                kl += sum(pk * (math.log(pk) - math.log(qk)) for pk, qk in zip(p, q))
            total += kl_w * temperature * kl / len(final)
    return total


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_matryoshka_matches_explicit_loop_with_unsorted_dims(dtype):
    dims, weights = [1, 3, 2], [0.25, 1.0, 0.5]  # any order: sorted together with their weights
    expected = sum(
        w
        * cosine_loss([normalized_prefix(a, d) for a in COLUMN_A], [normalized_prefix(b, d) for b in COLUMN_B], SCORES)
        for d, w in zip(dims, weights)
    )
    loss = MatryoshkaLoss(nn.Linear(1, 1), CosineSimilarityLoss(None), dims, weights)
    assert loss.matryoshka_dims == (3, 2, 1) and loss.matryoshka_weights == (1.0, 0.5, 0.25)
    value = loss.compute_loss_from_embeddings(
        [torch.tensor(COLUMN_A, dtype=dtype), torch.tensor(COLUMN_B, dtype=dtype)], torch.tensor(SCORES)
    )
    assert value.dtype == dtype and value.item() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_matryoshka_cuts_teacher_embeddings_without_renormalising(dtype):
    model = LayeredPoints([COLUMN_A], dtype)  # its dimension (3) tells which labels are teacher embeddings
    model.get_embedding_dimension = lambda: 3
    teacher = COLUMN_B
    expected = sum(
        sum((x - y) ** 2 for x, y in zip(normalized_prefix(s, d), t[:d])) / (3 * d)
        for d in (3, 2)
        for s, t in zip(COLUMN_A, teacher)
    )
    value = MatryoshkaLoss(model, MSELoss(model), [2, 3])([rows(0, 1, 2)], torch.tensor(teacher, dtype=dtype))
    assert value.item() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(
    "layer_weighting, temperature, weights",
    [
        ("uniform", 0.3, (1.0, 1.0, 1.0)),
        ("log", 0.3, (0.5, 2.0, 3.0)),
        ("linear", 1.0, (1.0, 1.0, 1.0)),
        ("uniform", 0.0, (1.0, 1.0, 1.0)),
    ],
)
def test_adaptive_layer_matches_explicit_loop(dtype, layer_weighting, temperature, weights):
    model = LayeredPoints(LAYER_POINTS, dtype)
    expected = adaptive_by_hand(layer_weighting, temperature, weights)
    for inner in (CosineSimilarityLoss(model), PlainCosineLoss(model)):  # embeddings path and model.forward path
        loss = AdaptiveLayerLoss(
            model,
            inner,
            n_layers_per_step=-1,
            last_layer_weight=weights[0],
            prior_layers_weight=weights[1],
            kl_div_weight=weights[2],
            kl_temperature=temperature,
            layer_weighting=layer_weighting,
        )
        value = loss([rows(0, 1, 2), rows(3, 4, 5)], torch.tensor(SCORES))
        assert value.dtype == dtype and value.item() == pytest.approx(expected, abs=1e-6), type(inner).__name__
        assert "forward" not in vars(model)  # the model's own forward is back


def test_matryoshka_generic_inner_loss_equals_the_embedding_path():
    model = LayeredPoints(LAYER_POINTS, torch.float64)
    model.get_embedding_dimension = lambda: 3
    columns, labels = [rows(0, 1, 2), rows(3, 4, 5)], torch.tensor(SCORES)
    ours = MatryoshkaLoss(model, CosineSimilarityLoss(model), [3, 2, 1], [1, 2, 3])(columns, labels)
    generic = MatryoshkaLoss(model, PlainCosineLoss(model), [3, 2, 1], [1, 2, 3])
    assert generic.embedding_path is EmbeddingPath.OWN_FORWARD  # a modifier around it goes through model.forward too
    assert generic(columns, labels).item() == pytest.approx(ours.item(), abs=1e-12)
    # Matryoshka2d = AdaptiveLayer(Matryoshka): both paths agree there too.
    values = [
        Matryoshka2dLoss(model, inner, [3, 2], n_layers_per_step=-1, n_dims_per_step=-1)(columns, labels).item()
        for inner in (CosineSimilarityLoss(model), PlainCosineLoss(model))
    ]
    assert values[0] == pytest.approx(values[1], abs=1e-12)


def test_model_forward_is_restored_when_the_inner_loss_fails():
    model = LayeredPoints(LAYER_POINTS, torch.float32)
    model.get_embedding_dimension = lambda: 3

    class Failing(PlainCosineLoss):
        def forward(self, sentence_features, labels):
            super().forward(sentence_features, labels)
            raise RuntimeError("boom")

    for loss in (MatryoshkaLoss(model, Failing(model), [3, 2]), AdaptiveLayerLoss(model, Failing(model))):
        with pytest.raises(RuntimeError, match="boom"):
            loss([rows(0, 1, 2), rows(3, 4, 5)], torch.tensor(SCORES))
        assert "forward" not in vars(model)


def grads_of(model, loss, columns, labels=None):
    model.zero_grad(set_to_none=True)
    value = loss(make_features(model, *columns), labels)
    value.backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    return value.item(), grads


def test_matryoshka_over_a_cached_loss_equals_over_the_plain_loss(tiny):
    columns = [ANCHORS, POSITIVES, NEGATIVES_1]
    plain = grads_of(tiny, MatryoshkaLoss(tiny, MultipleNegativesRankingLoss(tiny), [64, 32, 16], [1, 0.5, 2]), columns)
    cached_loss = MatryoshkaLoss(
        tiny, CachedMultipleNegativesRankingLoss(tiny, mini_batch_size=3), [16, 64, 32], [2, 1, 0.5]
    )
    assert cached_loss.embedding_path is EmbeddingPath.GRADIENT_CACHE  # declared from the loss it wraps
    cached = grads_of(tiny, cached_loss, columns)
    assert cached[0] == pytest.approx(plain[0], abs=1e-5)
    assert plain[1].keys() == cached[1].keys()
    assert (
        max((plain[1][k] - cached[1][k]).abs().max().item() for k in plain[1]) <= 1e-4
    )  # float32 rounding (grads up to ~10)
    with torch.no_grad():  # evaluation: no replay, same value
        assert cached_loss(make_features(tiny, *columns), None).item() == pytest.approx(plain[0], abs=1e-5)


def test_adaptive_layer_reads_the_embedding_layer_and_all_prior_layers(tiny):
    """On the tiny model: the last layer, then hidden states 0 (embeddings) and 1, pooled like the model pools."""
    columns = [ANCHORS, POSITIVES]
    inner = MultipleNegativesRankingLoss(tiny)
    value = AdaptiveLayerLoss(tiny, inner, n_layers_per_step=-1)(make_features(tiny, *columns), None)
    outputs = [tiny(f, output_all_layers=True) for f in make_features(tiny, *columns)]
    final = [o["sentence_embedding"] for o in outputs]
    layers = [
        [tiny.pool(o["all_layer_embeddings"][0], o["attention_mask"]) for o in outputs],
        [o["layer_sentence_embeddings"][0] for o in outputs],
    ]
    teacher = F.softmax(torch.cat(final) / 0.3, dim=-1)
    expected = inner.compute_loss_from_embeddings(final, None)
    for layer in layers:
        expected = expected + inner.compute_loss_from_embeddings(layer, None) / 2
        expected = (
            expected + F.kl_div(F.log_softmax(torch.cat(layer) / 0.3, dim=-1), teacher, reduction="batchmean") * 0.3
        )
    assert value.item() == pytest.approx(expected.item(), abs=1e-5)


def test_adaptive_layer_samples_layers_with_python_random(tiny):
    loss = AdaptiveLayerLoss(tiny, MultipleNegativesRankingLoss(tiny), n_layers_per_step=1)
    random.seed(3)
    first = loss(make_features(tiny, ANCHORS, POSITIVES), None).item()
    random.seed(3)
    assert loss(make_features(tiny, ANCHORS, POSITIVES), None).item() == first
    assert loss.sampled_layers(6) != list(range(6)) and len(loss.sampled_layers(6)) == 1


def test_adaptive_layer_over_a_cached_loss_warns_and_equals_the_plain_loss(tiny):
    columns = [ANCHORS, POSITIVES]
    plain = grads_of(tiny, AdaptiveLayerLoss(tiny, MultipleNegativesRankingLoss(tiny), n_layers_per_step=-1), columns)
    with pytest.warns(UserWarning, match="GradCache's memory saving does not apply"):
        cached_loss = AdaptiveLayerLoss(
            tiny, CachedMultipleNegativesRankingLoss(tiny, mini_batch_size=2), n_layers_per_step=-1
        )
    cached = grads_of(tiny, cached_loss, columns)
    assert cached[0] == pytest.approx(plain[0], abs=1e-6)
    assert max((plain[1][k] - cached[1][k]).abs().max().item() for k in plain[1]) <= 1e-4


def test_adaptive_layer_wraps_losses_that_need_tokens(tiny):
    ct = [ANCHORS, [ANCHORS[0], POSITIVES[1], ANCHORS[2], NEGATIVES_1[3]]]
    for inner, columns in (
        (ContrastiveTensionLoss(tiny), ct),
        (DenoisingAutoEncoderLoss(tiny), [NEGATIVES_2, ANCHORS]),
    ):
        tiny.zero_grad()
        value = AdaptiveLayerLoss(tiny, inner, n_layers_per_step=-1)(make_features(tiny, *columns), None)
        value.backward()
        assert torch.isfinite(value) and tiny.transformer.encoder.layer[0].output.dense.weight.grad.abs().sum() > 0
        assert "forward" not in vars(tiny)


@pytest.mark.parametrize(
    "make_loss",
    [
        lambda m: MatryoshkaLoss(m, MultipleNegativesRankingLoss(m), [64, 32, 16]),
        lambda m: MatryoshkaLoss(m, MultipleNegativesRankingLoss(m), [64, 32, 16], n_dims_per_step=1),
        lambda m: AdaptiveLayerLoss(m, MultipleNegativesRankingLoss(m)),
        lambda m: Matryoshka2dLoss(m, MultipleNegativesRankingLoss(m), [64, 32, 16]),
    ],
)
def test_trains_the_tiny_model(tiny, make_loss):
    value = make_loss(tiny)(make_features(tiny, ANCHORS, POSITIVES, NEGATIVES_1), None)
    value.backward()
    assert torch.isfinite(value)
    assert tiny.transformer.embeddings.word_embeddings.weight.grad.abs().sum() > 0


def test_bad_input(tiny, caplog):
    inner = MultipleNegativesRankingLoss(tiny)
    with pytest.raises(ValueError, match=r"\[128\] exceed the model's embedding dimension \(64\)"):
        MatryoshkaLoss(tiny, inner, [128, 64])
    with pytest.raises(ValueError, match="at least one dimension"):
        MatryoshkaLoss(tiny, inner, [])
    with pytest.raises(ValueError, match="positive int"):
        MatryoshkaLoss(tiny, inner, [64, 0])
    with pytest.raises(ValueError, match="matryoshka_weights has 1 entries but matryoshka_dims has 2"):
        MatryoshkaLoss(tiny, inner, [64, 32], [1.0])
    with pytest.raises(TypeError, match="cannot truncate the embeddings of ContrastiveTensionLoss.*Matryoshka2dLoss"):
        MatryoshkaLoss(tiny, ContrastiveTensionLoss(tiny), [64, 32])
    with caplog.at_level(logging.WARNING, logger="lossbook.losses.modifiers"):
        MatryoshkaLoss(tiny, inner, [32, 16])
    assert "do not include the model's full dimension 64" in caplog.text
    with pytest.raises(ValueError, match="layer_weighting must be"):
        AdaptiveLayerLoss(tiny, inner, layer_weighting="cubic")
    with pytest.raises(ValueError, match="kl_temperature must be >= 0"):
        AdaptiveLayerLoss(tiny, inner, kl_temperature=-1.0)
    with pytest.raises(TypeError, match="needs a model whose layers it can read"):
        AdaptiveLayerLoss(nn.Linear(2, 2), inner)
    with pytest.raises(TypeError, match="needs every layer's embeddings"):
        AdaptiveLayerLoss(tiny, inner).compute_loss_from_embeddings([torch.randn(2, 64)], None)
    # Errors of the inner loss come through unchanged (here: a single column for an in-batch loss).
    with pytest.raises(ValueError, match="MultipleNegativesRankingLoss"):
        MatryoshkaLoss(tiny, inner, [64, 32])(make_features(tiny, ANCHORS), None)


# -- parity with sentence-transformers (slow) ----------------------------------------------------------------


def teacher_of(texts):
    def compute(model):
        with torch.no_grad():
            if hasattr(model, "preprocess"):
                return model.encode(texts, convert_to_tensor=True).clone()
            return model.encode(texts)

    return compute


DIMS = [384, 256, 128, 64]
TRIPLETS = [ANCHORS, POSITIVES, NEGATIVES_1]
OTHER_TRIPLETS = [ANCHORS, NEGATIVES_1, POSITIVES]


def st():
    from sentence_transformers.sentence_transformer import losses

    return losses


OURS = SimpleNamespace(
    MatryoshkaLoss=MatryoshkaLoss,
    AdaptiveLayerLoss=AdaptiveLayerLoss,
    Matryoshka2dLoss=Matryoshka2dLoss,
    MultipleNegativesRankingLoss=MultipleNegativesRankingLoss,
    CoSENTLoss=CoSENTLoss,
    MSELoss=MSELoss,
    CachedMultipleNegativesRankingLoss=CachedMultipleNegativesRankingLoss,
)
DATA = {  # columns, labels, other columns for the negative control
    "triplets": (TRIPLETS, None, OTHER_TRIPLETS),
    "sts": ([STS_A, STS_B], torch.tensor(STS_SCORES), [STS_A, STS_B[::-1]]),
    "teacher": ([ANCHORS], teacher_of(POSITIVES), [NEGATIVES_2]),
}
ALL = {"n_layers_per_step": -1}
# modifier, (inner loss, its kwargs), modifier args, modifier kwargs, data, REFERENCE-LOSSES.md §6 value
PARITY_CASES = [
    ("MatryoshkaLoss", ("MultipleNegativesRankingLoss", {}), (DIMS,), {}, "triplets", 6.04697466),
    (
        "MatryoshkaLoss",
        ("CachedMultipleNegativesRankingLoss", {"mini_batch_size": 2}),
        (DIMS,),
        {},
        "triplets",
        6.04697275,
    ),
    ("MatryoshkaLoss", ("MultipleNegativesRankingLoss", {}), (DIMS, [1, 0.5, 0.25, 0.125]), {}, "triplets", 2.41624331),
    ("MatryoshkaLoss", ("CoSENTLoss", {}), (DIMS,), {}, "sts", 8.23950863),
    ("MatryoshkaLoss", ("MSELoss", {}), (DIMS,), {}, "teacher", 0.01740007),
    ("AdaptiveLayerLoss", ("MultipleNegativesRankingLoss", {}), (), ALL, "triplets", 4.04449224),
    (
        "AdaptiveLayerLoss",
        ("MultipleNegativesRankingLoss", {}),
        (),
        {**ALL, "kl_temperature": 0.0},
        "triplets",
        4.00555277,
    ),
    (
        "AdaptiveLayerLoss",
        ("CoSENTLoss", {}),
        (),
        {**ALL, "layer_weighting": "log", "last_layer_weight": 2.0, "kl_div_weight": 0.5},
        "sts",
        None,
    ),
    (
        "Matryoshka2dLoss",
        ("MultipleNegativesRankingLoss", {}),
        (DIMS,),
        {**ALL, "n_dims_per_step": -1},
        "triplets",
        17.80310822,
    ),
]


def build(losses, model, modifier, inner, args, kwargs):
    """The same modifier over the same inner loss, from lossbook (OURS) or from sentence-transformers."""
    inner_name, inner_kwargs = inner
    return getattr(losses, modifier)(model, getattr(losses, inner_name)(model, **inner_kwargs), *args, **kwargs)


@pytest.mark.slow
@pytest.mark.parametrize(
    "modifier, inner, args, kwargs, data, expected",
    PARITY_CASES,
    ids=[f"{c[0]}({c[1][0]})-{c[5]}" for c in PARITY_CASES],
)
def test_parity_with_sentence_transformers(minilm, st_model, modifier, inner, args, kwargs, data, expected):
    columns, labels, other_columns = DATA[data]
    ours = build(OURS, minilm, modifier, inner, args, kwargs)
    reference = build(st(), st_model, modifier, inner, args, kwargs)
    value = assert_parity(ours, reference, minilm, st_model, columns, labels, expected=expected)
    assert ours.get_config_dict() == reference.get_config_dict() and ours.citation == reference.citation
    # Negative control: other data give another value.
    other_labels = labels(minilm) if callable(labels) else labels
    assert abs(ours(make_features(minilm, *other_columns), other_labels).item() - value) > 1e-3


@pytest.mark.slow
def test_matryoshka_cached_equals_plain_on_the_real_model(minilm):
    plain = grads_of(minilm, MatryoshkaLoss(minilm, MultipleNegativesRankingLoss(minilm), DIMS), TRIPLETS)
    cached_inner = CachedMultipleNegativesRankingLoss(minilm, mini_batch_size=2)
    cached = grads_of(minilm, MatryoshkaLoss(minilm, cached_inner, DIMS), TRIPLETS)
    assert abs(plain[0] - 6.04697466) <= 1e-5 and abs(cached[0] - plain[0]) <= 1e-5
    assert max((plain[1][k] - cached[1][k]).abs().max().item() for k in plain[1]) <= 1e-4


@pytest.mark.slow
def test_random_sampling_matches_sentence_transformers_under_the_same_seed(minilm, st_model):
    """Defaults of Matryoshka2dLoss: one random prior layer and one random dim per call, drawn as the reference
    draws."""
    ours = Matryoshka2dLoss(minilm, MultipleNegativesRankingLoss(minilm), DIMS)
    reference = st().Matryoshka2dLoss(st_model, st().MultipleNegativesRankingLoss(st_model), DIMS)
    for seed in (0, 1, 2):
        random.seed(seed)
        our_value = ours(make_features(minilm, *TRIPLETS), None).item()
        random.seed(seed)
        reference_value = reference(make_features(st_model, *TRIPLETS), None).item()
        assert our_value == pytest.approx(reference_value, abs=1e-5)


@pytest.mark.slow
def test_adaptive_layer_parity_on_the_tiny_model(tiny, tmp_path):
    """The same 2-layer random BERT through lossbook and through sentence-transformers."""
    from sentence_transformers import SentenceTransformer

    tiny.save(tmp_path / "tiny")
    reference_model = SentenceTransformer(str(tmp_path / "tiny"), device="cpu").eval()
    for kl_temperature in (0.3, 0.0):
        ours = AdaptiveLayerLoss(
            tiny, MultipleNegativesRankingLoss(tiny), n_layers_per_step=-1, kl_temperature=kl_temperature
        )
        reference = st().AdaptiveLayerLoss(
            reference_model,
            st().MultipleNegativesRankingLoss(reference_model),
            n_layers_per_step=-1,
            kl_temperature=kl_temperature,
        )
        value = assert_parity(ours, reference, tiny, reference_model, TRIPLETS)
        assert abs(ours(make_features(tiny, *OTHER_TRIPLETS), None).item() - value) > 1e-4


@pytest.mark.slow
def test_runs_on_a_sentence_transformer(st_model):
    """Our modifiers with a SentenceTransformer as the model: same values as the reference's."""
    model = copy.deepcopy(st_model)
    cases = [
        (
            AdaptiveLayerLoss(model, MultipleNegativesRankingLoss(model), n_layers_per_step=-1),
            st().AdaptiveLayerLoss(model, st().MultipleNegativesRankingLoss(model), n_layers_per_step=-1),
            4.04449224,
        ),
        (
            AdaptiveLayerLoss(model, ContrastiveTensionLoss(model), n_layers_per_step=-1),  # through model.forward
            st().AdaptiveLayerLoss(model, st().ContrastiveTensionLoss(model), n_layers_per_step=-1),
            None,
        ),
        (
            MatryoshkaLoss(model, MultipleNegativesRankingLoss(model), DIMS),
            st().MatryoshkaLoss(model, st().MultipleNegativesRankingLoss(model), DIMS),
            6.04697466,
        ),
    ]
    for ours, reference, expected in cases:
        columns = TRIPLETS if expected else [ANCHORS, [ANCHORS[0], POSITIVES[1], ANCHORS[2], NEGATIVES_1[3]]]
        our_value = ours(make_features(model, *columns), None).item()
        assert our_value == pytest.approx(reference(make_features(model, *columns), None).item(), abs=1e-5)
        if expected is not None:
            assert our_value == pytest.approx(expected, abs=1e-5)
