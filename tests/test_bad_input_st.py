"""Issue #13, the sentence-transformers half: lossbook's losses built where the reference's classes would be.

Each case behaves like the reference (sentence-transformers 6.x), or as lossbook's docstring says it
deliberately differs: a model swapped by the trainer, wrapped models, the ``encoder`` attribute, the name of a
``functools.partial`` similarity, the keyword-only ``embed_minibatch``, StaticEmbedding models refused at
construction.
"""

from __future__ import annotations

import types
from functools import partial

import pytest
import torch
from batches import ANCHORS, POSITIVES, make_features
from torch import nn

from lossbook import losses
from lossbook.losses.base import UnsupportedModelError
from lossbook.losses.cached import slice_features
from lossbook.losses.similarity import cos_sim

sentence_transformers = pytest.importorskip("sentence_transformers")


@pytest.fixture
def st_pair(tiny, tmp_path):
    """Two SentenceTransformers on the tiny model's weights (the second is what a trainer's model_init returns)."""
    folder = str(tiny.save(tmp_path / "tiny"))
    return (
        sentence_transformers.SentenceTransformer(folder, device="cpu"),
        sentence_transformers.SentenceTransformer(folder, device="cpu"),
    )


@pytest.fixture
def static_models(tiny):
    from sentence_transformers.sentence_transformer.modules import Router, StaticEmbedding

    def static():
        return StaticEmbedding(tiny.tokenizer, embedding_dim=16)

    plain = sentence_transformers.SentenceTransformer(modules=[static()], device="cpu")
    router = Router.for_query_document([static()], [static()])
    routed = sentence_transformers.SentenceTransformer(modules=[router], device="cpu")
    return plain, routed


def _swap_model_as_the_trainer_does(loss, model):
    """sentence-transformers' own SentenceTransformerTrainer.override_model_in_loss (what model_init triggers)."""
    override = sentence_transformers.SentenceTransformerTrainer.override_model_in_loss
    trainer = types.SimpleNamespace()  # the method recurses through self.override_model_in_loss
    trainer.override_model_in_loss = lambda inner, new_model: override(trainer, inner, new_model)
    return trainer.override_model_in_loss(loss, model)


def test_adaptive_layer_loss_follows_a_model_swapped_by_the_trainer(st_pair):
    first, second = st_pair
    loss = losses.AdaptiveLayerLoss(first, losses.MultipleNegativesRankingLoss(first), n_layers_per_step=-1)
    loss = _swap_model_as_the_trainer_does(loss, second)
    assert loss.model is second and loss.loss.model is second
    value = loss(make_features(second, ANCHORS, POSITIVES), None)  # was: KeyError 'all_layer_embeddings'
    value.backward()
    assert torch.isfinite(value)
    assert any(p.grad is not None for p in second.parameters()) and all(p.grad is None for p in first.parameters())


class _Wrapper(nn.Module):
    """What DistributedDataParallel looks like to a loss: the model under ``.module``."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)


class _Opaque(nn.Module):
    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.inner = module


def test_adaptive_layer_loss_unwraps_a_wrapper_and_refuses_an_unknown_one(tiny):
    loss = losses.AdaptiveLayerLoss(tiny, losses.MultipleNegativesRankingLoss(tiny), n_layers_per_step=-1)
    expected = loss(make_features(tiny, ANCHORS, POSITIVES), None)
    loss.model = loss.loss.model = _Wrapper(tiny)
    torch.testing.assert_close(loss(make_features(tiny, ANCHORS, POSITIVES), None), expected)
    loss.model = _Opaque(tiny)
    with pytest.raises(ValueError, match=r"torch.compile; could not unwrap _Opaque") as caught:
        loss(make_features(tiny, ANCHORS, POSITIVES), None)
    assert isinstance(caught.value, TypeError) and isinstance(caught.value, UnsupportedModelError)


def test_denoising_auto_encoder_loss_has_the_reference_encoder_attribute(tiny):
    torch.manual_seed(0)
    loss = losses.DenoisingAutoEncoderLoss(tiny)
    assert loss.encoder is tiny is loss.model
    other = nn.Linear(2, 2)
    loss.encoder = other  # code written for the reference sets it; both names stay one module
    assert loss.model is other and loss.encoder is other and "encoder" not in dict(loss.named_children())


def _scaled_cos(a, b, factor: float = 1.0):
    return cos_sim(a, b) * factor


def test_a_partial_similarity_is_named_by_its_function(tiny):
    from sentence_transformers.util import similarity_fct_name

    for function in (partial(cos_sim), partial(_scaled_cos, factor=2.0)):
        name = losses.MultipleNegativesRankingLoss(tiny, similarity_fct=function).get_config_dict()["similarity_fct"]
        assert name == similarity_fct_name(function) and "partial" not in name
    cosent = losses.CoSENTLoss(tiny, similarity_fct=partial(losses.pairwise_cos_sim))
    assert cosent.get_config_dict()["similarity_fct"] == "pairwise_cos_sim"


class _ReferenceStyleCached(losses.CachedMultipleNegativesRankingLoss):
    """An override written for sentence-transformers' embed_minibatch: its signature, its tuple result."""

    def embed_minibatch(self, sentence_feature, begin, end, with_grad, copy_random_state, random_state=None):
        grad = torch.enable_grad() if with_grad else torch.no_grad()
        with grad:
            reps = self.model(slice_features(sentence_feature, begin, end))["sentence_embedding"]
        return reps, None


def test_embed_minibatch_is_keyword_only_with_the_reference_names(tiny):
    base = losses.CachedMultipleNegativesRankingLoss(tiny, mini_batch_size=2)
    features = make_features(tiny, ANCHORS, POSITIVES)
    with pytest.raises(TypeError, match="positional"):
        base.embed_minibatch(features[0], 0, 2)
    expected = base(make_features(tiny, ANCHORS, POSITIVES), None)
    override = _ReferenceStyleCached(tiny, mini_batch_size=2)
    value = override(make_features(tiny, ANCHORS, POSITIVES), None)
    torch.testing.assert_close(value, expected)
    value.backward()
    assert tiny.transformer.embeddings.word_embeddings.weight.grad is not None


def test_mega_batch_margin_loss_refuses_a_static_embedding_model_at_construction(static_models):
    plain, _ = static_models
    with pytest.raises(ValueError, match=r"StaticEmbedding.*use_mini_batched_version=False"):
        losses.MegaBatchMarginLoss(plain)
    losses.MegaBatchMarginLoss(plain, use_mini_batched_version=False)  # one pass: fine, as in the reference


def test_cached_gist_behind_a_router_raises_value_error_at_construction(static_models, tiny):
    _, routed = static_models
    with pytest.raises(ValueError, match=r"StaticEmbedding \(directly or behind a Router\).*Use GISTEmbedLoss"):
        losses.CachedGISTEmbedLoss(routed, tiny)
    with pytest.raises(ValueError, match=r"StaticEmbedding.*Use MultipleNegativesRankingLoss"):
        losses.CachedMultipleNegativesRankingLoss(routed)
