"""Issue #13: wrong calls get a clear answer from lossbook's own code, and train() never loses what it did.

One test per case: each asserts the error type (or the warning, or the correct result) and that the message
names the fix. Then the faults of train(): Ctrl-C before the first step, mid-step, during the final evaluation
and after the last step; an exception from a callback; a bad batch at step 4. In every case the History so
far is returned (or is ``error.history``) and the model keeps the weights of the steps applied.
"""

from __future__ import annotations

import math
import shutil
import threading

import pytest
import torch

from lossbook import (
    check,
    convert,
    detect_format,
    evaluate,
    load_dataset,
    load_model,
    losses,
    plan,
    plots,
    tiny_model,
    train,
)
from lossbook.detect import FormatError
from lossbook.model_files import ModelNotFoundError
from lossbook.samplers import group_by_label_batches, no_duplicate_batches, random_batches
from lossbook.train import TrainingError

PAIRS = {"anchor": [f"question number {i}" for i in range(40)], "positive": [f"answer number {i}" for i in range(40)]}
SCORED = {
    "s1": [f"first text {i}" for i in range(40)],
    "s2": [f"second text {i}" for i in range(40)],
    "score": [i / 40 for i in range(40)],
}
CLASSES = {"sentence": [f"sentence {i}" for i in range(40)], "label": [i % 4 for i in range(40)]}


@pytest.fixture(autouse=True)
def _bundled_only(monkeypatch):
    monkeypatch.delenv("LOSSBOOK_DATA", raising=False)


def _weights(model) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def _same(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b))


# -- load_model ------------------------------------------------------------------------------------
def test_load_model_folder_without_safetensors(tiny, tmp_path):
    folder = tiny.save(tmp_path / "m")
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelNotFoundError, match=r"no weights \(model.safetensors\).*Save the model again"):
        load_model(folder)


def test_load_model_folder_with_only_pickled_weights(tiny, tmp_path):
    folder = tiny.save(tmp_path / "m")
    shutil.move(folder / "model.safetensors", tmp_path / "elsewhere.safetensors")
    torch.save(tiny.transformer.state_dict(), folder / "pytorch_model.bin")
    with pytest.raises(ModelNotFoundError, match=r"pytorch_model.bin, a pickle.*on purpose.*safe_serialization=True"):
        load_model(folder)


