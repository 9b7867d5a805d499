"""The loss explorer's widgets and layout: what the learner sees, with none of what the buttons do.

``lossbook.widgets.LossExplorer`` builds on this and wires each widget to a plain method. Every
interactive part carries a stable CSS class (``lb-data``, ``lb-losses``, ``lb-train``, ``lb-live`` ...)
so the browser test can find it.
"""

from __future__ import annotations

import html
import io
import re

import ipywidgets as W
import matplotlib.pyplot as plt

from lossbook.anatomy_presets import refusal
from lossbook.data import DATASETS
from lossbook.formats import FORMATS

__all__ = ["ANATOMY_NOTEBOOK", "DESCRIBE", "ExplorerView", "anatomy_line", "html_of_docstring", "png"]

# The tutorial that shows each loss's forces on a few points; a relative link opens it beside the explorer.
ANATOMY_NOTEBOOK = "10_loss_anatomy.ipynb"

DESCRIBE = "(describe my own data)"
UPLOAD_SUFFIXES = ".csv,.jsonl,.json"
_TRAINABLE_SETS = [name for name in DATASETS if name != "xquad-retrieval"]
_INPUTS = sorted({fmt.inputs_text for fmt in FORMATS.values() if fmt.key != "any"})
_LABELS = sorted({fmt.labels_text for fmt in FORMATS.values() if fmt.key != "any"})


def png(fig) -> bytes:
    """A matplotlib figure as PNG bytes for a ``W.Image``; the figure is closed (no copy piles up in memory)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def html_of_docstring(text: str) -> str:
    """Docstring text as HTML: escaped, with ``literals`` and :class:`Names` shown as code."""
    escaped = html.escape(text)
    escaped = re.sub(r"``(.+?)``", r"<code>\1</code>", escaped)
    return re.sub(r":(?:class|func|meth):`~?([^`]+)`", r"<code>\1</code>", escaped)


def anatomy_line(cls: type) -> str:
    """The loss card's last line: where to see the loss's forces (notebook 10, ``LossAnatomy``), or why it can't be."""
    reason = refusal(cls)
    if reason is not None:
        return f"<br><i>Loss anatomy:</i> not shown there ({html.escape(reason)})"
    return (
        f'<br><i>See its forces on a few points:</i> <a href="{ANATOMY_NOTEBOOK}" target="_blank">notebook 10, '
        f"loss anatomy</a>, or run <code>LossAnatomy(&quot;{cls.__name__}&quot;).show()</code> "
        "(<code>from lossbook.anatomy_widget import LossAnatomy</code>)"
    )


def _css(widget, name: str):
    widget.add_class(name)
    return widget


