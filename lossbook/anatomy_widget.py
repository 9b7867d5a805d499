"""The loss anatomy app: a loss, a few points on the unit circle, the forces it puts on them; step, play, reset.

``LossAnatomy().show()`` in a notebook. Every action is a plain method (``select_loss``, ``select_preset``,
``set_option``, ``choose_point``, ``move_point``, ``step``, ``play``, ``stop``, ``reset``, ``redraw``), so tests
and notebook cells drive it without a browser; the widgets only call those methods. An action that fails shows
its error as a message in the widget (``message``) and returns None, never a traceback. Every widget carries a
CSS class ``lb-anatomy-...`` so the browser test can find it.

The picture has three panels: the points with ``-dL/dx`` as arrows (:func:`lossbook.plots.anatomy_plot`, the
arrow scale kept from the last reset so the forces visibly shrink as the loss falls), each pair's pull or push
(:func:`lossbook.plots.pair_weights_heatmap`) and the loss after each step.
"""

from __future__ import annotations

import functools
import html
import io
import math
import threading
from contextlib import contextmanager

import ipywidgets as W
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from lossbook.anatomy import anatomy, anatomy_losses, build_loss, loss_options, presets_for
from lossbook.anatomy_presets import PRESETS, preset
from lossbook.plots.anatomy import anatomy_plot, auto_arrow_scale, pair_weights_heatmap

__all__ = ["LossAnatomy"]

DPI = 80  # small PNGs: a redraw (three panels) stays well under 0.3 s on a 2-core CPU
# How each tunable option is offered: (slider kind, low, high); log sliders take powers of ten.
_SLIDERS = {
    "scale": ("log", 0.0, 2.0),
    "temperature": ("log", -2.0, 1.0),
    "margin": ("linear", 0.0, 6.0),
    "triplet_margin": ("linear", 0.0, 6.0),
    "positive_margin": ("linear", -1.0, 1.0),
    "negative_margin": ("linear", -1.0, 1.0),
}


def _css(widget, name: str):
    widget.add_class(name)
    return widget


def _action(method):
    """A public action: runs under the app's lock; an error becomes the widget's message (and the result None)."""

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        with self._lock:
            self._say("")
            try:
                return method(self, *args, **kwargs)
            except Exception as error:  # every failure becomes a readable message in the widget
                self._say(f"{type(error).__name__}: {error}", error=True)
                return None

    return run


