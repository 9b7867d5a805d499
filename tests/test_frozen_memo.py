"""The fast mode encodes each text once per frozen transformer: runs that share one share its pooled outputs."""

from __future__ import annotations

import copy

import pytest
import torch

from lossbook import frozen, losses
from lossbook.data import load_dataset
from lossbook.train import train


@pytest.fixture(autouse=True)
def _bundled_only(monkeypatch):
    monkeypatch.delenv("LOSSBOOK_DATA", raising=False)


def _pairs(rows: int = 40):
    return load_dataset("stsb", "train", verbose=False).select(range(rows))


def _run(model, data, *, seed: int = 0):
    loss = losses.CoSENTLoss(model)
    history = train(model, loss, data, steps=5, batch_size=8, lr=1e-3, freeze_encoder=True, seed=seed, progress=False)
    return history.losses, model.head.weight.detach().clone()


def test_a_second_run_on_the_same_transformer_encodes_nothing_and_trains_alike(tiny, monkeypatch):
    data = _pairs()
    base = copy.deepcopy(tiny)
    first = copy.deepcopy(base, memo={id(base.transformer): base.transformer})
    second = copy.deepcopy(base, memo={id(base.transformer): base.transformer})
    assert first.transformer is second.transformer is base.transformer
    first_result = _run(first, data)
    calls = []
    forward = type(base.transformer).forward
    monkeypatch.setattr(
        type(base.transformer), "forward", lambda self, *a, **k: calls.append(1) or forward(self, *a, **k)
    )
    second_result = _run(second, data)
    assert calls == []  # every text was pooled already, by the same weights
    # The same maths: the memo changes nothing in the run (a fresh model with its own transformer agrees).
    fresh_result = _run(copy.deepcopy(tiny), data)
    for run in (second_result, fresh_result):
        assert run[0] == pytest.approx(first_result[0], rel=1e-5, abs=1e-6)
        assert torch.allclose(run[1], first_result[1], atol=1e-5)
    assert all(p.requires_grad for p in base.transformer.parameters())  # released after the run, as before


def test_a_changed_weight_is_encoded_again(tiny, monkeypatch):
    data = _pairs(16)
    _run(tiny, data)
    stamp = frozen._weights_stamp(tiny.transformer)
    with torch.no_grad():  # an in-place write, as an optimiser step of a whole-model run makes
        next(tiny.transformer.parameters()).add_(0.01)
    assert frozen._weights_stamp(tiny.transformer) != stamp
    calls = []
    forward = type(tiny.transformer).forward
    monkeypatch.setattr(
        type(tiny.transformer), "forward", lambda self, *a, **k: calls.append(1) or forward(self, *a, **k)
    )
    tiny.head = None
    _run(tiny, data)
    assert calls, "the pooled outputs of the old weights were reused"
