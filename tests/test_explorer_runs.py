"""What the loss explorer runs: default budgets per loss and device, seeds and their spread, the rotated start."""

from __future__ import annotations

import threading

import matplotlib
import pytest
import torch

matplotlib.use("Agg")

from lossbook import losses  # noqa: E402
from lossbook.data import load_dataset  # noqa: E402
from lossbook.explorer_data import MIN_RUN_ROWS  # noqa: E402
from lossbook.explorer_runs import (  # noqa: E402
    FAST_MODE,
    WHOLE_MODEL_CPU,
    WHOLE_MODEL_GPU,
    RunResult,
    default_settings,
    rotate_head,
    run_seeds,
)
from lossbook.run_data import Data  # noqa: E402
from lossbook.run_setup import choose_evaluation  # noqa: E402
from lossbook.widgets import LossExplorer  # noqa: E402


@pytest.fixture(autouse=True)
def _bundled_only(monkeypatch):
    monkeypatch.delenv("LOSSBOOK_DATA", raising=False)


def test_a_cpu_trains_in_the_fast_mode_where_the_loss_allows_it():
    assert default_settings(losses.CoSENTLoss, "cpu") == FAST_MODE
    assert default_settings(losses.CachedMultipleNegativesRankingLoss, "cpu") == FAST_MODE
    # Losses that need tokens, layers or a guide fine-tune the whole model, in the budget a CPU allows.
    for cls in (losses.DenoisingAutoEncoderLoss, losses.ContrastiveTensionLoss, losses.GISTEmbedLoss):
        assert default_settings(cls, "cpu") == WHOLE_MODEL_CPU, cls.__name__
    assert default_settings(losses.CoSENTLoss, "cpu", whole_model=True) == WHOLE_MODEL_CPU
    assert FAST_MODE.freeze_encoder and not WHOLE_MODEL_CPU.freeze_encoder and len(FAST_MODE.seeds) >= 2


def test_a_gpu_fine_tunes_the_whole_model_by_default():
    assert default_settings(losses.CoSENTLoss, torch.device("cuda")) == WHOLE_MODEL_GPU
    assert default_settings(losses.CoSENTLoss, "cuda", whole_model=False) == FAST_MODE


def test_the_fast_mode_is_refused_for_a_loss_that_cannot_take_it():
    with pytest.raises(ValueError, match="whole_model=True"):
        default_settings(losses.DenoisingAutoEncoderLoss, "cpu", whole_model=False)


def test_a_rotated_head_keeps_every_cosine_and_privileges_no_dimension(tiny):
    texts = ["A man is playing a guitar.", "A woman slices an onion.", "The cat sleeps.", "Stocks fell today."]
    before = tiny.encode(texts).double()
    rotated = rotate_head(tiny, seed=3)
    after = rotated.encode(texts).double()
    torch.testing.assert_close(after @ after.T, before @ before.T, atol=1e-5, rtol=0)
    assert not torch.allclose(after, before, atol=1e-3)  # the coordinates themselves moved
    weight = rotated.head.weight.double()
    torch.testing.assert_close(weight @ weight.T, torch.eye(weight.shape[0], dtype=torch.float64), atol=1e-5, rtol=0)


def _stsb_evaluation(rows: int = 64):
    train_rows = load_dataset("stsb", "train", verbose=False).select(range(rows))
    return choose_evaluation(Data(train_rows, "stsb", "stsb"), hold_out=40)


def test_seeds_give_one_result_each_and_the_spread_between_them(tiny):
    evaluation = _stsb_evaluation()
    settings = FAST_MODE.__class__(steps=3, batch_size=8, lr=1e-3, freeze_encoder=True, seeds=(0, 1))
    result = run_seeds(tiny, losses.CoSENTLoss, evaluation.train_data, evaluation, settings, label="CoSENT")
    assert len(result.after) == 2 and len(result.histories) == 2
    assert [h.config["seed"] for h in result.histories] == [0, 1]
    assert result.histories[0].losses != result.histories[1].losses  # different seeds, different batches
    assert result.spread == pytest.approx(max(result.after) - min(result.after))
    assert result.before == pytest.approx(evaluation.measure(tiny).score)
    assert result.moved == (abs(result.mean_after - result.before) > result.spread)
    assert "2 seeds" in result.summary() and "spread" in result.summary()
    assert tiny.head is None  # the base model is never trained: each seed trains a copy


