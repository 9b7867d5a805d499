"""EmbeddingLoss: the checks derived from ``formats`` run on every way into the formula."""

import inspect

import pytest
import torch

from lossbook import losses
from lossbook.formats import FORMATS
from lossbook.losses.base import EmbeddingLoss, LossInputError, column_bounds


class PairClassLoss(EmbeddingLoss):
    """A made-up loss: it only records what its formula received."""

    formats = (FORMATS["pair-class"],)
    label_hint = "Relabel with 0..K-1."

    def compute_loss_from_embeddings(self, embeddings, labels):
        self.received = labels
        return embeddings[0].sum() * 0


class Identity(torch.nn.Module):
    def forward(self, features):
        return {"sentence_embedding": features["x"]}


def test_column_bounds_come_from_the_formats():
    assert column_bounds((FORMATS["pair"], FORMATS["triplet"])) == (2, 3)
    assert column_bounds((FORMATS["pair"], FORMATS["n-tuple"])) == (2, None)
    assert column_bounds((FORMATS["sentence-class"],)) == (1, 1)
    assert column_bounds((FORMATS["any"],)) == (1, None)  # no loss takes zero columns
    assert column_bounds(()) == (1, None)


def test_a_new_loss_gets_the_checks_of_its_formats_on_every_path():
    loss = PairClassLoss(Identity())
    x = torch.randn(3, 2)
    with pytest.raises(LossInputError, match=r"expects 2 input columns \('\(sentence_A, sentence_B\) pairs \+ class'"):
        loss.compute_loss_from_embeddings([x], torch.tensor([0, 1, 2]))
    with pytest.raises(LossInputError, match=r"needs labels \(an integer class id per row\).*Relabel with 0..K-1"):
        loss([{"x": x}, {"x": x}], None)  # forward
    with pytest.raises(LossInputError, match=r"expects 3 class ids \(one per row\), got 2 with shape \(2,\)"):
        loss.compute_loss_from_embeddings([x, x], torch.tensor([0, 1]))
    with pytest.raises(LossInputError, match=r"integer class ids \(format 'pair-class'\).*labels.long\(\)"):
        loss.compute_loss_from_embeddings([x, x], torch.tensor([0.0, 1.0, 2.0]))
    loss.compute_loss_from_embeddings([x, x], [[0], [1], [2]])
    assert loss.received.dtype == torch.long and loss.received.tolist() == [0, 1, 2]  # flat, as the formula reads


def test_the_formula_is_wrapped_once_and_still_reads_as_written():
    source = inspect.getsource(losses.ContrastiveLoss.compute_loss_from_embeddings)  # what the notebooks print
    assert "losses = 0.5 * (labels * distances.pow(2)" in source and "check" not in source
    assert losses.MultipleNegativesSymmetricRankingLoss.compute_loss_from_embeddings is (
        losses.MultipleNegativesRankingLoss.compute_loss_from_embeddings
    )  # inherited wrappers are not wrapped again
    with pytest.raises(NotImplementedError, match="does not define compute_loss_from_embeddings"):
        EmbeddingLoss(None).compute_loss_from_embeddings([torch.randn(2, 2)], None)


WRONG_COLUMNS = {
    "MultipleNegativesRankingLoss": (lambda: losses.MultipleNegativesRankingLoss(None), 1),
    "MegaBatchMarginLoss": (lambda: losses.MegaBatchMarginLoss(None), 3),
    "CoSENTLoss": (lambda: losses.CoSENTLoss(None), 3),
    "AnglELoss": (lambda: losses.AnglELoss(None), 1),
    "CosineSimilarityLoss": (lambda: losses.CosineSimilarityLoss(None), 1),
    "ContrastiveLoss": (lambda: losses.ContrastiveLoss(None), 3),
    "SoftmaxLoss": (lambda: losses.SoftmaxLoss(None, 2, 3), 1),
    "TripletLoss": (lambda: losses.TripletLoss(None), 2),
    "BatchHardTripletLoss": (lambda: losses.BatchHardTripletLoss(None), 2),
    "MSELoss": (lambda: losses.MSELoss(None), 0),
    "MarginMSELoss": (lambda: losses.MarginMSELoss(None), 2),
    "DistillKLDivLoss": (lambda: losses.DistillKLDivLoss(None), 2),
    "GlobalOrthogonalRegularizationLoss": (lambda: losses.GlobalOrthogonalRegularizationLoss(None), 0),
}


@pytest.mark.parametrize("name", WRONG_COLUMNS)
def test_every_formula_is_behind_the_column_check(name):
    make, columns = WRONG_COLUMNS[name]
    with pytest.raises(LossInputError, match=rf"{name} expects .* input column.*but got {columns}\."):
        make().compute_loss_from_embeddings([torch.randn(4, 2)] * columns, torch.ones(4))
