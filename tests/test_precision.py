"""mixed_precision: fp32 unless asked, or unless the CPU has bf16 units and they measurably pay."""

from __future__ import annotations

import pytest
import torch

from lossbook import precision
from lossbook.model import tiny_model
from lossbook.precision import CPU_SPEEDUP_NEEDED, Precision, choose_precision

CPU = torch.device("cpu")


def test_false_is_always_fp32_and_true_is_always_bf16_on_a_cpu():
    assert choose_precision(CPU, False).dtype is None
    assert choose_precision(CPU, True).dtype == torch.bfloat16
    assert choose_precision(CPU, False).name == "fp32" and choose_precision(CPU, True).name == "bf16"


def test_auto_needs_bf16_units(monkeypatch):
    monkeypatch.setattr(precision, "cpu_bf16_units", lambda: [])
    chosen = choose_precision(CPU, "auto", tiny_model())
    assert chosen.dtype is None and "no native bf16" in chosen.reason


@pytest.mark.parametrize("speedup, dtype", [(CPU_SPEEDUP_NEEDED + 0.5, torch.bfloat16), (1.05, None)])
def test_auto_needs_a_measured_speedup(monkeypatch, speedup, dtype):
    monkeypatch.setattr(precision, "cpu_bf16_units", lambda: ["amx_bf16"])
    monkeypatch.setattr(precision, "cpu_bf16_speedup", lambda model: speedup)
    chosen = choose_precision(CPU, "auto", tiny_model())
    assert chosen.dtype == dtype and "measured" in chosen.reason and "amx_bf16" in chosen.reason


def test_a_bad_value_is_refused():
    with pytest.raises(ValueError, match="True, False or 'auto'"):
        choose_precision(CPU, "bf16")


def test_the_benchmark_times_the_model_and_leaves_it_as_it_was():
    model = tiny_model()
    before = [p.detach().clone() for p in model.parameters()]
    model.eval()
    assert precision.measured_cpu_bf16_speedup(model, rows=4, tokens=8, repeats=1) > 0
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert all(p.grad is None for p in model.parameters()) and not model.training


def test_fp16_needs_a_grad_scaler_and_bf16_does_not():
    assert Precision(torch.float16, "").needs_grad_scaler and not Precision(torch.bfloat16, "").needs_grad_scaler
    with Precision(torch.bfloat16, "").autocast(CPU):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
    with Precision(None, "").autocast(CPU):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32


def test_the_run_records_its_precision_and_why():
    import datasets

    from lossbook import losses
    from lossbook.train import train

    model = tiny_model(seed=0)
    data = datasets.Dataset.from_dict(
        {"anchor": [f"q {i}" for i in range(16)], "positive": [f"a {i}" for i in range(16)]}
    )
    history = train(model, losses.MultipleNegativesRankingLoss(model), data, steps=1, batch_size=8, progress=False,
                    mixed_precision=False)  # fmt: skip
    assert history.config["mixed_precision"] == "fp32" and history.config["precision_reason"] == "mixed_precision=False"


def test_encode_in_bf16_is_close_to_fp32_and_returns_float32():
    model = tiny_model(seed=0)
    texts = ["a cat sat on the mat", "the dog ran", "rain again today"]
    exact = model.encode(texts)
    fast = model.encode(texts, mixed_precision=True)
    assert fast.dtype == torch.float32 and fast.shape == exact.shape
    assert not torch.equal(fast, exact)  # it did compute in bf16
    assert torch.nn.functional.cosine_similarity(fast, exact).min() > 0.99


def test_auto_without_a_measurable_model_is_fp32(monkeypatch):
    monkeypatch.setattr(precision, "cpu_bf16_units", lambda: ["amx_bf16"])
    for model in (None, torch.nn.Linear(2, 2)):  # e.g. a SentenceTransformer's modules are not measured
        assert choose_precision(CPU, "auto", model).dtype is None
