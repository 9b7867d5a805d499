"""The GradCache engine and the cached losses: same value and gradients as uncached, dropout replay, protocol."""

import warnings

import pytest
import torch
import torch.nn.functional as F
from batches import ANCHORS, NEGATIVES_1, NEGATIVES_2, POSITIVES, assert_parity, encoder_gradients, make_features

from lossbook.losses.base import EmbeddingPath, LossInputError
from lossbook.losses.cached import CachedEmbeddingLoss, minibatch_ranges, slice_features
from lossbook.losses.cached_ranking import (
    CachedMultipleNegativesRankingLoss,
    CachedMultipleNegativesSymmetricRankingLoss,
)
from lossbook.losses.gist import CachedGISTEmbedLoss, GISTEmbedLoss
from lossbook.losses.mega_batch import MegaBatchMarginLoss
from lossbook.losses.ranking import MultipleNegativesRankingLoss

ALL_DIRECTIONS = ("query_to_doc", "query_to_query", "doc_to_query", "doc_to_doc")
TRIPLETS = [ANCHORS, POSITIVES, NEGATIVES_1]


@pytest.fixture(autouse=True)
def _one_thread():
    """The tiny model's ops are too small to gain from threads; on a shared CPU a second thread only waits."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def cmnsrl(model, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return CachedMultipleNegativesSymmetricRankingLoss(model, **kwargs)


# (cached loss factory, uncached twin factory, columns)
PAIRS_OF_LOSSES = {
    "cmnrl": (
        lambda m, n: CachedMultipleNegativesRankingLoss(m, mini_batch_size=n),
        MultipleNegativesRankingLoss,
        TRIPLETS,
    ),
    "cmnrl-gte-hardness": (
        lambda m, n: CachedMultipleNegativesRankingLoss(
            m,
            scale=10.0,
            mini_batch_size=n,
            directions=ALL_DIRECTIONS,
            hardness_mode="all_negatives",
            hardness_strength=5.0,
        ),
        lambda m: MultipleNegativesRankingLoss(
            m, scale=10.0, directions=ALL_DIRECTIONS, hardness_mode="all_negatives", hardness_strength=5.0
        ),
        [ANCHORS, POSITIVES, NEGATIVES_1, NEGATIVES_2],
    ),
    "cmnsrl": (
        lambda m, n: cmnsrl(m, mini_batch_size=n),
        lambda m: MultipleNegativesRankingLoss(
            m, directions=("query_to_doc", "doc_to_query"), partition_mode="per_direction"
        ),
        TRIPLETS,
    ),
    "cached-gist": (
        lambda m, n: CachedGISTEmbedLoss(m, m, temperature=0.05, mini_batch_size=n),
        lambda m: GISTEmbedLoss(m, m, temperature=0.05),
        TRIPLETS,
    ),
    "megabatch": (
        lambda m, n: MegaBatchMarginLoss(m, 0.9, 0.0, mini_batch_size=n),
        lambda m: MegaBatchMarginLoss(m, 0.9, 0.0, use_mini_batched_version=False),
        [ANCHORS, POSITIVES],
    ),
}


def value_and_gradients(model, loss, columns, scale=1.0):
    model.zero_grad(set_to_none=True)
    value = loss(make_features(model, *columns), None)
    (value * scale).backward()
    return value.item(), encoder_gradients(model)


def largest(grads):
    return max(g.abs().max().item() for g in grads.values())


def largest_difference(first, second):
    assert first.keys() == second.keys() and first
    return max((first[k] - second[k]).abs().max().item() for k in first)


@pytest.mark.parametrize("mini_batch_size", [1, 2, 3, 4])
@pytest.mark.parametrize("name", list(PAIRS_OF_LOSSES))
def test_cached_equals_uncached_without_dropout(tiny, name, mini_batch_size):
    make_cached, make_plain, columns = PAIRS_OF_LOSSES[name]
    # In float64, where exactness is the point: mini-batches pad to other widths than the full batch, and float32
    # kernels of different CPUs (AVX2, AVX-512/AMX) round such products differently by ~1e-6 relative.
    tiny = tiny.double()
    expected_value, expected_grads = value_and_gradients(tiny, make_plain(tiny), columns)
    value, grads = value_and_gradients(tiny, make_cached(tiny, mini_batch_size), columns)
    assert value == pytest.approx(expected_value, abs=1e-12)
    assert largest_difference(grads, expected_grads) < 1e-10 * largest(expected_grads)
    assert any(g.abs().sum() > 0 for g in grads.values())


def test_cached_value_under_no_grad_and_grad_output_scaling(tiny):
    loss = CachedMultipleNegativesRankingLoss(tiny, mini_batch_size=3)
    with torch.no_grad():
        evaluated = loss(make_features(tiny, *TRIPLETS), None)
    assert evaluated.grad_fn is None
    value, grads = value_and_gradients(tiny, loss, TRIPLETS)
    assert evaluated.item() == pytest.approx(value, abs=1e-6)
    # The replay multiplies by whatever gradient reaches the loss (loss weights, gradient accumulation).
    _, scaled = value_and_gradients(tiny, loss, TRIPLETS, scale=2.5)
    assert largest_difference({k: v / 2.5 for k, v in scaled.items()}, grads) < 1e-5 * largest(grads)


def test_token_packing_gives_the_same_result(tiny):
    features = make_features(tiny, ANCHORS)[0]
    lengths = features["attention_mask"].sum(dim=1).tolist()
    budget = lengths[0] + lengths[1]
    ranges = minibatch_ranges(features, 32, mini_batch_num_tokens=budget)
    assert ranges[0] == (0, 2) and ranges[-1][1] == len(ANCHORS)
    assert minibatch_ranges(features, 32, mini_batch_num_tokens=1) == [(i, i + 1) for i in range(len(ANCHORS))]
    plain_value, plain_grads = value_and_gradients(tiny, MultipleNegativesRankingLoss(tiny), TRIPLETS)
    value, grads = value_and_gradients(
        tiny, CachedMultipleNegativesRankingLoss(tiny, mini_batch_num_tokens=budget), TRIPLETS
    )
    assert value == pytest.approx(plain_value, abs=5e-6)
    assert largest_difference(grads, plain_grads) < 2e-5 * largest(plain_grads)


def test_slicing_trims_trailing_padding_only(tiny):
    features = tiny.tokenize(["a", "a much much longer text than the first one", "b c"])
    features["modality"] = "text"
    piece = slice_features(features, 2, 3)
    assert piece["input_ids"].shape == (1, int(features["attention_mask"][2].sum()))
    assert piece["modality"] == "text"
    assert torch.equal(piece["input_ids"][0], features["input_ids"][2, : piece["input_ids"].shape[1]])


def in_length_order(features):
    """The rows of a column sorted by length, as the cache takes them, and the order used."""
    lengths = features["attention_mask"].sum(dim=1).tolist()
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return {k: v[order] for k, v in features.items()}, order


def embed_like_the_cache(model, columns, mini_batch_size):
    """The uncached computation on the mini-batches the cache uses, embedded with grad in the same order."""
    embeddings = []
    for features in make_features(model, *columns):
        features, order = in_length_order(features)
        pieces = [
            model(slice_features(features, b, e))["sentence_embedding"]
            for b, e in minibatch_ranges(features, mini_batch_size)
        ]
        embeddings.append(torch.cat(pieces)[[order.index(i) for i in range(len(order))]])
    return embeddings


def test_mini_batches_hold_texts_of_similar_length(tiny):
    # In float64: the padded widths differ between the cached and the plain pass, and float32 kernels of different
    # CPUs (AVX2, AVX-512/AMX) round such products differently by ~1e-6 relative; float64 makes equality exact.
    tiny = tiny.double()
    texts = ["a long text with many many words in it", "b", "another long text with many words in it", "c d"]
    widths = []
    loss = CachedMultipleNegativesRankingLoss(tiny, mini_batch_size=2)
    original = loss.embed_minibatch

    # Keyword-only, with sentence-transformers' names (sentence_feature, begin, end, ...).
    def embed_minibatch(**kw):
        widths.append(slice_features(kw["sentence_feature"], kw["begin"], kw["end"])["input_ids"].shape[1])
        return original(**kw)

    loss.embed_minibatch = embed_minibatch
    features = make_features(tiny, texts, list(reversed(texts)))
    padded_width = features[0]["input_ids"].shape[1]
    value = loss(features, None)
    value.backward()
    short_pair = max(len(tiny.tokenizer(t)["input_ids"]) for t in ("b", "c d"))
    # Per column and pass: one mini-batch of the two short texts, one of the two long ones.
    assert sorted(widths) == [short_pair] * 4 + [padded_width] * 4
    plain = MultipleNegativesRankingLoss(tiny)(make_features(tiny, texts, list(reversed(texts))), None)
    assert value.item() == pytest.approx(plain.item(), abs=1e-12)


@pytest.mark.parametrize("name", ["cmnrl", "cached-gist", "megabatch"])
def test_dropout_is_replayed_in_the_backward_pass(tiny, name):
    make_cached, make_plain, columns = PAIRS_OF_LOSSES[name]
    tiny.train()
    assert tiny.transformer.config.hidden_dropout_prob > 0
    cached, plain = make_cached(tiny, 2), make_plain(tiny)

    torch.manual_seed(1234)
    value, grads = value_and_gradients(tiny, cached, columns)

    def reference_gradients(seed):
        tiny.zero_grad(set_to_none=True)
        torch.manual_seed(seed)
        embeddings = embed_like_the_cache(tiny, columns, 2)
        # GIST's guide (here the model itself, in train mode) embeds after all model mini-batches, as in the cache.
        if isinstance(plain, GISTEmbedLoss):
            guide = []
            for features in make_features(tiny, *columns):
                features, order = in_length_order(features)
                pieces = [plain.embed_guide(slice_features(features, b, e)) for b, e in minibatch_ranges(features, 2)]
                guide.append(torch.cat(pieces)[[order.index(i) for i in range(len(order))]])
            reference_value = plain.compute_loss_from_embeddings(embeddings, None, guide_embeddings=guide)
        else:
            reference_value = plain.compute_loss_from_embeddings(embeddings, None)
        reference_value.backward()
        return reference_value.item(), encoder_gradients(tiny)

    reference_value, reference_grads = reference_gradients(1234)
    assert value == pytest.approx(reference_value, abs=5e-6)
    assert largest_difference(grads, reference_grads) < 2e-5 * largest(reference_grads)
    scale = max(g.abs().max().item() for g in reference_grads.values())

    # Negative controls: another seed, or no replay, gives other gradients.
    _, other_seed_grads = reference_gradients(99)
    assert largest_difference(other_seed_grads, reference_grads) > 1e-3 * scale
    cached._replay_random_state = False
    torch.manual_seed(1234)
    no_replay_value, no_replay_grads = value_and_gradients(tiny, cached, columns)
    assert no_replay_value == pytest.approx(reference_value, abs=5e-6)  # the forward pass is the same ...
    assert largest_difference(no_replay_grads, reference_grads) > 1e-3 * scale  # ... but the gradients are wrong


def test_replay_does_not_disturb_the_global_random_state(tiny):
    tiny.train()
    loss = CachedMultipleNegativesRankingLoss(tiny, mini_batch_size=2)
    torch.manual_seed(7)
    value = loss(make_features(tiny, *TRIPLETS), None)
    after_forward = torch.get_rng_state()
    value.backward()
    assert torch.equal(torch.get_rng_state(), after_forward)


def matryoshka_maths(inner, dims=(64, 32, 16), weights=(1.0, 0.5, 0.25)):
    def maths(embeddings, labels):
        return sum(
            w * inner.compute_loss_from_embeddings([F.normalize(e[:, :d], dim=-1) for e in embeddings], labels)
            for d, w in zip(dims, weights)
        )

    return maths


@pytest.mark.parametrize("name", ["cmnrl", "cached-gist", "megabatch"])
def test_loss_on_embeddings_replaces_the_maths(tiny, name):
    """The modifier protocol: forward(features, labels, loss_on_embeddings) = the custom maths, cached."""
    make_cached, _, columns = PAIRS_OF_LOSSES[name]
    cached = make_cached(tiny, 3)
    maths = matryoshka_maths(cached)

    tiny.zero_grad(set_to_none=True)
    features = make_features(tiny, *columns)
    if isinstance(cached, CachedGISTEmbedLoss):
        guide = [cached.embed_guide(dict(f)) for f in features]
        expected = sum(
            w
            * cached.compute_loss_from_embeddings(
                [F.normalize(e[:, :d], dim=-1) for e in tiny_embed(tiny, features)], None, guide_embeddings=guide
            )
            for d, w in zip((64, 32, 16), (1.0, 0.5, 0.25))
        )
    else:
        expected = maths(tiny_embed(tiny, features), None)
    expected.backward()
    expected_grads = encoder_gradients(tiny)

    tiny.zero_grad(set_to_none=True)
    value = cached(make_features(tiny, *columns), None, loss_on_embeddings=maths)
    value.backward()
    assert value.item() == pytest.approx(expected.item(), abs=5e-6)
    assert value.item() != pytest.approx(cached(make_features(tiny, *columns), None).item(), abs=1e-4)
    assert largest_difference(encoder_gradients(tiny), expected_grads) < 2e-5 * largest(expected_grads)
    with torch.no_grad():
        assert cached(make_features(tiny, *columns), None, loss_on_embeddings=maths).item() == pytest.approx(
            value.item(), abs=5e-6
        )


def tiny_embed(model, features):
    return [model(f)["sentence_embedding"] for f in features]


def test_frozen_encoder_and_unused_column(tiny):
    for parameter in tiny.parameters():
        parameter.requires_grad_(False)
    value = CachedMultipleNegativesRankingLoss(tiny, mini_batch_size=2)(make_features(tiny, *TRIPLETS), None)
    value.backward()  # nothing to train: the replay skips the mini-batches
    assert all(p.grad is None for p in tiny.parameters())
    for parameter in tiny.parameters():
        parameter.requires_grad_(True)
    loss = CachedMultipleNegativesRankingLoss(tiny, mini_batch_size=2)
    with pytest.raises(LossInputError, match=r"did not use input column\(s\) 2"):
        loss(
            make_features(tiny, *TRIPLETS),
            None,
            loss_on_embeddings=lambda e, labels: loss.compute_loss_from_embeddings(e[:2], labels),
        )


class _CountingModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.calls = 0
        self.weight = torch.nn.Parameter(torch.ones(1))

    def forward(self, features):
        self.calls += 1
        return {"sentence_embedding": features["input_ids"].float() * self.weight}


def test_bad_input_is_rejected_before_embedding():
    model = _CountingModel()
    column = {"input_ids": torch.ones(3, 4), "attention_mask": torch.ones(3, 4)}
    with pytest.raises(LossInputError, match=r"expects 2 or more input column.*got 1"):
        CachedMultipleNegativesRankingLoss(model)([column], None)
    with pytest.raises(LossInputError, match=r"expects 2 input columns.*got 3.*triplets_to_pairs"):
        MegaBatchMarginLoss(model)([column, column, column], None)
    assert model.calls == 0
    with pytest.raises(LossInputError, match="at least 2 rows"):
        CachedMultipleNegativesRankingLoss(model)([{k: v[:1] for k, v in column.items()}] * 2, None)
    flattened = {"input_ids": torch.ones(12, dtype=torch.long), "offsets": torch.tensor([0, 4, 8])}
    with pytest.raises(LossInputError, match="StaticEmbedding"):
        CachedMultipleNegativesRankingLoss(model)([flattened, flattened], None)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="mini_batch_size must be a positive int"):
            CachedMultipleNegativesRankingLoss(model, mini_batch_size=bad)
    with pytest.raises(ValueError, match="mini_batch_num_tokens"):
        CachedMultipleNegativesRankingLoss(model, mini_batch_num_tokens=0)
    with pytest.raises(ValueError, match="Unknown direction"):
        CachedMultipleNegativesRankingLoss(model, directions=("query_to_doc", "sideways"))


def test_config_citation_and_formats():
    model = _CountingModel()
    loss = CachedMultipleNegativesRankingLoss(model, mini_batch_size=8)
    assert list(loss.get_config_dict()) == [
        "scale",
        "similarity_fct",
        "mini_batch_size",
        "mini_batch_num_tokens",
        "gather_across_devices",
        "directions",
        "partition_mode",
        "hardness_mode",
        "hardness_strength",
    ]
    assert loss.temperature == pytest.approx(0.05) and loss.embedding_path is EmbeddingPath.GRADIENT_CACHE
    assert "2101.06983" in loss.citation and "2101.06983" in cmnsrl(model).citation
    with pytest.warns(DeprecationWarning):
        CachedMultipleNegativesSymmetricRankingLoss(model)
    assert [f.key for f in CachedMultipleNegativesRankingLoss.formats] == ["pair", "triplet", "n-tuple"]
    assert [f.key for f in CachedMultipleNegativesRankingLoss.commonly_used] == ["pair", "triplet"]
    assert isinstance(loss, CachedEmbeddingLoss)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_dropout_is_replayed_on_cuda():
    from lossbook.model import tiny_model

    model = tiny_model(seed=0, device="cuda").train()
    loss = CachedMultipleNegativesRankingLoss(model, mini_batch_size=2)
    torch.manual_seed(5)
    _, grads = value_and_gradients(model, loss, TRIPLETS)
    model.zero_grad(set_to_none=True)
    torch.manual_seed(5)
    value = MultipleNegativesRankingLoss(model).compute_loss_from_embeddings(
        embed_like_the_cache(model, TRIPLETS, 2), None
    )
    value.backward()
    assert largest_difference(grads, encoder_gradients(model)) < 2e-5 * largest(grads)


# -- parity with sentence-transformers (REFERENCE-LOSSES.md §6) -----------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(
    "columns, kwargs, expected",
    [
        (TRIPLETS, dict(mini_batch_size=2), 1.09442782),
        ([ANCHORS, POSITIVES], dict(mini_batch_size=1), 0.12928486),
        (TRIPLETS, dict(mini_batch_size=3, directions=ALL_DIRECTIONS), 1.56529450),
        (TRIPLETS, dict(mini_batch_size=2, hardness_mode="in_batch_negatives", hardness_strength=9.0), 2.96561027),
    ],
)
def test_cmnrl_parity_with_sentence_transformers(minilm, st_model, columns, kwargs, expected):
    from sentence_transformers.sentence_transformer import losses as st_losses

    value = assert_parity(
        CachedMultipleNegativesRankingLoss(minilm, **kwargs),
        st_losses.CachedMultipleNegativesRankingLoss(st_model, **kwargs),
        minilm,
        st_model,
        columns,
        None,
        expected=expected,
    )
    with torch.no_grad():
        other = CachedMultipleNegativesRankingLoss(minilm, **kwargs)(
            make_features(minilm, columns[0], columns[1][::-1], *columns[2:]), None
        )
    assert abs(other.item() - value) > 1e-2


@pytest.mark.slow
def test_cmnsrl_parity_with_sentence_transformers(minilm, st_model):
    from sentence_transformers.sentence_transformer import losses as st_losses

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        reference = st_losses.CachedMultipleNegativesSymmetricRankingLoss(st_model, mini_batch_size=2)
    value = assert_parity(
        cmnsrl(minilm, mini_batch_size=2), reference, minilm, st_model, [ANCHORS, POSITIVES], None, expected=0.15201735
    )
    with torch.no_grad():
        other = cmnsrl(minilm, mini_batch_size=2)(make_features(minilm, ANCHORS, NEGATIVES_1), None)
    assert abs(other.item() - value) > 1e-2


@pytest.mark.slow
def test_cached_losses_run_on_a_sentence_transformer(st_model):
    from sentence_transformers.sentence_transformer import losses as st_losses

    assert_parity(
        CachedMultipleNegativesRankingLoss(st_model, mini_batch_size=3),
        st_losses.CachedMultipleNegativesRankingLoss(st_model, mini_batch_size=3),
        st_model,
        st_model,
        TRIPLETS,
        None,
        expected=1.09442830,
    )