def test_load_model_config_that_is_not_json(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text("{not json")
    with pytest.raises(ModelNotFoundError, match=r"config.json is not valid JSON.*Save the model again"):
        load_model(tmp_path / "m")


def test_load_model_config_without_model_type(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text("{}")
    with pytest.raises(ModelNotFoundError, match=r"no 'model_type'.*folder written by EmbeddingModel.save"):
        load_model(tmp_path / "m")


def test_load_model_damaged_modules_json(tiny, tmp_path):
    folder = tiny.save(tmp_path / "m")
    (folder / "modules.json").write_text("[{")
    with pytest.raises(ModelNotFoundError, match=r"modules.json is not valid JSON"):
        load_model(folder)


def test_load_model_on_a_file_that_exists(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ModelNotFoundError, match=r"notes.txt is a file, not a model folder.*config.json"):
        load_model(tmp_path / "notes.txt")


@pytest.mark.parametrize("length", [-5, 0])
def test_load_model_max_seq_length_not_positive(tiny, tmp_path, length):
    folder = tiny.save(tmp_path / "m")
    with pytest.raises(ValueError, match=rf"max_seq_length must be at least 1, got {length}.*positive number"):
        load_model(folder, max_seq_length=length)


def test_load_model_max_seq_length_beyond_the_position_embeddings(tiny, tmp_path):
    with pytest.raises(ValueError, match=r"exceeds the model's 512 position embeddings.*at most 512"):
        load_model(tiny.save(tmp_path / "m"), max_seq_length=1000)


# -- data: load_dataset, detect_format, check --------------------------------------------------------------
def test_mirror_csv_with_a_word_for_a_score(monkeypatch, tmp_path):
    (tmp_path / "stsb").mkdir()
    (tmp_path / "stsb" / "train.csv").write_text("sentence1,sentence2,score\na cat,a dog,high\n")
    monkeypatch.setenv("LOSSBOOK_DATA", str(tmp_path))
    with pytest.raises(ValueError, match=r"stsb/train.csv, line 2: column 'score' should hold a number, found 'high'"):
        load_dataset("stsb", verbose=False)


@pytest.mark.parametrize(("folder", "problem"), [("missing", "does not exist"), ("empty", "is empty")])
def test_lossbook_data_that_is_unusable_is_reported(monkeypatch, tmp_path, folder, problem):
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("LOSSBOOK_DATA", str(tmp_path / folder))
    with pytest.warns(UserWarning, match=rf"LOSSBOOK_DATA is set to .*{problem}.*Point LOSSBOOK_DATA at the mirror"):
        dataset = load_dataset("stsb", verbose=False)
    assert f"{problem}, so it was not used" in dataset.info.description


def test_load_dataset_typo_suggests_the_name():
    with pytest.raises(ValueError, match=r"Unknown data set 'stbs'.*Did you mean 'stsb'\?"):
        load_dataset("stbs")
    with pytest.raises(ValueError, match=r"no split 'trian'.*Did you mean 'train'\?"):
        load_dataset("stsb", "trian")


def test_detect_format_on_class_names():
    data = {"premise": ["a", "b"], "hypothesis": ["c", "d"], "label": ["entailment", "neutral"]}
    with pytest.raises(FormatError, match=r"'label' holds text \('entailment', 'neutral'\).*class_encode_column"):
        detect_format(data)


def test_columns_of_different_lengths():
    with pytest.raises(FormatError, match=r"different lengths \('a': 2, 'b': 1\).*equally long"):
        detect_format({"a": ["x", "y"], "b": ["u"]})


def test_a_column_given_as_one_string():
    with pytest.raises(FormatError, match=r"'a' holds a single str.*wrap it"):
        detect_format({"a": "x", "b": ["u"]})


def test_a_column_mixing_kinds_of_values():
    with pytest.raises(FormatError, match=r"'label' mixes kinds of values \(float, str\).*float\(\)"):
        detect_format({"a": ["x", "y"], "b": ["u", "v"], "label": [0.5, "high"]})


def test_check_with_a_mistyped_format():
    with pytest.raises(ValueError, match=r"Unknown format 'pair-scores'\. Did you mean 'pair-score'\? Known formats"):
        check(SCORED, "pair-scores")


def test_nan_scores_are_missing_labels_not_out_of_range(tiny):
    data = {"s1": ["a", "b", "c"], "s2": ["d", "e", "f"], "score": [0.1, float("nan"), 0.5]}
    report = check(data, "pair-score")
    assert report.kinds() == {"missing-labels"}, str(report)
    assert "dataset.filter" in report.findings[0].fix
    with pytest.raises(TrainingError, match="NaN"):
        train(tiny, losses.CoSENTLoss(tiny), data, steps=1, progress=False)


# -- train(): arguments ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"steps": 0}, ValueError, r"steps must be at least 1, got 0.*number of optimiser steps"),
        ({"steps": -3}, ValueError, r"steps must be at least 1, got -3"),
        ({"steps": 2.5}, TypeError, r"steps must be a whole number"),
        ({"batch_size": 1}, ValueError, r"batch_size must be at least 2, got 1.*batch_size=16"),
        ({"batch_size": 0}, ValueError, r"batch_size must be at least 2, got 0"),
        ({"max_seq_length": 0}, ValueError, r"max_seq_length must be at least 1, got 0"),
        ({"callbacks": print}, TypeError, r"callbacks takes a list of functions.*callbacks=\[print\]"),
        ({"lr": -1e-5}, ValueError, r"lr must be at least 0"),
        ({"warmup_ratio": 1.5}, ValueError, r"warmup_ratio must be between 0 and 1"),
        ({"sampler": "no-duplicate"}, ValueError, r"Did you mean 'no-duplicates'\?"),
        ({"evaluator": "spearman"}, TypeError, r"evaluator must be a function"),
        ({"stop_event": True}, TypeError, r"stop_event needs an is_set\(\) method"),
    ],
)
def test_train_refuses_a_wrong_argument_before_any_work(tiny, options, error, match):
    before = _weights(tiny)
    with pytest.raises(error, match=match):
        train(tiny, losses.MultipleNegativesRankingLoss(tiny), PAIRS, progress=False, **{"steps": 2, **options})
    assert _same(before, tiny.parameters())


def test_batch_size_zero_in_the_samplers_is_refused_not_looped_on():
    raised = []

    def sample():  # in a thread, so that an endless loop fails the test instead of hanging it
        try:
            no_duplicate_batches([("a", "b")] * 4, 0)
        except ValueError as error:
            raised.append(error)

    worker = threading.Thread(target=sample, daemon=True)
    worker.start()
    worker.join(10)
    assert raised and "batch_size must be at least 1" in str(raised[0]), "no_duplicate_batches(..., 0) did not refuse"
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        random_batches(10, 0)


