"""The model card save() writes (README.md): Hub metadata, the training runs, the save rules, no machine paths."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest
import torch
from huggingface_hub import ModelCard

from lossbook import losses
from lossbook.data import bundled_data_folder, load_dataset, origin_of
from lossbook.evaluate import evaluate_sts
from lossbook.history import plain
from lossbook.model import load_model, tiny_model
from lossbook.model_files import CARD_MARKER, DEFAULT_MODEL
from lossbook.train import train

TEXTS = ["A man is playing a guitar.", "Two trains sit on the tracks.", "ok"]
PAIRS = {
    "sentence1": ["a cat sleeps", "a dog runs", "it rains", "he cooks rice", "a boy reads", "the sun sets"] * 2,
    "sentence2": ["a kitten naps", "a car drives", "the sky is wet", "she sings", "a child reads", "night falls"] * 2,
    "score": [0.9, 0.1, 0.8, 0.05, 0.85, 0.7] * 2,
}
EVAL_ROWS = {"sentence1": PAIRS["sentence1"][:6], "sentence2": PAIRS["sentence2"][:6], "score": PAIRS["score"][:6]}


def spearman_on_a_few_pairs(model) -> dict:
    return evaluate_sts(model, EVAL_ROWS).metrics()


def card_text(folder: Path) -> str:
    return (folder / "README.md").read_text(encoding="utf-8")


def assert_no_machine_path(text: str, *folders: Path) -> None:
    for folder in (*folders, bundled_data_folder(), Path.home(), Path.cwd()):
        assert str(folder) not in text, f"the card names the path {folder}"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny model after 3 steps of CoSENTLoss with an evaluator, saved: (model, history, folder)."""
    model = tiny_model(seed=0)
    loss = losses.CoSENTLoss(model)
    history = train(
        model, loss, PAIRS, steps=3, batch_size=4, lr=1e-3, evaluator=spearman_on_a_few_pairs, progress=False
    )
    folder = model.save(tmp_path_factory.mktemp("card") / "cosent-tiny")
    return model, history, folder


# -- the card ------------------------------------------------------------------------------------
def test_untrained_model_gets_a_card_that_says_so(tiny, tmp_path):
    folder = tiny.save(tmp_path / "untrained")
    card = ModelCard.load(folder / "README.md")
    assert card.data.library_name == "sentence-transformers" and card.data.pipeline_tag == "sentence-similarity"
    assert card.data.tags == ["sentence-transformers", "sentence-similarity", "feature-extraction", "lossbook"]
    metadata = card.data.to_dict()
    assert "model-index" not in metadata and "datasets" not in metadata and "base_model" not in metadata
    text = card_text(folder)
    assert "saved without training" in text and "no training or evaluation numbers" in text
    assert "| Steps |" not in text and "Evaluation" not in text and "## Citation" not in text
    assert 'lossbook.load_model("untrained")' in text and 'SentenceTransformer("untrained")' in text
    assert CARD_MARKER in text
    assert_no_machine_path(text, tmp_path)


def test_trained_card_lists_loss_config_citation_steps_and_before_after(trained):
    model, history, folder = trained
    card = ModelCard.load(folder / "README.md")
    assert "loss:CoSENTLoss" in card.data.tags and "lossbook" in card.data.tags
    text = card_text(folder)
    assert "### Run 1: CoSENTLoss" in text
    assert "| Steps | 3 of 3 (completed) |" in text and "| Batch size | 4 |" in text
    assert "| Learning rate (AdamW, linear warm-up and decay) | 0.001 |" in text
    assert f"| Precision | {history.config['mixed_precision']} (" in text and "| Device | cpu" in text
    assert "| Wall time |" in text and "| lossbook version:" not in text and "- lossbook version: " in text
    assert '"scale": 20.0' in text and '"similarity_fct": "pairwise_cos_sim"' in text  # get_config_dict()
    assert losses.CoSENTLoss(model).citation.strip().splitlines()[0] in text
    before, after = history.evaluations[0], history.evaluations[-1]
    assert (before["step"], after["step"]) == (0, 3)
    for name in ("spearman", "pearson"):
        row = f"| {name} | {before[name]:.4f} | {after[name]:.4f} | {after[name] - before[name]:+.4f} |"
        assert row in text
    # model-index: the evaluation of the weights saved, the last one.
    results = {result.metric_type: result for result in card.data.eval_results}
    assert set(results) == {"spearman", "pearson"}
    assert results["spearman"].metric_value == pytest.approx(after["spearman"])
    assert results["spearman"].task_type == "semantic-similarity"
    assert_no_machine_path(text, folder.parent)