class ExplorerView:
    """The explorer's widgets, one attribute each, and the five steps they are laid out in."""

    message = ""

    def _build_widgets(self) -> None:
        # Step 1: the data (a named set, a file of one's own, or a description of the format).
        self.data_dropdown = _css(
            W.Dropdown(options=[DESCRIBE] + _TRAINABLE_SETS, value=None, description="Data"), "lb-data"
        )
        self.upload = _css(
            W.FileUpload(accept=UPLOAD_SUFFIXES, multiple=False, description="Your file (CSV, JSONL)"), "lb-upload"
        )
        self.inputs_dropdown = _css(W.Dropdown(options=_INPUTS, value=None, description="Inputs"), "lb-inputs")
        self.labels_dropdown = _css(W.Dropdown(options=_LABELS, value=None, description="Labels"), "lb-labels")
        self.format_info = _css(W.HTML(), "lb-format")
        # Step 2: the losses the table allows, and those a conversion opens.
        self.loss_list = _css(W.Select(options=[], rows=8, description="Losses"), "lb-losses")
        self.convertible = _css(W.HTML(), "lb-convertible")
        self.convert_dropdown = _css(W.Dropdown(options=[], description="After"), "lb-convert-choice")
        self.convert_button = _css(W.Button(description="Convert the data"), "lb-convert")
        self.loss_info = _css(W.HTMLMath(), "lb-loss-info")
        # Step 3: the run's options and budget.
        self.scale = _css(W.FloatText(value=20.0, description="scale"), "lb-scale")
        self.margin = _css(W.FloatText(value=0.5, description="margin"), "lb-margin")
        self.modifier = _css(
            W.Dropdown(options=["none", "Matryoshka", "AdaptiveLayer"], value="none", description="Modifier"),
            "lb-modifier",
        )
        self.dims = _css(W.Text(value="384,256,128,64,32", description="dims"), "lb-dims")
        self.whole_model = _css(
            W.Checkbox(value=False, description="fine-tune the whole model", indent=False), "lb-whole-model"
        )
        self.steps = _css(W.IntSlider(value=20, min=2, max=1000, description="steps"), "lb-steps")
        self.batch_size = _css(W.IntSlider(value=16, min=4, max=128, step=4, description="batch"), "lb-batch")
        self.learning_rate = _css(W.FloatLogSlider(value=2e-5, base=10, min=-6, max=-2, description="lr"), "lb-lr")
        self.seeds = _css(W.IntSlider(value=2, min=1, max=4, description="seeds"), "lb-seeds")
        self.mode_info = _css(W.HTML(), "lb-mode")
        self.plan_info = _css(W.HTML(), "lb-plan")
        self.train_button = _css(W.Button(description="Train", button_style="primary"), "lb-train")
        self.stop_button = _css(W.Button(description="Stop", button_style="warning"), "lb-stop")
        self.progress = _css(W.IntProgress(value=0, min=0, max=1), "lb-progress")
        self.message_box = _css(W.HTML(), "lb-message")
        self.live_plot = _css(W.Image(format="png", layout=W.Layout(width="520px")), "lb-live")
        # Step 4: what the run did. Step 5: losses side by side.
        self.result_info = _css(W.HTML(), "lb-results")
        self.projection_plot = _css(W.Image(format="png", layout=W.Layout(width="640px")), "lb-projection")
        self.curve_plot = _css(W.Image(format="png", layout=W.Layout(width="480px")), "lb-matryoshka")
        self.compare_choice = _css(W.SelectMultiple(options=[], rows=6, description="Compare"), "lb-compare-choice")
        self.compare_button = _css(W.Button(description="Compare them"), "lb-compare")
        self.compare_info = _css(W.HTML(), "lb-compare-results")
        self.compare_plots = _css(W.HBox([]), "lb-compare-plots")

    def show(self):
        """Display the explorer (in a notebook)."""
        from IPython.display import display

        display(self.widget)
        return None

    @property
    def widget(self) -> W.Widget:
        step1 = W.VBox(
            [
                W.HTML("<b>1. Your data</b>: a data set, your own file, or a description of it"),
                W.HBox([self.data_dropdown, self.upload]),
                W.HBox([self.inputs_dropdown, self.labels_dropdown]),
                self.format_info,
            ]
        )
        step2 = W.VBox(
            [
                W.HTML("<b>2. Losses for it</b>"),
                W.HBox([self.loss_list, self.loss_info]),
                self.convertible,
                W.HBox([self.convert_dropdown, self.convert_button]),
            ]
        )
        step3 = W.VBox(
            [
                W.HTML("<b>3. Train</b>"),
                W.HBox([self.scale, self.margin]),
                W.HBox([self.modifier, self.dims]),
                W.HBox([self.whole_model, self.mode_info]),
                W.HBox([self.steps, self.batch_size, self.learning_rate, self.seeds]),
                self.plan_info,
                W.HBox([self.train_button, self.stop_button, self.progress]),
                self.message_box,
                self.live_plot,
            ]
        )
        step4 = W.VBox([W.HTML("<b>4. Results</b>"), self.result_info, self.projection_plot, self.curve_plot])
        step5 = W.VBox(
            [
                W.HTML("<b>5. Losses side by side</b>: 2-4 losses on the same rows, steps and seeds"),
                W.HBox([self.compare_choice, self.compare_button]),
                self.compare_info,
                self.compare_plots,
            ]
        )
        return _css(W.VBox([step1, step2, step3, step4, step5]), "lb-explorer")

    def _safely(self, action, *args, **kwargs):
        """Run an action from a widget event; show any error as a message (a traceback helps no one here)."""
        try:
            self._say("")
            return action(*args, **kwargs)
        except Exception as error:  # every failure becomes a readable message in the widget
            self._say(f"{type(error).__name__}: {error}", error=True)
            return None

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message = text
        colour = "#b00020" if error else "#333"
        self.message_box.value = (
            f"<pre style='color:{colour};white-space:pre-wrap'>{html.escape(text)}</pre>" if text else ""
        )