def test_group_by_label_batches_too_small_for_two_classes():
    with pytest.raises(ValueError, match=r"batch_size must be at least 4 \(two classes of 2 rows\).*batch_size >= 4"):
        group_by_label_batches(CLASSES["label"], 2)


def test_train_one_row_of_data(tiny):
    with pytest.raises(TrainingError, match=r"Nothing to train: 1 row\(s\) give no batch of at least 2 rows.*Add rows"):
        train(
            tiny,
            losses.MultipleNegativesRankingLoss(tiny),
            {"anchor": ["q"], "positive": ["a"]},
            steps=2,
            progress=False,
        )


def test_train_lr_zero_warns(tiny):
    with pytest.warns(UserWarning, match=r"lr=0: the optimiser will not change any weight.*lr=2e-5"):
        history = train(tiny, losses.CoSENTLoss(tiny), SCORED, steps=1, batch_size=8, lr=0, progress=False)
    assert history.stopped == "completed"


def test_train_eval_every_without_an_evaluator_warns(tiny):
    with pytest.warns(UserWarning, match="no evaluator.*pass evaluator="):
        train(tiny, losses.CoSENTLoss(tiny), SCORED, steps=1, batch_size=8, eval_every=1, progress=False)


def test_train_with_a_loss_built_on_another_model(tiny):
    other = tiny_model(seed=1)
    before, other_before = _weights(tiny), _weights(other)
    loss = losses.CachedMultipleNegativesRankingLoss(other, mini_batch_size=4)
    with pytest.raises(TrainingError, match=r"built on another model.*CachedMultipleNegativesRankingLoss\(model"):
        train(tiny, loss, PAIRS, steps=2, batch_size=8, progress=False)
    assert _same(before, tiny.parameters()) and _same(other_before, other.parameters())


def test_train_with_a_loss_class_or_a_model_name(tiny):
    with pytest.raises(TypeError, match=r"got the class CoSENTLoss.*loss = CoSENTLoss\(model\)"):
        train(tiny, losses.CoSENTLoss, SCORED, steps=1, progress=False)
    with pytest.raises(TypeError, match=r"got the name 'all-MiniLM-L6-v2'.*lossbook.load_model"):
        train("all-MiniLM-L6-v2", losses.CoSENTLoss(tiny), SCORED, steps=1, progress=False)


def test_nan_teacher_labels_are_blamed_before_the_learning_rate(tiny):
    teacher = tiny_model(seed=7)
    data = convert.add_teacher_embeddings({"sentence": [f"text {i}" for i in range(16)]}, teacher)
    labels = list(data["label"])
    labels[0] = [float("nan")] * len(labels[0])
    data = data.remove_columns("label").add_column("label", labels)
    with pytest.raises(TrainingError, match=r"Likely causes: \d+ label value\(s\) of this batch are NaN") as caught:
        train(tiny, losses.MSELoss(tiny), data, steps=4, batch_size=8, lr=1e-3, progress=False)
    assert caught.value.history.stopped == "diverged"


# -- plan, converters, evaluate, plots ---------------------------------------------------------------------
def test_plan_batch_size_zero(tiny):
    with pytest.raises(ValueError, match=r"batch_size must be at least 2, got 0.*batch_size=16"):
        plan(tiny, losses.MultipleNegativesRankingLoss(tiny), PAIRS, batch_size=0)


def test_plan_takes_a_dict_of_columns_as_train_does(tiny):
    estimate = plan(tiny, losses.MultipleNegativesRankingLoss(tiny), PAIRS, batch_size=4, steps=10)
    assert estimate.seconds_per_step > 0 and estimate.steps == 10


def test_plan_on_data_the_loss_cannot_read(tiny):
    with pytest.raises(TrainingError, match="pair_class_to_triplets"):
        plan(tiny, losses.TripletLoss(tiny), {"a": ["x", "y"], "b": ["u", "v"], "label": [0, 2]}, batch_size=2)


