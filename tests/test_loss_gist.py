"""GISTEmbedLoss and CachedGISTEmbedLoss: a hand-computed loop, guides with other vocabularies, parity, bad input."""

import math

import pytest
import torch
from batches import ANCHORS, NEGATIVES_1, NEGATIVES_2, POSITIVES, assert_parity, make_features

from lossbook.losses.base import EmbeddingPath, LossInputError
from lossbook.losses.gist import CachedGISTEmbedLoss, GISTEmbedLoss
from lossbook.teaching import unit  # a 2-D point at an angle in degrees (and a length)


@pytest.fixture(autouse=True)
def _one_thread():
    """The tiny model's ops are too small to gain from threads; on a shared CPU a second thread only waits."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def cos(u, v):
    return sum(a * b for a, b in zip(u, v)) / (math.hypot(*u) * math.hypot(*v))


def logsumexp(values):
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


# The trained model's points and the guide's points (other angles: the guide disagrees with the model).
MODEL = {
    "a": [unit(0, 2.0), unit(90), unit(200, 0.5)],
    "p": [unit(20), unit(110, 3.0), unit(170)],
    "n1": [unit(60), unit(250, 2.0), unit(300)],
    "n2": [unit(10), unit(140), unit(215)],
}
GUIDE = {
    "a": [unit(0), unit(100), unit(230)],
    "p": [unit(75), unit(60), unit(250)],
    "n1": [unit(20), unit(200), unit(90)],
    "n2": [unit(50), unit(97), unit(240)],
}


def gist_loop(columns, temperature, margin_strategy, margin, contrast_anchors, contrast_positives):
    """The docstring's formula: per anchor, drop every candidate the guide rates above the threshold."""
    a, p, negatives = MODEL["a"], MODEL["p"], [MODEL[c] for c in columns[2:]]
    ga, gp, guide_negatives = GUIDE["a"], GUIDE["p"], [GUIDE[c] for c in columns[2:]]
    total = 0.0
    for i in range(len(a)):
        positive = cos(ga[i], gp[i])
        threshold = positive - margin if margin_strategy == "absolute" else positive - abs(positive) * margin

        def kept(guide_similarity):
            assert abs(guide_similarity - threshold) > 1e-4  # no float ties in this example
            return guide_similarity <= threshold

        logits = [cos(a[i], p[j]) / temperature for j in range(len(a)) if j == i or kept(cos(ga[i], gp[j]))]
        if contrast_anchors:
            logits += [cos(a[i], a[j]) / temperature for j in range(len(a)) if kept(cos(ga[i], ga[j]))]
        if contrast_positives:
            logits += [cos(p[i], p[j]) / temperature for j in range(len(a)) if kept(cos(gp[i], gp[j]))]
        for n, gn in zip(negatives, guide_negatives):
            logits += [cos(a[i], n[j]) / temperature for j in range(len(a)) if kept(cos(ga[i], gn[j]))]
        total += logsumexp(logits) - cos(a[i], p[i]) / temperature
    return total / len(a)


