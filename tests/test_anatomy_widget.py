"""The loss anatomy app, driven without a browser: its widgets only call plain methods, errors become messages."""

from __future__ import annotations

import time

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from lossbook.anatomy import anatomy_losses, presets_for  # noqa: E402
from lossbook.anatomy_presets import preset  # noqa: E402
from lossbook.anatomy_widget import LossAnatomy  # noqa: E402


@pytest.fixture
def app():
    return LossAnatomy()


def _image(app) -> bytes:
    return bytes(app.plot.value)


def test_it_offers_exactly_the_losses_that_can_be_shown_and_draws_each(app):
    assert list(app.loss_dropdown.options) == [n for n, reason in anatomy_losses().items() if reason is None]
    assert "GISTEmbedLoss" in app.loss_dropdown.options and "DenoisingAutoEncoderLoss" not in app.loss_dropdown.options
    assert "DenoisingAutoEncoderLoss" in app.refused_info.value
    for name in app.loss_dropdown.options:
        app.loss_dropdown.value = name
        assert app.message == "", name
        assert app.loss_name == name and list(app.preset_dropdown.options) == presets_for(name)
        assert _image(app).startswith(b"\x89PNG") and name in app.info.value


def test_every_widget_carries_its_css_class(app):
    named = {
        "loss_dropdown": "lb-anatomy-loss",
        "preset_dropdown": "lb-anatomy-preset",
        "point_dropdown": "lb-anatomy-point",
        "angle_slider": "lb-anatomy-angle",
        "options_box": "lb-anatomy-options",
        "lr_slider": "lb-anatomy-lr",
        "steps_slider": "lb-anatomy-steps",
        "step_button": "lb-anatomy-step",
        "play_button": "lb-anatomy-play",
        "stop_button": "lb-anatomy-stop",
        "reset_button": "lb-anatomy-reset",
        "plot": "lb-anatomy-plot",
        "info": "lb-anatomy-info",
        "message_box": "lb-anatomy-message",
    }
    for attribute, css in named.items():
        assert css in getattr(app, attribute)._dom_classes, attribute
    assert "lb-anatomy-option-scale" in app.option_sliders["scale"]._dom_classes
    assert "lb-anatomy" in app.widget._dom_classes


def test_the_angle_slider_moves_the_chosen_point(app):
    before_image, before_loss = _image(app), app.anat.loss_value
    app.point_dropdown.value = 1  # a1
    x, y = preset("pair").embeddings[0][1]
    assert app.angle_slider.value == round(np.degrees(np.arctan2(y, x)))
    app.angle_slider.value = 45
    np.testing.assert_allclose(app.points[0][1], [np.cos(np.radians(45)), np.sin(np.radians(45))])
    assert app.anat.loss_value != before_loss and _image(app) != before_image
    assert app.move_point(1, 2, -30) is app.anat and app.angle_slider.value == -30 and app.point_dropdown.value == 6


def test_a_3d_point_turns_about_the_vertical_and_keeps_its_height(app):
    app.select_loss("MatryoshkaLoss")
    height = app.points[1][0][2]
    app.move_point(1, 0, 90)
    assert app.points[1][0][2] == height and np.linalg.norm(app.points[1][0]) == pytest.approx(1.0)


def test_an_option_slider_rebuilds_the_loss(app):
    before = _image(app)
    app.option_sliders["scale"].value = 5.0
    assert app.loss.scale == pytest.approx(5.0) and app.options["scale"] == pytest.approx(5.0)
    assert _image(app) != before and len(app.history) == 1
    app.loss_dropdown.value = "MegaBatchMarginLoss"
    assert set(app.option_sliders) == {"positive_margin", "negative_margin"}
    app.option_sliders["negative_margin"].value = 0.0
    assert app.loss.negative_margin == 0.0


def test_step_lowers_the_loss_and_reset_restores_the_preset(app):
    app.preset_dropdown.value = "duplicate-in-batch"
    start, before = app.anat.loss_value, _image(app)
    app.step_button.click()
    assert len(app.history) == 2 and app.history[-1] < start and _image(app) != before
    assert any(not np.array_equal(p, q) for p, q in zip(app.points, preset("duplicate-in-batch").embeddings))
    app.reset_button.click()
    assert all(np.array_equal(p, q) for p, q in zip(app.points, preset("duplicate-in-batch").embeddings))
    assert app.history == [start] and _image(app) == before


def test_play_takes_its_steps_and_ends(app):
    assert app.play(3) == 3 and len(app.history) == 4
    assert all(later < earlier for earlier, later in zip(app.history, app.history[1:]))
    app.steps_slider.value = 2
    app.play_button.click()  # in a thread, as in the notebook
    app._thread.join(timeout=60)
    assert not app._thread.is_alive() and len(app.history) == 6


def test_stop_ends_a_play_early(app):
    app.steps_slider.value = 200
    thread = app.play_in_background()
    deadline = time.monotonic() + 60
    while len(app.history) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    app.stop_button.click()
    thread.join(timeout=60)
    assert not thread.is_alive() and 2 <= len(app.history) < 201


@pytest.mark.parametrize(
    ("action", "match"),
    [
        (lambda app: app.set_option("scale", -1.0), "scale must be positive"),
        (lambda app: app.set_option("margin", 0.5), "MultipleNegativesRankingLoss has no option 'margin'"),
        (lambda app: app.select_loss("AdaptiveLayerLoss"), "AdaptiveLayerLoss cannot be shown on given points"),
        (lambda app: app.select_preset("pair-score"), "MultipleNegativesRankingLoss takes the presets pair"),
        (lambda app: app.move_point(5, 0, 10.0), "No point at column 5"),
        (lambda app: app.play(-1), "steps must be a whole number"),
    ],
)
def test_a_bad_value_shows_a_message_not_a_traceback(app, action, match):
    before = (app.loss_name, app.loss.scale, app.preset_name, _image(app))
    assert not action(app)
    assert match in app.message and "Traceback" not in app.message_box.value
    assert (app.loss_name, app.loss.scale, app.preset_name, _image(app)) == before
    assert app.option_sliders["scale"].value == pytest.approx(20.0)  # the slider went back with the loss
    app.step()
    assert app.message == ""  # the next action clears it