def test_a_result_with_one_seed_does_not_claim_an_effect():
    result = RunResult("x", WHOLE_MODEL_CPU, "spearman", 0.5, [0.9], [], 1.0)
    assert not result.moved and "no spread measured" in result.summary()


def test_a_result_says_which_way_it_moved():
    from lossbook.explorer_runs import comparison_table

    down = RunResult("down", WHOLE_MODEL_CPU, "ap", 0.5, [0.40, 0.41], [], 1.0)
    up = RunResult("up", WHOLE_MODEL_CPU, "ap", 0.5, [0.60, 0.61], [], 1.0)
    still = RunResult("still", WHOLE_MODEL_CPU, "ap", 0.5, [0.45, 0.55], [], 1.0)
    assert "down by more than the seed spread" in down.summary() and "up by more" in up.summary()
    assert "within the seed spread" in still.summary()
    table = comparison_table({"A": down, "B": up, "C": still}, "AP")
    assert "<td>yes, down</td>" in table and "<td>yes, up</td>" in table and "<td>no</td>" in table


def test_a_stop_keeps_the_running_seed_and_skips_the_rest(tiny):
    evaluation = _stsb_evaluation()
    stop = threading.Event()
    stop.set()  # already set: the first seed stops after its first step
    settings = FAST_MODE.__class__(steps=50, batch_size=8, lr=1e-3, freeze_encoder=True, seeds=(0, 1, 2))
    result = run_seeds(tiny, losses.CoSENTLoss, evaluation.train_data, evaluation, settings, label="x", stop_event=stop)
    assert len(result.after) == 1 and result.settings.seeds == (0,)
    assert result.histories[0].stopped == "stopped" and len(result.histories[0].steps) == 1


def test_selecting_a_loss_puts_its_default_budget_in_the_sliders(tiny, monkeypatch):
    import lossbook.widgets as widgets
    from lossbook.planner import Plan

    # A machine fast enough for the defaults, whatever this one measures (a loaded machine would lower the steps:
    # the test below checks that).
    def quick_plan(model, loss, data, *, batch_size, steps, freeze_encoder, **_):
        return Plan("cpu", batch_size, steps, 0.01, 100.0, "measured", setup_seconds=0.1)

    monkeypatch.setattr(widgets, "plan", quick_plan)
    app = LossExplorer(model=tiny, train_rows=48)
    app.choose_dataset("stsb")
    app.select_loss("CoSENTLoss")
    assert app.settings() == FAST_MODE and not app.whole_model.value
    app.whole_model.value = True  # the visible switch: fine-tune the whole model
    assert app.settings() == WHOLE_MODEL_CPU
    app.whole_model.value = False
    assert app.settings() == FAST_MODE
    app.modifier.value = "AdaptiveLayer"  # reads layers: the whole model, whatever the switch said
    assert app.settings() == WHOLE_MODEL_CPU and app.whole_model.value
    assert "whole model" in app.mode_info.value