class LossAnatomy:
    """An ipywidgets app showing the forces a loss puts on a few 2-D (or 3-D) embeddings.

    Args:
        loss: the loss shown first (a name from ``lossbook.anatomy.anatomy_losses()`` that can be shown).
        preset: its batch (a name of ``lossbook.anatomy.PRESETS``); default: the first that fits the loss.
        lr: the learning rate of a Step.
        play_steps: how many steps Play takes.
    """

    def __init__(self, loss: str = "MultipleNegativesRankingLoss", preset: str | None = None, *, lr=0.1, play_steps=20):
        self._lock = threading.RLock()
        self._quiet = False  # True while the app sets a widget itself: its observer must not act again
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.message = ""
        self.shown = [name for name, reason in anatomy_losses().items() if reason is None]
        self.loss_name, self.loss, self.options, self.preset_name = None, None, {}, None
        self.batch, self.points, self.anat, self.history, self.arrow_scale = None, [], None, [], 1.0
        self._build_widgets(lr, play_steps)
        self._figure = Figure(figsize=(10.5, 3.4), dpi=DPI)
        FigureCanvasAgg(self._figure)
        self._axes = self._figure.subplots(1, 3, gridspec_kw={"width_ratios": [1.0, 1.0, 0.9]})
        self._figure.subplots_adjust(left=0.01, right=0.985, bottom=0.14, top=0.80, wspace=0.28)
        self.select_loss(loss)
        if preset is not None:
            self.select_preset(preset)

    # -- widgets --------------------------------------------------------------------------------------
    def _build_widgets(self, lr: float, play_steps: int) -> None:
        self.loss_dropdown = _css(W.Dropdown(options=self.shown, value=None, description="Loss"), "lb-anatomy-loss")
        self.preset_dropdown = _css(W.Dropdown(options=[], description="Batch"), "lb-anatomy-preset")
        self.preset_info = _css(W.HTML(), "lb-anatomy-preset-info")
        self.point_dropdown = _css(W.Dropdown(options=[], description="Point"), "lb-anatomy-point")
        self.angle_slider = _css(
            W.FloatSlider(value=0, min=-180, max=180, step=1, description="angle", continuous_update=False),
            "lb-anatomy-angle",
        )
        self.options_box = _css(W.HBox([]), "lb-anatomy-options")
        self.option_sliders: dict[str, W.Widget] = {}
        self.lr_slider = _css(
            W.FloatLogSlider(value=lr, base=10, min=-3, max=0.5, description="lr", continuous_update=False),
            "lb-anatomy-lr",
        )
        self.steps_slider = _css(W.IntSlider(value=play_steps, min=1, max=200, description="steps"), "lb-anatomy-steps")
        self.step_button = _css(W.Button(description="Step", button_style="primary"), "lb-anatomy-step")
        self.play_button = _css(W.Button(description="Play"), "lb-anatomy-play")
        self.stop_button = _css(W.Button(description="Stop", button_style="warning"), "lb-anatomy-stop")
        self.reset_button = _css(W.Button(description="Reset"), "lb-anatomy-reset")
        self.plot = _css(W.Image(format="png", layout=W.Layout(width="840px")), "lb-anatomy-plot")
        self.info = _css(W.HTML(), "lb-anatomy-info")
        self.message_box = _css(W.HTML(), "lb-anatomy-message")
        refused = "".join(
            f"<li>{html.escape(reason)}</li>" for reason in anatomy_losses().values() if reason is not None
        )
        self.refused_info = _css(
            W.HTML(f"<details><summary>Not shown here</summary><ul>{refused}</ul></details>"), "lb-anatomy-refused"
        )

        def when_changed(widget, act):
            widget.observe(lambda change: None if self._quiet else act(change["new"]), names="value")

        when_changed(self.loss_dropdown, self.select_loss)
        when_changed(self.preset_dropdown, self.select_preset)
        when_changed(self.point_dropdown, self.choose_point)
        when_changed(self.angle_slider, lambda angle: self.move_point(*self._chosen_point(), angle))
        self.step_button.on_click(lambda _: self.step())
        self.play_button.on_click(lambda _: self.play_in_background())
        self.stop_button.on_click(lambda _: self.stop())
        self.reset_button.on_click(lambda _: self.reset())

    @property
    def widget(self) -> W.Widget:
        return _css(
            W.VBox(
                [
                    W.HTML("<b>Loss anatomy</b>: the forces a loss puts on each embedding, and each pair's share"),
                    W.HBox([self.loss_dropdown, self.preset_dropdown]),
                    self.preset_info,
                    W.HBox([self.point_dropdown, self.angle_slider]),
                    self.options_box,
                    W.HBox([self.lr_slider, self.steps_slider]),
                    W.HBox([self.step_button, self.play_button, self.stop_button, self.reset_button]),
                    self.message_box,
                    self.info,
                    self.plot,
                    self.refused_info,
                ]
            ),
            "lb-anatomy",
        )

    def show(self):
        """Display the app (in a notebook)."""
        from IPython.display import display

        display(self.widget)

    @contextmanager
    def _quietly(self):
        self._quiet, before = True, self._quiet
        try:
            yield
        finally:
            self._quiet = before

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message = text
        colour = "#b00020" if error else "#333"
        self.message_box.value = (
            f"<pre style='color:{colour};white-space:pre-wrap'>{html.escape(text)}</pre>" if text else ""
        )

    def _option_slider(self, name: str, value: float) -> W.Widget:
        kind, low, high = _SLIDERS[name]
        common = {"description": name, "continuous_update": False, "style": {"description_width": "initial"}}
        if kind == "log":
            slider = W.FloatLogSlider(value=value, base=10, min=low, max=high, step=0.05, **common)
        else:
            slider = W.FloatSlider(value=value, min=low, max=high, step=0.05, **common)
        slider.observe(lambda change: None if self._quiet else self.set_option(name, change["new"]), names="value")
        return _css(_css(slider, "lb-anatomy-option"), f"lb-anatomy-option-{name.replace('_', '-')}")

    # -- actions --------------------------------------------------------------------------------------
    @_action
    def select_loss(self, name: str):
        """Show loss ``name`` with its default options on the first batch that fits it."""
        if name not in self.shown:
            reason = anatomy_losses().get(name)
            raise ValueError(reason or f"Unknown loss {name!r}; the anatomy shows: {', '.join(self.shown)}.")
        self.loss, self.loss_name, self.options = build_loss(name), name, loss_options(name)
        self.option_sliders = {key: self._option_slider(key, value) for key, value in self.options.items()}
        self.options_box.children = list(self.option_sliders.values())
        fitting = presets_for(self.loss)
        with self._quietly():
            self.loss_dropdown.value = name
            self.preset_dropdown.options = fitting
        self._load_preset(fitting[0])
        return self.anat

    @_action
    def select_preset(self, name: str):
        """Start again from preset ``name`` (one of ``presets_for`` the loss)."""
        fitting = presets_for(self.loss)
        if name not in fitting:
            raise ValueError(f"{self.loss_name} takes the presets {', '.join(fitting)}, not {name!r}.")
        self._load_preset(name)
        return self.anat

    @_action
    def set_option(self, name: str, value: float):
        """Rebuild the loss with option ``name`` (its scale, temperature or a margin) set to ``value`` and redraw."""
        if name not in self.options:
            have = ", ".join(self.options) or "none"
            raise ValueError(f"{self.loss_name} has no option {name!r} to tune here (its options: {have}).")
        options = {**self.options, name: float(value)}
        try:
            loss = build_loss(self.loss_name, **options)
            result = anatomy(loss, self.points, self.batch.labels, guide=self.batch.embeddings)
            if not math.isfinite(result.loss_value):
                raise ValueError(f"{name}={value:g} makes {self.loss_name} {result.loss_value} on these points.")
        except Exception:
            with self._quietly():  # the slider goes back to the value the loss still has
                self.option_sliders[name].value = self.options[name]
            raise
        self.loss, self.options, self.anat, self.history = loss, options, result, [result.loss_value]
        with self._quietly():
            self.option_sliders[name].value = float(value)
        self._redraw()
        return self.anat

    @_action
    def choose_point(self, index: int):
        """Let the angle slider move point ``index`` (numbered as in ``anat.pair_labels``)."""
        with self._quietly():
            self.point_dropdown.value = int(index)
            column, row = self._chosen_point()
            x, y = self.points[column][row][:2]
            self.angle_slider.value = round(math.degrees(math.atan2(y, x)))
        return column, row

    @_action
    def move_point(self, column: int, row: int, angle: float):
        """Turn point ``row`` of ``column`` to ``angle`` degrees (3-D points: the azimuth, height kept) and redraw."""
        if not (0 <= column < len(self.points) and 0 <= row < len(self.points[column])):
            raise ValueError(f"No point at column {column}, row {row}: the batch has {len(self.points)} columns.")
        point = self.points[column][row].copy()
        radius = float(np.hypot(point[0], point[1])) or math.sqrt(max(1.0 - float(np.sum(point[2:] ** 2)), 0.0))
        point[:2] = radius * math.cos(math.radians(angle)), radius * math.sin(math.radians(angle))
        moved = [e.copy() for e in self.points]
        moved[column][row] = point
        self.anat = anatomy(self.loss, moved, self.batch.labels, guide=self.batch.embeddings)
        self.points, self.history = moved, [self.anat.loss_value]
        with self._quietly():
            self.point_dropdown.value = int(sum(len(e) for e in self.points[:column]) + row)
            self.angle_slider.value = float(angle)
        self._redraw()
        return self.anat

    @_action
    def step(self):
        """One gradient-descent step of every point (``lr`` from the slider), back onto the unit circle."""
        self.points = self.anat.step(self.lr_slider.value)
        self.anat = anatomy(self.loss, self.points, self.batch.labels, guide=self.batch.embeddings)
        self.history.append(self.anat.loss_value)
        self._sync_angle()
        self._redraw()
        return self.anat

    def play(self, steps: int | None = None) -> int:
        """``steps`` steps (default: the steps slider), each redrawn, until ``stop()``; returns the steps done."""
        steps = self.steps_slider.value if steps is None else steps
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            self._say(f"ValueError: steps must be a whole number >= 0, got {steps!r}.", error=True)
            return 0
        self._stopping, done = False, 0
        while done < steps and not self._stopping:
            if self.step() is None:  # the step failed: its message is shown
                break
            done += 1
        return done

    def play_in_background(self) -> threading.Thread:
        """Play in a thread, so that the Stop button (and the kernel) stay responsive; what Play's button does."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self.play, daemon=True, name="lossbook-anatomy-play")
            self._thread.start()
        return self._thread

    def stop(self) -> None:
        """End a running Play after its current step."""
        self._stopping = True

    @_action
    def reset(self):
        """Back to the preset's points, a fresh loss curve and arrow scale."""
        self._reset()
        return self.anat

    @_action
    def redraw(self) -> bytes:
        """Draw the three panels into the image; returns the PNG bytes."""
        return self._redraw()

    # -- the work behind the actions --------------------------------------------------------------------
    def _load_preset(self, name: str) -> None:
        self.preset_name, self.batch = name, preset(name)
        with self._quietly():
            self.preset_dropdown.value = name
        self.preset_info.value = f"<i>{html.escape(PRESETS[name].description)}</i>"
        self._reset()

    def _reset(self) -> None:
        self.points = [e.copy() for e in self.batch.embeddings]
        self.anat = anatomy(self.loss, self.points, self.batch.labels, guide=self.batch.embeddings)
        self.history, self.arrow_scale = [self.anat.loss_value], auto_arrow_scale(self.anat)
        with self._quietly():
            self.point_dropdown.options = [(name, index) for index, name in enumerate(self.anat.pair_labels)]
            self.point_dropdown.value = 0
        self._sync_angle()
        self._redraw()

    def _chosen_point(self) -> tuple[int, int]:
        index = self.point_dropdown.value or 0
        for column, points in enumerate(self.points):
            if index < len(points):
                return column, index
            index -= len(points)
        raise ValueError(f"No point {self.point_dropdown.value} in this batch.")

    def _sync_angle(self) -> None:
        column, row = self._chosen_point()
        x, y = self.points[column][row][:2]
        with self._quietly():
            self.angle_slider.value = round(math.degrees(math.atan2(y, x)))

    def _redraw(self) -> bytes:
        forces, pairs, curve = self._axes
        for ax in self._axes:
            ax.clear()
        anatomy_plot(self.anat, ax=forces, arrow_scale=self.arrow_scale)
        pair_weights_heatmap(self.anat, ax=pairs)
        curve.plot(range(len(self.history)), self.history, marker="o", markersize=2.5, linewidth=1)
        curve.set_xlim(-0.5, max(len(self.history) - 1, 5) + 0.5)
        curve.xaxis.set_major_locator(MaxNLocator(integer=True))
        # Plain values on the axis: a loss that barely moves would otherwise get an offset label ("1e-12+5.6e-7").
        curve.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.3g}"))
        curve.set_xlabel("step", fontsize=7)
        curve.set_title("loss after each step", fontsize=8)
        curve.tick_params(labelsize=7)
        buffer = io.BytesIO()
        self._figure.savefig(buffer, format="png", dpi=DPI)
        self.plot.value = buffer.getvalue()
        alignment, uniformity = self.anat.alignment_uniformity()
        self.info.value = (
            f"<b>{html.escape(self.anat.loss_name)}</b> on <i>{html.escape(self.preset_name)}</i>: "
            f"L = {self.anat.loss_value:.4f} after {len(self.history) - 1} step(s); "
            f"alignment {alignment:.3f}, uniformity {uniformity:.3f} (Wang &amp; Isola)"
        )
        return self.plot.value