def test_sentence_transformers_loads_the_folder_with_its_card(trained):
    from sentence_transformers import SentenceTransformer

    model, _, folder = trained
    reference = model.encode(TEXTS)
    by_st = SentenceTransformer(str(folder), device="cpu").encode(TEXTS, convert_to_tensor=True)
    assert (by_st - reference).abs().max().item() <= 1e-5
    assert torch.equal(load_model(folder, device="cpu").encode(TEXTS), reference)


def test_a_named_data_set_names_its_hub_id_only_when_the_rows_are_the_hubs(tmp_path, monkeypatch):
    monkeypatch.delenv("LOSSBOOK_DATA", raising=False)  # the bundled set, whatever the test run's data source
    bundled = load_dataset("stsb", rows=12, verbose=False)
    origin = origin_of(bundled)
    assert origin.label == "stsb [train]" and origin.hub_id is None and "bundled" in origin.source
    assert origin_of(bundled.select(range(4))) == origin and origin_of(PAIRS) is None

    model = tiny_model(seed=0)
    train(model, losses.CoSENTLoss(model), bundled, steps=1, batch_size=4, progress=False)
    text = card_text(model.save(tmp_path / "bundled"))
    assert "datasets" not in ModelCard.load(tmp_path / "bundled" / "README.md").data.to_dict()
    assert "stsb [train], from the small set bundled with lossbook (written for lossbook" in text

    # The rows of the same set as load_dataset describes them when they come from the Hub (offline here).
    from_hub = bundled.select(range(12))
    from_hub.info.description = (
        "stsb [train]: the first 12 of 5,749 rows from the Hugging Face Hub (sentence-transformers/stsb)"
    )
    assert origin_of(from_hub).hub_id == "sentence-transformers/stsb"
    train(model, losses.CoSENTLoss(model), from_hub, steps=1, batch_size=4, progress=False)
    card = ModelCard.load(model.save(tmp_path / "bundled") / "README.md")  # its own folder, its own card: fine
    assert card.data.datasets == ["sentence-transformers/stsb"]
    assert "### Run 2: CoSENTLoss on stsb [train]" in card.text


def test_a_wrapped_loss_lists_both_losses_and_objects_in_configs_by_name(tiny, tmp_path):
    loss = losses.MatryoshkaLoss(tiny, losses.CoSENTLoss(tiny), [64, 32])
    train(tiny, loss, PAIRS, steps=1, batch_size=4, progress=False)
    run = tiny.training_runs[-1]
    assert run.loss_names == ["MatryoshkaLoss", "CoSENTLoss"] and all(entry["citation"] for entry in run.losses)
    card = ModelCard.load(tiny.save(tmp_path / "m") / "README.md")
    assert {"loss:MatryoshkaLoss", "loss:CoSENTLoss"} <= set(card.data.tags)
    assert "model-index" not in card.data.to_dict()  # no evaluator: no numbers
    assert "### MatryoshkaLoss" in card.text and "### CoSENTLoss" in card.text
    assert plain({"guide": tiny, "fn": torch.cosine_similarity, "dims": (64, 32), "n": torch.tensor(3)}) == {
        "guide": "EmbeddingModel",
        "fn": "cosine_similarity",
        "dims": [64, 32],
        "n": 3,
    }


# -- what the model remembers --------------------------------------------------------------------
def test_runs_are_kept_in_memory_copied_with_the_model_and_not_reloaded(trained, tmp_path):
    model, history, folder = trained
    assert len(model.training_runs) == 1 and model.training_runs[0].history is history
    assert len(copy.deepcopy(model).training_runs) == 1
    assert pickle.loads(pickle.dumps(model.training_runs))[0].history.steps == [1, 2, 3]
    reloaded = load_model(folder, device="cpu")
    assert reloaded.training_runs == [] and reloaded.base_model is None  # the tiny model has no Hub base

    tiny = tiny_model(seed=1)
    tiny.base_model = DEFAULT_MODEL  # as load_model sets it for the Hub model
    first = tiny.save(tmp_path / "first")
    assert ModelCard.load(first / "README.md").data.base_model == DEFAULT_MODEL
    again = load_model(first, device="cpu")
    assert again.base_model == DEFAULT_MODEL  # read back from the folder's card
    text = card_text(again.save(tmp_path / "second"))
    assert f"base_model: {DEFAULT_MODEL}" in text and "saved without training" in text
    (tmp_path / "second" / "README.md").write_text(text.replace(DEFAULT_MODEL, str(tmp_path / "elsewhere")))
    assert load_model(tmp_path / "second", device="cpu").base_model is None  # a path is no base model