@pytest.mark.parametrize("call", ["mine_hard_negatives", "add_teacher_embeddings", "evaluate", "similarity_matrix"])
def test_a_model_name_where_a_model_is_needed(call):
    name = "all-MiniLM-L6-v2"
    calls = {
        "mine_hard_negatives": lambda: convert.mine_hard_negatives(PAIRS, name),
        "add_teacher_embeddings": lambda: convert.add_teacher_embeddings({"sentence": ["a", "b"]}, name),
        "evaluate": lambda: evaluate.evaluate(name, SCORED),
        "similarity_matrix": lambda: plots.similarity_matrix(name, ["a", "b"], ["c", "d"]),
    }
    with pytest.raises(TypeError, match=r"'all-MiniLM-L6-v2'.*load_model\('all-MiniLM-L6-v2'\)"):
        calls[call]()


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda m: convert.add_deletion_noise({"sentence": ["a"]}, del_ratio="6"),
            TypeError,
            "del_ratio must be a number",
        ),
        (
            lambda m: convert.mine_hard_negatives(PAIRS, m, num_negatives="1"),
            TypeError,
            "num_negatives must be a whole",
        ),
        (lambda m: evaluate.evaluate(m, SCORED, batch_size=0), ValueError, r"batch_size must be at least 1.*e.g. 32"),
        (
            lambda m: plots.loss_comparison_bars({"CoSENTLoss": []}),
            ValueError,
            r"No value for \['CoSENTLoss'\].*non-empty",
        ),
        (lambda m: tiny_model(hidden_size=0), ValueError, r"hidden_size must be at least 1.*e.g. 64"),
    ],
    ids=["del_ratio-str", "num_negatives-str", "evaluate-batch_size-0", "bars-empty-runs", "tiny-hidden-0"],
)
def test_a_wrong_argument_of_a_converter_plot_or_evaluator(tiny, call, error, match):
    with pytest.raises(error, match=match):
        call(tiny)


def test_loss_curves_of_nothing_yet():
    fig = plots.loss_curves([])
    assert any("no steps recorded yet" in text.get_text() for text in fig.axes[0].texts)
    with pytest.raises(TypeError, match="loss_curves takes a History"):
        plots.loss_curves(None)


def test_knn_on_a_single_class_warns(tiny):
    one_class = {"sentence": ["a", "b", "c", "d"], "label": [0, 0, 0, 0]}
    with pytest.warns(evaluate.EvaluationWarning, match=r"Every train sentence has the class 0.*several classes"):
        result = evaluate.evaluate_classification(tiny, one_class, one_class, k=1)
    assert result.accuracy == 1.0


def test_knn_test_classes_missing_from_train_warn(tiny):
    train_rows = {"sentence": ["a", "b", "c", "d"], "label": [0, 0, 1, 1]}
    test_rows = {"sentence": ["e", "f"], "label": [0, 2]}
    with pytest.warns(evaluate.EvaluationWarning, match=r"1 test class\(es\) never occur in the train set"):
        evaluate.evaluate_classification(tiny, train_rows, test_rows, k=1)


def test_matryoshka_dims_listed_twice_warn(tiny):
    with pytest.warns(UserWarning, match=r"repeat \[64\].*as in sentence-transformers.*matryoshka_weights"):
        loss = losses.MatryoshkaLoss(tiny, losses.CoSENTLoss(tiny), [64, 64, 32])
    assert loss.matryoshka_dims == (64, 64, 32)  # kept, as the reference keeps them


# -- save() ----------------------------------------------------------------------------------------------
def test_save_refuses_a_folder_holding_another_model(tiny, tmp_path):
    folder = tiny.save(tmp_path / "m")
    weights = (folder / "model.safetensors").read_bytes()
    with pytest.raises(FileExistsError, match=r"already holds a model.*overwrite=True"):
        tiny_model(seed=1).save(folder)
    assert (folder / "model.safetensors").read_bytes() == weights
    tiny.save(folder)  # its own folder: fine
    load_model(folder).save(folder)  # the folder it was loaded from: fine


def test_save_overwrite_never_deletes_a_file_it_did_not_write(tiny, tmp_path):
    folder = tiny.save(tmp_path / "m")
    (folder / "notes.md").write_text("mine")
    (folder / "model-00001-of-00002.safetensors").write_text("a shard save_pretrained would delete")
    other = tiny_model(seed=1)
    other.save(folder, overwrite=True)
    assert (folder / "notes.md").read_text() == "mine" and (folder / "model-00001-of-00002.safetensors").exists()
    assert torch.equal(load_model(folder).encode(["a text"]), other.encode(["a text"]))
    with pytest.raises(FileExistsError, match="is a file"):
        other.save(folder / "notes.md")


# -- train(): nothing is lost ------------------------------------------------------------------------------
def _snapshots(model):
    """A callback that keeps the weights after each step, to compare with what train() leaves behind."""
    kept = {}

    def keep(step, history):
        kept[step] = _weights(model)

    return kept, keep


def _fresh_loss(model):
    return losses.CoSENTLoss(model)


def test_interrupt_before_the_first_step(tiny):
    before = _weights(tiny)

    def evaluator(model):
        raise KeyboardInterrupt

    history = train(tiny, _fresh_loss(tiny), SCORED, steps=5, batch_size=8, progress=False, evaluator=evaluator)
    assert history.stopped == "interrupted" and history.steps == [] and history.config["steps"] == 5
    assert _same(before, tiny.parameters()) and not tiny.training