def test_a_slow_machine_gets_fewer_whole_model_steps_and_is_told_so(tiny, monkeypatch):
    import lossbook.widgets as widgets
    from lossbook.planner import Plan

    measured = {"seconds_per_step": 1.5}  # a slow CPU's whole-model step: 2 seeds x 20 steps would take 60 s

    def slow_plan(model, loss, data, *, batch_size, steps, freeze_encoder, **_):
        per_step = 0.002 if freeze_encoder else measured["seconds_per_step"]
        return Plan("cpu", batch_size, steps, per_step, 100.0, "measured", setup_seconds=1.0)

    monkeypatch.setattr(widgets, "plan", slow_plan)
    app = LossExplorer(model=tiny, train_rows=48)
    app.choose_dataset("sentences")
    app.select_loss("ContrastiveTensionLossInBatchNegatives")  # whole model only
    # (30 s / 2 runs - 3 s of evaluation - 1 s of setup) / 1.5 s per step = 7 steps
    assert app.steps.value == 7 and app.estimate.steps == 7
    assert "steps lowered to 7" in app.mode_info.value and "1.50 s per step" in app.mode_info.value
    measured["seconds_per_step"] = 0.3  # a fast CPU: the 20 default steps fit
    app.select_loss("ContrastiveTensionLossInBatchNegatives")
    assert app.steps.value == WHOLE_MODEL_CPU.steps and "lowered" not in app.mode_info.value
    app.choose_dataset("stsb")
    app.select_loss("CoSENTLoss")  # the fast mode is never cut: its steps cost milliseconds
    assert app.settings() == FAST_MODE


def test_converting_nli_for_in_batch_negatives_leaves_rows_to_train_on(tiny):
    """Converted before sampling: a random 600-row sample of NLI keeps few premises with both labels."""
    app = LossExplorer(model=tiny, train_rows=600)
    app.choose_dataset("nli")
    app.apply_conversion("MultipleNegativesRankingLoss")
    assert app.format.key == "triplet" and len(app.dataset) == 600
    assert "600 used" in app.format_info.value and "too few" not in app.format_info.value


def test_a_conversion_that_leaves_few_rows_says_so_before_train(tiny):
    app = LossExplorer(model=tiny, train_rows=600)
    app.choose_dataset("nli")
    app.pool = app.pool.select(range(40))  # a small pool: few premises keep both an entailment and a contradiction
    app.apply_conversion("MultipleNegativesRankingLoss")
    assert len(app.dataset) < MIN_RUN_ROWS and "too few" in app.format_info.value


def test_compared_losses_share_rows_budget_and_seeds(tiny):
    app = LossExplorer(model=tiny, train_rows=48)
    app.choose_dataset("stsb")
    budget = FAST_MODE.__class__(steps=5, batch_size=8, lr=1e-3, freeze_encoder=True, seeds=(0, 1))
    results = app.compare_losses(["CoSENTLoss", "CosineSimilarityLoss"], settings=budget)
    assert list(results) == ["CoSENTLoss", "CosineSimilarityLoss"]
    first, second = results.values()
    assert first.settings == second.settings == budget
    assert first.before == second.before
    rows = [[h.config["rows"] for h in r.histories] for r in results.values()]
    assert rows[0] == rows[1]
    for result in results.values():
        assert [h.config["seed"] for h in result.histories] == list(first.settings.seeds)
    assert "CoSENTLoss" in app.compare_info.value and "&plusmn;" in app.compare_info.value
    assert len(app.compare_plots.children) == 2  # one before/after picture per loss, side by side
    assert all(bytes(image.value).startswith(b"\x89PNG") for image in app.compare_plots.children)


def test_a_comparison_has_one_budget_with_two_seeds_at_least():
    from lossbook.explorer_runs import comparison_settings

    assert comparison_settings([losses.CoSENTLoss, losses.AnglELoss], "cpu") == FAST_MODE
    mixed = comparison_settings([losses.CoSENTLoss, losses.DenoisingAutoEncoderLoss], "cpu")
    assert not mixed.freeze_encoder and mixed.seeds == (0, 1)  # one loss needs the whole model: all get it


@pytest.mark.parametrize(
    ("names", "match"),
    [(["CoSENTLoss"], "2 to 4"), (["CoSENTLoss", "TripletLoss"], "TripletLoss cannot train on this data")],
)
def test_a_comparison_of_unfit_choices_says_what_to_choose(tiny, names, match):
    app = LossExplorer(model=tiny, train_rows=48)
    app.choose_dataset("stsb")
    with pytest.raises(ValueError, match=match):
        app.compare_losses(names)