CASES = [
    (("a", "p"), dict()),
    (("a", "p", "n1"), dict()),
    (("a", "p", "n1"), dict(contrast_anchors=False, contrast_positives=False)),
    (("a", "p", "n1"), dict(margin=0.1)),
    (("a", "p", "n1"), dict(margin_strategy="relative", margin=0.5)),
    (("a", "p"), dict(contrast_anchors=False)),
    (("a", "p", "n1", "n2"), dict()),  # CachedGISTEmbedLoss only
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("columns, kwargs", CASES)
def test_gist_matches_explicit_loop(columns, kwargs, dtype):
    settings = dict(
        temperature=0.5, margin_strategy="absolute", margin=0.0, contrast_anchors=True, contrast_positives=True
    )
    settings.update(kwargs)
    expected = gist_loop(columns, **settings)
    embeddings = [torch.tensor(MODEL[c], dtype=dtype) for c in columns]
    guide = [torch.tensor(GUIDE[c], dtype=dtype) for c in columns]
    losses = [CachedGISTEmbedLoss(None, None, **settings)] + [GISTEmbedLoss(None, None, **settings)] * (
        len(columns) <= 3
    )
    for loss in losses:
        value = loss.compute_loss_from_embeddings(embeddings, None, guide_embeddings=guide)
        assert value.dtype == dtype
        assert value.item() == pytest.approx(expected, rel=1e-5 if dtype == torch.float32 else 1e-12)


def test_the_example_masks_some_candidates_and_keeps_others():
    masked = kept = 0
    for i in range(3):
        threshold = cos(GUIDE["a"][i], GUIDE["p"][i])
        for j in range(3):
            for first, second in (("a", "p"), ("a", "a"), ("p", "p"), ("a", "n1")):
                if (first, second) == ("a", "p") and i == j:
                    continue
                similarity = cos(GUIDE[first][i], GUIDE[second][j])
                masked, kept = masked + (similarity > threshold), kept + (similarity <= threshold)
    assert masked >= 9 and kept >= 9  # aa / pp diagonals plus false negatives (p[1] and n1[0] for anchor 0)


def test_bad_input_names_the_format():
    gist, cached = GISTEmbedLoss(None, None), CachedGISTEmbedLoss(None, None)
    x = torch.randn(3, 4)
    with pytest.raises(LossInputError, match=r"expects 2 to 3 input column.*got 4.*CachedGISTEmbedLoss"):
        gist.compute_loss_from_embeddings([x] * 4, None, guide_embeddings=[x] * 4)
    for loss in (gist, cached):
        with pytest.raises(LossInputError, match=r"input column.*\(anchor, positive\) pairs.*got 1"):
            loss.compute_loss_from_embeddings([x], None, guide_embeddings=[x])
        with pytest.raises(LossInputError, match="at least 2 rows"):
            loss.compute_loss_from_embeddings([x[:1]] * 2, None, guide_embeddings=[x[:1]] * 2)
        with pytest.raises(LossInputError, match="needs the guide's embeddings"):
            loss.compute_loss_from_embeddings([x, x], None)
        with pytest.raises(LossInputError, match="needs the guide's embeddings"):
            loss.compute_loss_from_embeddings([x, x], None, guide_embeddings=[x[:2], x[:2]])
    with pytest.raises(ValueError, match="margin_strategy must be one of"):
        GISTEmbedLoss(None, None, margin_strategy="percent")
    with pytest.raises(ValueError, match="margin_strategy must be one of"):
        CachedGISTEmbedLoss(None, None, margin_strategy="percent")


def test_guide_without_a_tokenizer_is_rejected(tiny):
    class NoTokenizer(torch.nn.Module):
        def forward(self, features):
            return features

    with pytest.raises(TypeError, match="guide needs a transformers tokenizer"):
        GISTEmbedLoss(tiny, NoTokenizer())


def test_config_citation_and_formats(tiny):
    loss = GISTEmbedLoss(tiny, tiny)
    assert list(loss.get_config_dict()) == [
        "guide",
        "temperature",
        "margin_strategy",
        "margin",
        "contrast_anchors",
        "contrast_positives",
        "gather_across_devices",
    ]
    assert loss.get_config_dict()["guide"] is tiny and not loss.must_retokenize
    assert "2402.16829" in loss.citation
    cached = CachedGISTEmbedLoss(tiny, tiny, mini_batch_size=4)
    assert list(cached.get_config_dict()) == [
        "guide",
        "temperature",
        "mini_batch_size",
        "mini_batch_num_tokens",
        "margin_strategy",
        "margin",
        "contrast_anchors",
        "contrast_positives",
        "gather_across_devices",
    ]
    assert cached.citation is None  # the reference defines none
    assert cached.embedding_path is EmbeddingPath.GRADIENT_CACHE_WITH_GUIDE
    assert [f.key for f in GISTEmbedLoss.formats] == ["pair", "triplet"]
    assert [f.key for f in CachedGISTEmbedLoss.formats] == ["pair", "triplet", "n-tuple"]


@pytest.mark.parametrize(
    "make_loss", [lambda m, g: GISTEmbedLoss(m, g), lambda m, g: CachedGISTEmbedLoss(m, g, mini_batch_size=3)]
)
def test_trains_the_tiny_model(tiny, make_loss):
    from lossbook.model import tiny_model

    guide = tiny_model(seed=1)
    value = make_loss(tiny, guide)(make_features(tiny, ANCHORS, POSITIVES, NEGATIVES_1), None)
    value.backward()
    assert torch.isfinite(value) and value.item() > 0
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in tiny.transformer.parameters())
    assert all(p.grad is None for p in guide.parameters())  # the guide only judges