def test_a_run_that_failed_after_a_step_is_recorded_and_plan_records_nothing(tiny):
    from lossbook.planner import plan

    plan(tiny, losses.CoSENTLoss(tiny), PAIRS, batch_size=4, steps=10, repeats=1, device="cpu")
    assert tiny.training_runs == []

    def fail_at_step_2(step, history):
        if step == 2:
            raise RuntimeError("a callback failed")

    with pytest.raises(RuntimeError):
        train(tiny, losses.CoSENTLoss(tiny), PAIRS, steps=3, batch_size=4, callbacks=[fail_at_step_2], progress=False)
    assert [run.history.stopped for run in tiny.training_runs] == ["failed"]


# -- the save rules --------------------------------------------------------------------------------
def test_a_readme_lossbook_did_not_write_is_never_replaced_silently(tiny, tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "README.md").write_text("# My project\n")
    with pytest.raises(FileExistsError, match="README.md was not written by lossbook"):
        tiny.save(folder)
    assert (folder / "README.md").read_text() == "# My project\n" and not (folder / "config.json").exists()
    tiny.save(folder, overwrite=True)  # asked for: the card replaces it
    assert CARD_MARKER in card_text(folder)

    tiny.save(folder)  # its own card, its own folder: saved again
    load_model(folder).save(folder)  # loaded from there: fine too
    with pytest.raises(FileExistsError, match="already holds a model"):
        tiny_model(seed=1).save(folder)  # another model: refused by its files, as before

    edited = card_text(folder).replace(CARD_MARKER, "")  # the user keeps the card: the marker line goes
    (folder / "README.md").write_text(edited)
    with pytest.raises(FileExistsError, match="README.md was not written by lossbook"):
        tiny.save(folder)  # even into its own folder
    assert card_text(folder) == edited


def test_a_sentence_transformers_folder_keeps_its_card_unless_overwrite(tmp_path):
    from sentence_transformers import SentenceTransformer

    tiny_model(seed=0).save(tmp_path / "ours")
    # sentence-transformers saves the card it loaded as it was; without one, it writes its own.
    (tmp_path / "ours" / "README.md").unlink()
    st_folder = tmp_path / "theirs"
    SentenceTransformer(str(tmp_path / "ours"), device="cpu").save(str(st_folder))
    theirs = card_text(st_folder)
    assert CARD_MARKER not in theirs and "sentence-transformers" in theirs
    loaded = load_model(st_folder, device="cpu")
    with pytest.raises(FileExistsError, match="README.md was not written by lossbook"):
        loaded.save(st_folder)
    assert card_text(st_folder) == theirs
    loaded.save(st_folder, overwrite=True)
    assert CARD_MARKER in card_text(st_folder)


# -- the real model (slow) -----------------------------------------------------------------------
@pytest.mark.slow
def test_minilm_card_names_its_hub_base_and_round_trips_through_sentence_transformers(tmp_path):
    from sentence_transformers import SentenceTransformer

    model = load_model(device="cpu")  # a fresh copy: the shared minilm fixture must not train
    assert model.base_model == DEFAULT_MODEL
    train(
        model, losses.CoSENTLoss(model), PAIRS, steps=2, batch_size=4, evaluator=spearman_on_a_few_pairs, progress=False
    )
    folder = model.save(tmp_path / "minilm-cosent")
    card = ModelCard.load(folder / "README.md")
    assert card.data.base_model == DEFAULT_MODEL and "loss:CoSENTLoss" in card.data.tags
    assert card.data.eval_results and "# all-MiniLM-L6-v2 trained with CoSENTLoss" in card.text
    assert_no_machine_path(card.text, tmp_path)
    reference = model.encode(TEXTS)
    by_st = SentenceTransformer(str(folder), device="cpu").encode(TEXTS, convert_to_tensor=True)
    assert (by_st - reference).abs().max().item() <= 1e-5
