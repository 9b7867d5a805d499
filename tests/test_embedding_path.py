"""One declared attribute decides how train() runs a loss (``EmbeddingPath``); nothing else is consulted."""

from __future__ import annotations

import ast
from pathlib import Path

import datasets
import pytest
import torch

import lossbook
from lossbook import losses
from lossbook.batching import TokenizedColumns
from lossbook.losses.base import EmbeddingLoss, EmbeddingPath, embedding_path_of
from lossbook.model import tiny_model
from lossbook.step import step_loss
from lossbook.train import TrainingError

P = EmbeddingPath
DECLARED = {
    "MultipleNegativesRankingLoss": P.GIVEN,
    "CoSENTLoss": P.GIVEN,
    "SoftmaxLoss": P.GIVEN,
    "MSELoss": P.GIVEN,
    "CachedMultipleNegativesRankingLoss": P.GRADIENT_CACHE,
    "CachedMultipleNegativesSymmetricRankingLoss": P.GRADIENT_CACHE,
    "MegaBatchMarginLoss": P.GRADIENT_CACHE,
    "GISTEmbedLoss": P.WITH_GUIDE,
    "CachedGISTEmbedLoss": P.GRADIENT_CACHE_WITH_GUIDE,
    "ContrastiveTensionLoss": P.OWN_FORWARD,
    "ContrastiveTensionLossInBatchNegatives": P.OWN_FORWARD,
    "DenoisingAutoEncoderLoss": P.OWN_FORWARD,
    "AdaptiveLayerLoss": P.OWN_FORWARD,
    "Matryoshka2dLoss": P.OWN_FORWARD,
}


@pytest.mark.parametrize("name", sorted(DECLARED))
def test_each_loss_declares_how_it_gets_its_embeddings(name):
    assert getattr(losses, name).embedding_path is DECLARED[name]


def test_every_loss_class_declares_a_path():
    for name in losses.__all__:
        cls = getattr(losses, name)
        if isinstance(cls, type) and issubclass(cls, EmbeddingLoss):
            assert isinstance(cls.embedding_path, EmbeddingPath), name


def test_a_modifier_takes_the_path_of_the_loss_it_wraps():
    model = tiny_model(seed=0)
    dims = [model.embedding_dim, 16]
    wrapped = {
        losses.CoSENTLoss(model): P.GIVEN,
        losses.CachedMultipleNegativesRankingLoss(model): P.GRADIENT_CACHE,
        losses.GISTEmbedLoss(model, tiny_model(seed=1)): P.WITH_GUIDE,
    }
    for inner, path in wrapped.items():
        assert losses.MatryoshkaLoss(model, inner, dims).embedding_path is path, type(inner).__name__


def test_a_loss_from_elsewhere_runs_its_own_forward():
    assert embedding_path_of(torch.nn.MSELoss()) is P.OWN_FORWARD


def test_a_subclass_with_its_own_forward_is_not_gone_around():
    class Doubled(losses.CoSENTLoss):
        def forward(self, sentence_features, labels=None):
            return 2 * super().forward(sentence_features, labels)

    class Declared(Doubled):
        embedding_path = EmbeddingPath.GIVEN  # the author says the maths alone will do

    assert losses.CoSENTLoss.embedding_path is P.GIVEN
    assert Doubled.embedding_path is P.OWN_FORWARD
    assert Declared.embedding_path is P.GIVEN


class _Spy(losses.CoSENTLoss):
    """CoSENT that records which of its entry points the step used."""

    embedding_path = EmbeddingPath.GIVEN

    def __init__(self, model, path):
        super().__init__(model)
        self.embedding_path, self.calls = path, []

    def forward(self, sentence_features, labels=None):
        self.calls.append("forward")
        return super().forward(sentence_features, labels)

    def compute_loss_from_embeddings(self, embeddings, labels):
        self.calls.append("maths")
        return super().compute_loss_from_embeddings(embeddings, labels)


@pytest.mark.parametrize(
    "path, calls",
    [(P.GIVEN, ["maths"]), (P.GRADIENT_CACHE, ["forward", "maths"]), (P.OWN_FORWARD, ["forward", "maths"])],
)
def test_step_loss_dispatches_on_the_declared_path_and_both_ways_agree(path, calls):
    model = tiny_model(seed=0)
    data = datasets.Dataset.from_dict(
        {
            "sentence1": ["a cat", "a dog sat down", "rain"],
            "sentence2": ["a kitten", "dogs", "sun"],
            "score": [1, 0.5, 0],
        }
    )
    tokens = TokenizedColumns.build(model, data, ["sentence1", "sentence2"], "score", 32)
    loss = _Spy(model, path)
    labels = torch.tensor([1.0, 0.5, 0.0])
    value = step_loss(model, loss, tokens, [0, 1, 2], labels, 0, torch.device("cpu"))
    assert loss.calls == calls
    reference = step_loss(model, _Spy(model, P.OWN_FORWARD), tokens, [0, 1, 2], labels, 0, torch.device("cpu"))
    assert value.item() == pytest.approx(reference.item(), abs=1e-5)


def test_freeze_encoder_is_refused_by_path():
    model = tiny_model(seed=0)
    data = lossbook.load_dataset("sentences", verbose=False).select(range(16))
    with pytest.raises(TrainingError, match="freeze_encoder=False"):
        lossbook.train(model, losses.ContrastiveTensionLossInBatchNegatives(model), data, steps=1, freeze_encoder=True)


BELOW_THE_LOSSES = ["batching.py", "frozen.py", "step.py", "train.py", "planner.py", "distributed.py", "samplers.py"]


@pytest.mark.parametrize("module", BELOW_THE_LOSSES)
def test_training_infrastructure_imports_no_concrete_loss(module):
    """train() and its helpers know losses only through lossbook.losses.base (the declared path)."""
    tree = ast.parse((Path(lossbook.__file__).parent / module).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    concrete = {m for m in imported if m.startswith("lossbook.losses") and m != "lossbook.losses.base"}
    assert not concrete, f"{module} imports {sorted(concrete)}"