def small_vocabulary_guide(tmp_path):
    """A guide with its own word-level vocabulary: the model's token ids mean nothing to it."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    from lossbook.model import EmbeddingModel

    words = sorted({w.strip(".").lower() for text in ANCHORS + POSITIVES + NEGATIVES_1 for w in text.split()})
    (tmp_path / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", *words]) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(tmp_path / "vocab.txt"), do_lower_case=True)
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=1, intermediate_size=64
    )
    torch.manual_seed(3)
    return EmbeddingModel(BertModel(config, add_pooling_layer=False).eval(), tokenizer, max_seq_length=64)


@pytest.mark.parametrize("cached", [False, True])
def test_a_guide_with_another_vocabulary_reads_the_decoded_text(tiny, tmp_path, cached):
    guide = small_vocabulary_guide(tmp_path)
    loss = (
        CachedGISTEmbedLoss(tiny, guide, temperature=0.1, mini_batch_size=3)
        if cached
        else GISTEmbedLoss(tiny, guide, temperature=0.1)
    )
    assert loss.must_retokenize
    columns = [ANCHORS, POSITIVES, NEGATIVES_1]
    with torch.no_grad():
        value = loss(make_features(tiny, *columns), None)
        # What the guide should have seen: the texts, as decoded from the model's ids, in the guide's own vocabulary.
        decoded = [
            tiny.tokenizer.batch_decode(f["input_ids"], skip_special_tokens=True) for f in make_features(tiny, *columns)
        ]
        assert decoded[0][0] == ANCHORS[0].lower()
        guide_embeddings = [guide(guide.tokenize(texts))["sentence_embedding"] for texts in decoded]
        expected = loss.compute_loss_from_embeddings(
            [tiny(f)["sentence_embedding"] for f in make_features(tiny, *columns)],
            None,
            guide_embeddings=guide_embeddings,
        )
    assert value.item() == pytest.approx(expected.item(), rel=1e-5)
    assert guide.tokenize(decoded[0])["input_ids"].max() < len(guide.tokenizer) < tiny.tokenizer.vocab_size


def test_a_guide_with_a_shorter_window_retokenizes_to_the_same_ids(tiny):
    from lossbook.model import tiny_model

    short_guide, guide = tiny_model(seed=1), tiny_model(seed=1)
    short_guide.max_seq_length = 64  # < the model's 128: decoded and tokenized again (same vocabulary)
    columns = [ANCHORS, POSITIVES]
    retokenizing, direct = GISTEmbedLoss(tiny, short_guide), GISTEmbedLoss(tiny, guide)
    assert retokenizing.must_retokenize and not direct.must_retokenize
    with torch.no_grad():
        assert retokenizing(make_features(tiny, *columns), None).item() == pytest.approx(
            direct(make_features(tiny, *columns), None).item(), abs=1e-6
        )


# -- parity with sentence-transformers (REFERENCE-LOSSES.md §6; guide = the same model) -------------------------------
GIST_ORACLE = [
    ([ANCHORS, POSITIVES], {}, 0.11207246),
    ([ANCHORS, POSITIVES, NEGATIVES_1], {}, 0.11698829),
    ([ANCHORS, POSITIVES, NEGATIVES_1], dict(contrast_anchors=False, contrast_positives=False), 0.03599966),
    ([ANCHORS, POSITIVES, NEGATIVES_1], dict(margin_strategy="relative", margin=0.1), 8.64e-07),
]


@pytest.mark.slow
@pytest.mark.parametrize("columns, kwargs, expected", GIST_ORACLE)
def test_gist_parity_with_sentence_transformers(minilm, st_model, columns, kwargs, expected):
    from sentence_transformers.sentence_transformer import losses as st_losses

    value = assert_parity(
        GISTEmbedLoss(minilm, minilm, **kwargs),
        st_losses.GISTEmbedLoss(st_model, st_model, **kwargs),
        minilm,
        st_model,
        columns,
        None,
        expected=expected,
    )
    with torch.no_grad():
        other = GISTEmbedLoss(minilm, minilm, **kwargs)(
            make_features(minilm, columns[0], columns[1][::-1], *columns[2:]), None
        )
    assert abs(other.item() - value) > 1e-2


@pytest.mark.slow
@pytest.mark.parametrize("columns", [[ANCHORS, POSITIVES, NEGATIVES_1], [ANCHORS, POSITIVES, NEGATIVES_1, NEGATIVES_2]])
def test_cached_gist_parity_with_sentence_transformers(minilm, st_model, columns):
    from sentence_transformers.sentence_transformer import losses as st_losses

    value = assert_parity(
        CachedGISTEmbedLoss(minilm, minilm, mini_batch_size=2),
        st_losses.CachedGISTEmbedLoss(st_model, st_model, mini_batch_size=2),
        minilm,
        st_model,
        columns,
        None,
        expected=0.11698832,
    )
    with torch.no_grad():
        other = CachedGISTEmbedLoss(minilm, minilm, mini_batch_size=2)(
            make_features(minilm, columns[0], columns[1][::-1], *columns[2:]), None
        )
    assert abs(other.item() - value) > 1e-2


@pytest.mark.slow
def test_a_sentence_transformer_guide_or_model(minilm, st_model):
    """Either side may be a SentenceTransformer: same value as with lossbook's model on both sides."""
    columns = [ANCHORS, POSITIVES, NEGATIVES_1]
    with torch.no_grad():
        expected = GISTEmbedLoss(minilm, minilm)(make_features(minilm, *columns), None).item()
        assert GISTEmbedLoss(minilm, st_model)(make_features(minilm, *columns), None).item() == pytest.approx(
            expected, abs=1e-5
        )
        assert GISTEmbedLoss(st_model, minilm)(make_features(st_model, *columns), None).item() == pytest.approx(
            expected, abs=1e-5
        )
        cached = CachedGISTEmbedLoss(st_model, st_model, mini_batch_size=3)
        assert cached(make_features(st_model, *columns), None).item() == pytest.approx(expected, abs=1e-5)
