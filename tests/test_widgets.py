"""The loss explorer's logic, driven without a browser (its buttons only call these methods)."""

from __future__ import annotations

import functools
import html
import time

import matplotlib
import pytest

matplotlib.use("Agg")

from lossbook.data import DATASETS  # noqa: E402
from lossbook.formats import FORMATS  # noqa: E402
from lossbook.table import losses_for  # noqa: E402
from lossbook.widgets import LossExplorer  # noqa: E402


@pytest.fixture(autouse=True)
def _bundled_only(monkeypatch):
    monkeypatch.delenv("LOSSBOOK_DATA", raising=False)


@pytest.fixture
def explorer(tiny):
    return LossExplorer(model=tiny, train_rows=48)


def _small_budget(app, *, seeds: int = 1):
    """After select_loss (which puts the loss's defaults in the sliders): a budget a test runs in seconds."""
    app.steps.value, app.batch_size.value, app.learning_rate.value, app.seeds.value = 4, 8, 1e-3, seeds


@pytest.mark.parametrize("fmt", [f for f in FORMATS.values() if f.key != "any"], ids=lambda f: f.key)
def test_describing_each_format_lists_exactly_its_losses(explorer, fmt):
    explorer.describe_data(fmt.inputs_text, fmt.labels_text)
    assert explorer.format == fmt
    assert explorer.available_losses() == [cls.__name__ for cls in losses_for(fmt)]
    expected = {
        o.loss.__name__: [c.name for c in o.converters] for o in losses_for(fmt, via_conversion=True) if not o.direct
    }
    assert explorer.convertible_losses() == expected


@pytest.mark.parametrize("name", [n for n in DATASETS if n != "xquad-retrieval"])
def test_choosing_each_data_set_detects_and_lists(explorer, name):
    detection = explorer.choose_dataset(name)
    assert explorer.available_losses() == [cls.__name__ for cls in losses_for(detection.format)]
    assert detection.format.title in explorer.format_info.value


def test_selecting_a_loss_shows_formula_and_reference(explorer):
    explorer.choose_dataset("stsb")
    card = explorer.select_loss("CoSENTLoss")
    assert "$$" in explorer.loss_info.value and html.escape(card.reference) in explorer.loss_info.value
    assert "s per step" in explorer.plan_info.value
    # The card says where to see the loss's forces (notebook 10), or, for a loss that needs texts, why it can't.
    assert 'href="10_loss_anatomy.ipynb"' in explorer.loss_info.value
    assert "LossAnatomy(&quot;CoSENTLoss&quot;)" in explorer.loss_info.value
    explorer.choose_dataset("sentences")
    explorer.select_loss("ContrastiveTensionLossInBatchNegatives")
    assert "not shown there" in explorer.loss_info.value and "texts themselves" in explorer.loss_info.value
    assert "10_loss_anatomy.ipynb" not in explorer.loss_info.value


def test_the_explorers_evaluation_shows_no_progress_bars(explorer, monkeypatch):
    from lossbook.model import EmbeddingModel

    asked = []
    encode = EmbeddingModel.encode

    @functools.wraps(encode)  # keeps encode's signature, which evaluate reads
    def spy(self, texts, *args, **kwargs):
        asked.append((kwargs.get("show_progress"), len(texts)))
        return encode(self, texts, *args, **kwargs)

    monkeypatch.setattr(EmbeddingModel, "encode", spy)
    explorer.choose_dataset("stsb")
    explorer.select_loss("CoSENTLoss")
    _small_budget(explorer)
    assert explorer.run_training().stopped == "completed"
    # The evaluations before and after turn the bars off; the picture's few held-out rows never get one.
    assert any(flag is False for flag, _ in asked)
    assert all(flag is False or count <= 1000 for flag, count in asked)


def test_a_run_fills_history_and_result_plots(explorer):
    explorer.choose_dataset("stsb")
    explorer.select_loss("CoSENTLoss")
    explorer.modifier.value = "Matryoshka"
    explorer.dims.value = "64,32,16"
    _small_budget(explorer, seeds=2)
    history = explorer.run_training()
    assert history.stopped == "completed" and len(history.losses) == 4
    for image in (explorer.live_plot, explorer.curve_plot, explorer.projection_plot):
        assert bytes(image.value).startswith(b"\x89PNG")
    assert set(explorer.results) >= {"before", "after", "spread", "curves"}
    # The modifier's run and its plain control: same budget, same seeds, both on the curve plot.
    modified, control = explorer.runs.values()
    assert modified.settings == control.settings and modified.settings.seeds == (0, 1)
    assert [len(h.steps) for h in modified.histories + control.histories] == [4, 4, 4, 4]
    assert set(explorer.results["curves"]) == {"base", "CoSENTLoss + Matryoshka", "plain CoSENTLoss (control)"}
    assert "spread" in explorer.result_info.value and explorer.outcome.kind == "scored-pairs"