def test_interrupt_mid_step(tiny):
    loss = _fresh_loss(tiny)
    kept, keep = _snapshots(tiny)
    calls = {"n": 0}
    compute = loss.compute_loss_from_embeddings

    def interrupted_third_step(embeddings, labels):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return compute(embeddings, labels)

    loss.compute_loss_from_embeddings = interrupted_third_step
    history = train(tiny, loss, SCORED, steps=5, batch_size=8, lr=1e-3, progress=False, callbacks=[keep])
    assert history.stopped == "interrupted" and history.steps == [1, 2]
    assert _same(kept[2], tiny.parameters())


def test_interrupt_during_the_final_evaluation(tiny):
    kept, keep = _snapshots(tiny)

    def evaluator(model):
        if history_steps["done"]:
            raise KeyboardInterrupt
        return {"score": 0.5}

    history_steps = {"done": False}
    callbacks = [keep, lambda step, history: history_steps.update(done=step == 4)]
    history = train(
        tiny,
        _fresh_loss(tiny),
        SCORED,
        steps=4,
        batch_size=8,
        lr=1e-3,
        progress=False,
        evaluator=evaluator,
        callbacks=callbacks,
    )
    assert history.stopped == "interrupted" and history.steps == [1, 2, 3, 4]
    assert [e["step"] for e in history.evaluations] == [0]
    assert _same(kept[4], tiny.parameters())


def test_interrupt_after_the_last_step(tiny):
    kept, keep = _snapshots(tiny)

    def interrupt_at_the_end(step, history):
        if step == 3:
            raise KeyboardInterrupt

    history = train(
        tiny,
        _fresh_loss(tiny),
        SCORED,
        steps=3,
        batch_size=8,
        lr=1e-3,
        progress=False,
        callbacks=[keep, interrupt_at_the_end],
    )
    assert history.stopped == "interrupted" and history.steps == [1, 2, 3]
    assert _same(kept[3], tiny.parameters())


def test_interrupt_while_the_frozen_encoder_cache_fills(tiny, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tiny.transformer, "forward", interrupt)
    history = train(tiny, _fresh_loss(tiny), SCORED, steps=3, batch_size=8, progress=False, freeze_encoder=True)
    assert history.stopped == "interrupted" and history.steps == []
    assert all(p.requires_grad for p in tiny.transformer.parameters()), "the encoder is left trainable"


def test_exception_from_a_callback_carries_the_history(tiny):
    kept, keep = _snapshots(tiny)

    def broken(step, history):
        if step == 2:
            raise RuntimeError("the live plot failed")

    with pytest.raises(RuntimeError, match="the live plot failed") as caught:
        train(tiny, _fresh_loss(tiny), SCORED, steps=5, batch_size=8, lr=1e-3, progress=False, callbacks=[keep, broken])
    history = caught.value.history
    assert history.stopped == "failed" and history.steps == [1, 2]
    assert any("error.history holds the History so far" in note for note in caught.value.__notes__)
    assert _same(kept[2], tiny.parameters()) and not tiny.training


def test_exception_from_the_evaluator_carries_the_history(tiny):
    def evaluator(model):
        if evaluator.calls:
            raise ValueError("metric failed")
        evaluator.calls += 1
        return {"score": 0.0}

    evaluator.calls = 0
    with pytest.raises(ValueError, match="metric failed") as caught:
        train(tiny, _fresh_loss(tiny), SCORED, steps=4, batch_size=8, progress=False, evaluator=evaluator, eval_every=2)
    assert caught.value.history.steps == [1, 2] and caught.value.history.stopped == "failed"


def test_bad_batch_at_step_4_carries_the_history(tiny):
    scores = list(SCORED["score"])
    scores[random_batches(40, 8, seed=0)[3][0]] = 1.5  # a row of the fourth batch (the random sampler, seed 0)
    data = {**SCORED, "score": scores}
    kept, keep = _snapshots(tiny)
    with pytest.warns(UserWarning, match="outside 0..1"):  # check() said so before training
        with pytest.raises(losses.LossInputError, match=r"scores must lie in \[-1, 1\].*Rescale") as caught:
            train(
                tiny,
                losses.CosineSimilarityLoss(tiny),
                data,
                steps=6,
                batch_size=8,
                lr=1e-3,
                progress=False,
                callbacks=[keep],
            )
    history = caught.value.history
    assert history.stopped == "failed" and history.steps == [1, 2, 3] and history.config["sampler"] == "random"
    assert _same(kept[3], tiny.parameters()) and all(math.isfinite(v) for v in history.losses)