def test_a_softmax_run_pictures_its_classifier_and_a_later_run_replaces_the_picture(explorer):
    explorer.choose_dataset("nli")
    explorer.select_loss("SoftmaxLoss")
    assert not explorer.whole_model.value  # the fast mode: SoftmaxLoss trains on sentence embeddings alone
    _small_budget(explorer)
    explorer.run_training()
    assert explorer.outcome.kind == "confusion" and bytes(explorer.projection_plot.value).startswith(b"\x89PNG")
    assert explorer.results["yardstick"].startswith("Spearman")  # the number is the STS-B transfer
    explorer.choose_dataset("sentences")
    explorer.select_loss("ContrastiveTensionLossInBatchNegatives")
    _small_budget(explorer)
    explorer.steps.value = 2
    explorer.run_training()
    assert explorer.outcome.kind == "scored-pairs"  # its own picture, not the classifier's left over


def test_conversion_opens_a_greyed_loss(explorer):
    explorer.train_rows = 450  # whole premises are needed to group entailments with contradictions
    explorer.choose_dataset("nli")
    assert "TripletLoss" not in explorer.available_losses() and "TripletLoss" in explorer.convertible_losses()
    explorer.apply_conversion("TripletLoss")
    assert explorer.format.key == "triplet" and explorer.loss_name == "TripletLoss"
    _small_budget(explorer)
    assert explorer.run_training().stopped == "completed"


def test_stop_ends_a_background_run_and_keeps_the_model(explorer):
    explorer.choose_dataset("qa-pairs")
    explorer.select_loss("MultipleNegativesRankingLoss")
    _small_budget(explorer)
    explorer.whole_model.value = True  # whole-model steps are slow enough to stop in the middle
    explorer.steps.value = 400
    explorer.run_training(background=True)
    deadline = time.time() + 60
    while explorer.progress.value < 2 and time.time() < deadline:
        time.sleep(0.05)
    explorer.stop()
    explorer._thread.join(timeout=120)
    assert explorer.history is not None and explorer.history.stopped == "stopped"
    assert len(explorer.history.steps) < 400 and explorer.trained_model is not None


@pytest.mark.parametrize(
    ("action", "match"),
    [
        (lambda app: app.run_training(), "Choose a data set"),
        (lambda app: app.describe_data("single sentences", "float similarity score"), "No loss of the table"),
    ],
)
def test_bad_choices_show_a_message_not_a_traceback(explorer, action, match):
    explorer._safely(action, explorer)
    assert match in explorer.message and "Traceback" not in explorer.message_box.value
    assert "lb-message" in explorer.message_box._dom_classes


def test_a_loss_that_cannot_run_on_the_data_says_why(explorer):
    explorer.choose_dataset("sentences")
    explorer.loss_name = "CoSENTLoss"  # not offered for this format; forced to check the message path
    explorer._safely(explorer.run_training)
    assert "CoSENTLoss" in explorer.message and "needs" in explorer.message


# -- what a learner types wrong: one clear line each, no traceback from deep inside -----------------------
def test_explorer_names_an_unknown_loss_with_the_closest_names(tiny):
    explorer = LossExplorer(tiny)
    with pytest.raises(ValueError, match="Unknown loss 'CoSentLoss'. Did you mean CoSENTLoss"):
        explorer.select_loss("CoSentLoss")


def test_explorer_says_when_a_conversion_is_not_needed_or_does_not_exist(tiny):
    explorer = LossExplorer(tiny, train_rows=60)
    explorer.choose_dataset("nli")
    with pytest.raises(ValueError, match="SoftmaxLoss takes this data as it is: no conversion is needed"):
        explorer.apply_conversion("SoftmaxLoss")
    with pytest.raises(ValueError, match="No conversion of this data opens 'NoSuchLoss'. The conversions here open: "):
        explorer.apply_conversion("NoSuchLoss")


@pytest.mark.parametrize(("typed", "expected"), [("384, 128,128 ,64", [384, 128, 64]), ("32", [32])])
def test_matryoshka_dims_typed_as_text(typed, expected):
    from lossbook.run_setup import parse_dims

    assert parse_dims(typed) == expected


@pytest.mark.parametrize("typed", ["abc", "64,x", "", "0,32", "-8"])
def test_matryoshka_dims_that_are_not_numbers_say_what_to_type(typed):
    from lossbook.run_setup import parse_dims

    with pytest.raises(ValueError, match="like 384,256,128,64"):
        parse_dims(typed)
