"""The loss explorer: pick your data, see which losses fit (and which a conversion opens), train, look.

``LossExplorer().show()`` in a notebook. Every action is a plain method (``choose_dataset``,
``describe_data``, ``select_loss``, ``apply_conversion``, ``run_training``, ``stop``), so tests and
the notebook's demo cells drive it without a browser; the buttons only call those methods. Errors
become a readable message in the widget, never a traceback. Interactive parts carry stable CSS
classes (``lb-data``, ``lb-losses``, ``lb-train``, ``lb-live`` ...) for browser tests.
"""

from __future__ import annotations

import html
import io
import re
import threading

import ipywidgets as W
import matplotlib.pyplot as plt

from lossbook import plots
from lossbook.checks import check
from lossbook.data import DATASETS
from lossbook.detect import detect_format
from lossbook.explorer_pictures import outcome_of_run, picture_rows
from lossbook.explorer_runs import (
    RunSettings,
    comparison_settings,
    comparison_table,
    default_settings,
    rotate_head,
    run_seeds,
)
from lossbook.formats import FORMATS
from lossbook.planner import plan
from lossbook.run_data import Data, load_data
from lossbook.run_setup import build_loss, choose_evaluation, loss_class, parse_dims, takes_margin
from lossbook.table import loss_card, losses_for

__all__ = ["LossExplorer"]

_DESCRIBE = "(describe my own data)"
_TRAINABLE_SETS = [name for name in DATASETS if name != "xquad-retrieval"]
_INPUTS = sorted({fmt.inputs_text for fmt in FORMATS.values() if fmt.key != "any"})
_LABELS = sorted({fmt.labels_text for fmt in FORMATS.values() if fmt.key != "any"})


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _rst(text: str) -> str:
    """Docstring text as HTML: escaped, with ``literals`` and :class:`Names` shown as code."""
    escaped = html.escape(text)
    escaped = re.sub(r"``(.+?)``", r"<code>\1</code>", escaped)
    return re.sub(r":(?:class|func|meth):`~?([^`]+)`", r"<code>\1</code>", escaped)


def _css(widget, name: str):
    widget.add_class(name)
    return widget


POOL_ROWS = 5_000  # rows the explorer loads of a data set, to sample its training rows from
MIN_RUN_ROWS = 100  # fewer rows than this after a conversion: the explorer says so before Train
EVAL_ROWS = 300  # rows a run is evaluated on (held out of its training rows, or a validation split's first)


class LossExplorer:
    """An ipywidgets app over lossbook: data -> losses -> training run -> results.

    Args:
        model: the base model (default: ``lossbook.load_model()`` on first use). Every run trains a
            fresh copy, so runs can be compared and the base stays untouched.
        train_rows: how many rows of a data set a run uses (small keeps CPU runs short).
    """

    def __init__(self, model=None, *, train_rows: int = 600) -> None:
        self._model = model
        self.train_rows = train_rows
        self.dataset = None  # the rows a run trains on (and holds out from): a sample of the pool
        self.pool = None  # the rows loaded (at most POOL_ROWS), which conversions start from
        self.dataset_name: str | None = None
        self.format = None
        self.detection = None
        self.source: str | None = None  # where the chosen data set came from
        self.loss_name: str | None = None
        self.history = None
        self.estimate = None  # the planner's Plan for the chosen loss and data, shown next to the run's time
        self.trained_model = None
        self.results: dict = {}
        self.message = ""
        self.runs: dict = {}  # label -> explorer_runs.RunResult of the last press of Train (and its control)
        self.outcome = None  # the last run's before/after picture (lossbook.outcome.Outcome)
        self.comparison: dict = {}  # loss name -> explorer_runs.RunResult of the last comparison
        self._setting_defaults = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._build_widgets()

    # -- widgets ---------------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.data_dropdown = _css(
            W.Dropdown(options=[_DESCRIBE] + _TRAINABLE_SETS, value=None, description="Data"), "lb-data"
        )
        self.inputs_dropdown = _css(W.Dropdown(options=_INPUTS, value=None, description="Inputs"), "lb-inputs")
        self.labels_dropdown = _css(W.Dropdown(options=_LABELS, value=None, description="Labels"), "lb-labels")
        self.format_info = _css(W.HTML(), "lb-format")
        self.loss_list = _css(W.Select(options=[], rows=8, description="Losses"), "lb-losses")
        self.convertible = _css(W.HTML(), "lb-convertible")
        self.convert_dropdown = _css(W.Dropdown(options=[], description="After"), "lb-convert-choice")
        self.convert_button = _css(W.Button(description="Convert the data"), "lb-convert")
        self.loss_info = _css(W.HTMLMath(), "lb-loss-info")
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
        self.result_info = _css(W.HTML(), "lb-results")
        self.projection_plot = _css(W.Image(format="png", layout=W.Layout(width="640px")), "lb-projection")
        self.curve_plot = _css(W.Image(format="png", layout=W.Layout(width="480px")), "lb-matryoshka")
        self.compare_choice = _css(W.SelectMultiple(options=[], rows=6, description="Compare"), "lb-compare-choice")
        self.compare_button = _css(W.Button(description="Compare them"), "lb-compare")
        self.compare_info = _css(W.HTML(), "lb-compare-results")
        self.compare_plots = _css(W.HBox([]), "lb-compare-plots")

        self.data_dropdown.observe(lambda c: self._safely(self.choose_dataset, c["new"]) if c["new"] else None, "value")
        for dropdown in (self.inputs_dropdown, self.labels_dropdown):
            dropdown.observe(
                lambda c: self._safely(self.describe_data, self.inputs_dropdown.value, self.labels_dropdown.value),
                "value",
            )
        self.loss_list.observe(lambda c: self._safely(self.select_loss, c["new"]) if c["new"] else None, "value")
        self.whole_model.observe(lambda c: self._safely(self.set_whole_model, c["new"]), "value")
        self.modifier.observe(lambda c: self._safely(self._apply_defaults) if self.loss_name else None, "value")
        self.convert_button.on_click(lambda _: self._safely(self.apply_conversion, self.convert_dropdown.value))
        self.train_button.on_click(lambda _: self._safely(self.run_training, background=True))
        self.stop_button.on_click(lambda _: self.stop())
        self.compare_button.on_click(
            lambda _: self._safely(self.compare_losses, list(self.compare_choice.value), background=True)
        )

    def show(self):
        """Display the explorer (in a notebook)."""
        from IPython.display import display

        display(self.widget)
        return None

    @property
    def widget(self) -> W.Widget:
        step1 = W.VBox(
            [
                W.HTML("<b>1. Your data</b>"),
                self.data_dropdown,
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

    @property
    def model(self):
        if self._model is None:
            from lossbook.model import load_model

            self._model = load_model()
        return self._model

    # -- step 1: the data ------------------------------------------------------------------------
    def choose_dataset(self, name: str, split: str = "train"):
        """Load a named data set, detect its format and check it; list the losses for it."""
        if name == _DESCRIBE:
            self.dataset = self.dataset_name = self.pool = None
            self.format_info.value = (
                "Describe your data with the two dropdowns: what the inputs are and what the labels are."
            )
            return None
        # A bounded pool, not the whole split: from the Hub only these rows are downloaded (all-nli has ~942k).
        data = load_data(name, split, rows=max(self.train_rows, POOL_ROWS), verbose=False).dataset
        self.pool = data  # what a conversion starts from: sampling first would break up its groups
        self.dataset = self._sample(data)
        self.dataset_name = name
        self.detection = detect_format(self.dataset)
        report = check(self.dataset, self.detection.format)
        findings = "".join(f"<li>{html.escape(str(f))}</li>" for f in report.findings) or "<li>no problems found</li>"
        self.source = data.info.description  # which source served the data (mirror, Hub, bundled), and how many rows
        self.format_info.value = (
            f"<i>{html.escape(self.source)}</i><pre>{html.escape(self.detection.explain())}</pre>"
            f"<b>Checks</b> ({len(self.dataset)} rows used):<ul>{findings}</ul>"
        )
        self._show_format(self.detection.format)
        return self.detection

    def _sample(self, data, rows: int | None = None):
        """At most ``rows`` (default ``train_rows``) rows of ``data``, drawn at random with a fixed seed."""
        rows = self.train_rows if rows is None else rows
        return data if len(data) <= rows else data.shuffle(seed=0).select(range(rows))

    def describe_data(self, inputs: str | None, labels: str | None):
        """Pick a format by describing the data (no data set loaded): what the inputs and labels are."""
        if inputs is None or labels is None:
            return None
        matches = [fmt for fmt in FORMATS.values() if fmt.inputs_text == inputs and fmt.labels_text == labels]
        if not matches:
            raise ValueError(f"No loss of the table takes {inputs} with labels '{labels}'. Check the labels choice.")
        self.dataset = self.dataset_name = self.pool = None
        self.format_info.value = (
            f"Format: <b>{html.escape(matches[0].title)}</b> [{matches[0].key}]: {html.escape(matches[0].description)}"
        )
        self._show_format(matches[0])
        return matches[0]

    def _show_format(self, fmt) -> None:
        self.format = fmt
        self.loss_name = None  # new data: the loss chosen for the old data may not fit it
        self.loss_list.options = [cls.__name__ for cls in losses_for(fmt)]
        self.compare_choice.options = self.loss_list.options
        converted = [option for option in losses_for(fmt, via_conversion=True) if not option.direct]
        self.convertible.value = (
            "<div style='color:#888'><b>After a conversion:</b><br>"
            + "<br>".join(html.escape(str(option)) for option in converted)
            + "</div>"
            if converted
            else ""
        )
        self.convert_dropdown.options = [option.loss.__name__ for option in converted]
        self.convert_dropdown.value = converted[0].loss.__name__ if converted else None
        self._converted = {option.loss.__name__: option for option in converted}

    def available_losses(self) -> list[str]:
        return list(self.loss_list.options)

    def convertible_losses(self) -> dict[str, list[str]]:
        """Loss name -> the converter chain that opens it."""
        return {name: [conv.name for conv in option.converters] for name, option in self._converted.items()}

    def apply_conversion(self, loss_name: str):
        """Convert the loaded data along the chain that opens ``loss_name`` (model-based steps use the base model)."""
        if self.dataset is None:
            raise ValueError("Load a data set first (step 1): describing data opens no rows to convert.")
        if loss_name not in self._converted:
            if loss_name in self.available_losses():
                raise ValueError(f"{loss_name} takes this data as it is: no conversion is needed. Select it in step 2.")
            opened = ", ".join(self._converted) or "none"
            raise ValueError(f"No conversion of this data opens {loss_name!r}. The conversions here open: {opened}.")
        option = self._converted[loss_name]
        # Convert the whole pool, then sample: a conversion that groups rows (premises that keep both an
        # entailment and a contradiction, for triplets) finds few groups in a random sample of 600 rows.
        # A converter that runs the model (mining negatives) gets a sample twice the run's size instead.
        uses_model = any(conv.needs_model for conv in option.converters)
        data = self._sample(self.pool, 2 * self.train_rows) if uses_model else self.pool
        for conv in option.converters:
            data = conv(data, self.model) if conv.needs_model else conv(data)
        self.pool = data
        self.dataset = self._sample(data)
        self.detection = detect_format(self.dataset)
        chain = " -> ".join(c.name for c in option.converters)
        few = ""
        if len(self.dataset) < MIN_RUN_ROWS:
            few = (
                f"\nOnly {len(self.dataset)} rows after the conversion: too few for a run that teaches anything "
                f"(at least {MIN_RUN_ROWS}). Load more rows of this data or choose a loss it fits as it is."
            )
        self.format_info.value = (
            f"<pre>Converted with {chain}: {len(data)} rows, {len(self.dataset)} used{html.escape(few)}\n"
            f"{html.escape(self.detection.explain())}</pre>"
        )
        self._show_format(self.detection.format)
        self.loss_list.value = loss_name
        return data

    # -- step 2: the loss ------------------------------------------------------------------------
    def select_loss(self, name: str):
        """Show the loss's card (summary, formula, inputs, reference) and, with data loaded, the run's estimate."""
        card = loss_card(loss_class(name, exact=True))  # the list offers exact names; a typo gets the closest
        self.loss_name = name
        self.loss_info.value = (
            f"<b>{card.name}</b>: {_rst(card.summary)}<br>$$ {html.escape(card.formula)} $$"
            f"<br><i>Inputs:</i> {_rst(card.inputs)}<br><i>Reference:</i> {_rst(card.reference)}"
        )
        self._apply_defaults()
        return card

    # -- the budget --------------------------------------------------------------------------------
    def set_whole_model(self, whole_model: bool) -> RunSettings | None:
        """Switch between the fast mode (frozen transformer, trained head) and fine-tuning the whole model."""
        if self._setting_defaults:  # the checkbox moved because the defaults were put in: nothing more to do
            return self.settings()
        if self.whole_model.value != whole_model:
            self.whole_model.value = whole_model  # the observer calls back here once more, with nothing to do
            return self.settings()
        if self.loss_name is not None:
            self._apply_defaults(whole_model=whole_model)
        return self.settings()

    def _apply_defaults(self, whole_model: bool | None = None) -> None:
        """Put the loss's default budget (``lossbook.explorer_runs.default_settings``) into the sliders."""
        # The class says how the loss embeds (its declared embedding_path); AdaptiveLayer reads layers.
        adaptive = self.modifier.value == "AdaptiveLayer"
        runs_as = loss_class("AdaptiveLayerLoss" if adaptive else self.loss_name)
        chosen = default_settings(runs_as, self.model.device, whole_model=whole_model)
        self._setting_defaults = True
        try:
            self.whole_model.value = not chosen.freeze_encoder
            self.steps.value, self.batch_size.value = chosen.steps, chosen.batch_size
            self.learning_rate.value, self.seeds.value = chosen.lr, len(chosen.seeds)
        finally:
            self._setting_defaults = False
        self.mode_info.value = html.escape(chosen.describe())
        if self.dataset is not None:
            self._estimate()

    def settings(self) -> RunSettings:
        """The budget the sliders show now."""
        return RunSettings(
            steps=self.steps.value,
            batch_size=self.batch_size.value,
            lr=self.learning_rate.value,
            freeze_encoder=not self.whole_model.value,
            seeds=tuple(range(self.seeds.value)),
        )

    def _build_loss(self, model, data, *, modifier: str | None = None):
        modifier = self.modifier.value if modifier is None else modifier
        dims = parse_dims(self.dims.value) if modifier == "Matryoshka" else None
        if dims:
            dims = [d for d in dims if d <= model.embedding_dim] or [model.embedding_dim]
        return build_loss(
            self.loss_name,
            model,
            data,
            scale=self.scale.value,
            margin=self.margin.value,
            matryoshka_dims=dims,
            adaptive_layers=modifier == "AdaptiveLayer",
        )

    def _runs_per_press(self) -> int:
        """Runs one press of Train makes: one per seed, twice over with a modifier (its plain control)."""
        return self.seeds.value * (2 if self.modifier.value != "none" else 1)

    def _estimate(self) -> None:
        model, settings = self.model, self.settings()
        self.estimate = estimate = plan(
            model,
            self._build_loss(model, self.dataset),
            self.dataset,
            batch_size=settings.batch_size,
            steps=settings.steps,
            max_seq_length=settings.max_seq_length,
            freeze_encoder=settings.freeze_encoder,
            repeats=1,
            lr=settings.lr,
        )
        runs = self._runs_per_press()
        total = f"; {runs} runs (seeds{', and a plain control' if runs > self.seeds.value else ''}): about " + (
            f"{runs * estimate.total_seconds:.0f} s in all" if runs > 1 else ""
        )
        self.plan_info.value = (
            f"Device: <b>{html.escape(str(model.device))}</b>. Estimate: {html.escape(str(estimate))}"
            + (html.escape(total) if runs > 1 else "")
        )

    # -- step 3: the run -------------------------------------------------------------------------
    def run_training(self, *, background: bool = False):
        """Train a fresh copy of the base model with the chosen loss; evaluate before and after."""
        if self.dataset is None:
            raise ValueError("Choose a data set in step 1 first (a described format has no rows to train on).")
        if self.loss_name is None:
            raise ValueError("Choose a loss in step 2 first.")
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("A run is already going; press Stop first.")
        self._stop.clear()
        if background:
            self._thread = threading.Thread(target=self._safely, args=(self._run,), daemon=True)
            self._thread.start()
            return None
        return self._run()

    def compare_losses(self, names: list[str], *, settings: RunSettings | None = None, background: bool = False):
        """Train each of 2-4 losses on the same rows, with the same budget and seeds; a table and their pictures.

        The budget (``settings``) defaults to the fast mode's on a CPU when every loss allows it (else the
        whole model's), with at least two seeds, so each loss's change comes with its spread.
        """
        if self.dataset is None:
            raise ValueError("Choose a data set in step 1 first: a comparison trains on its rows.")
        if not 2 <= len(names) <= 4:
            raise ValueError(f"Choose 2 to 4 losses to compare (got {len(names)}): Ctrl/Shift-click in the list.")
        unfit = [name for name in names if name not in self.available_losses()]
        if unfit:
            raise ValueError(f"{', '.join(unfit)} cannot train on this data as it is: compare losses from the list.")
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("A run is already going; press Stop first.")
        self._stop.clear()
        if background:
            self._thread = threading.Thread(target=self._safely, args=(self._compare, names, settings), daemon=True)
            self._thread.start()
            return None
        return self._compare(names, settings)

    def _compare(self, names: list[str], settings: RunSettings | None) -> dict:
        data = Data(self.dataset, self.dataset_name or "the data", self.dataset_name)
        evaluation = choose_evaluation(data, hold_out=EVAL_ROWS)
        shown, train_rows = picture_rows(evaluation)
        settings = settings or comparison_settings([loss_class(name) for name in names], self.model.device)
        self.progress.max, self.progress.value = settings.steps * len(settings.seeds) * len(names), 0
        before = evaluation.measure(self.model).score
        results = {}
        for name in names:
            if self._stop.is_set():
                break
            results[name] = run_seeds(
                self.model,
                lambda model, name=name: build_loss(
                    name, model, train_rows, scale=self.scale.value, margin=self.margin.value
                ),
                train_rows,
                evaluation,
                settings,
                label=name,
                before=before,
                callbacks=[lambda step, history: setattr(self.progress, "value", self.progress.value + 1)],
                stop_event=self._stop,
            )
        self.comparison = results
        self.live_plot.value = _png(plots.loss_curves([h for result in results.values() for h in result.histories]))
        self.compare_info.value = comparison_table(results, evaluation.description)
        pictures = []
        for name, result in results.items():
            margin = self.margin.value if takes_margin(name) else None
            picture = outcome_of_run(self.model, result.model, shown, margin=margin)
            if picture is not None:
                picture.figure.suptitle(name)
                image = W.Image(value=_png(picture.figure), format="png", layout=W.Layout(width="420px"))
                pictures.append(image)
            result.model = None  # the pictures are drawn: keep the numbers, not one model copy per loss
        self.compare_plots.children = pictures
        self._say(f"Compared {len(results)} losses in {sum(r.seconds for r in results.values()):.1f} s.")
        return results

    def stop(self) -> None:
        """Ask the run to end after the current step (the model and history so far are kept)."""
        self._stop.set()

    def _run(self):
        data = Data(self.dataset, self.dataset_name or "the data", self.dataset_name)
        evaluation = choose_evaluation(data, hold_out=EVAL_ROWS)
        shown, train_rows = picture_rows(evaluation)
        settings = self.settings()
        modified = self.modifier.value != "none"
        # In the fast mode a modifier's run and its control start from a rotated head (explorer_runs.rotate_head).
        start = rotate_head if modified and settings.freeze_encoder else None
        self.progress.max, self.progress.value = settings.steps * self._runs_per_press(), 0

        def on_step(step, history):
            self.progress.value += 1
            if step % max(1, settings.steps // 10) == 0 or step == settings.steps:
                self.live_plot.value = _png(plots.loss_curves([history]))

        before = evaluation.measure(self.model).score
        common = dict(start=start, before=before, callbacks=[on_step], stop_event=self._stop)
        label = self.loss_name + (f" + {self.modifier.value}" if modified else "")
        self.runs = {
            label: run_seeds(
                self.model,
                lambda m: self._build_loss(m, train_rows),
                train_rows,
                evaluation,
                settings,
                label=label,
                **common,
            )
        }
        if modified and not self._stop.is_set():
            control = f"plain {self.loss_name} (control)"
            self.runs[control] = run_seeds(
                self.model,
                lambda m: self._build_loss(m, train_rows, modifier="none"),
                train_rows,
                evaluation,
                settings,
                label=control,
                **common,
            )
        main = self.runs[label]
        self.history, self.trained_model = main.histories[0], main.model
        self.live_plot.value = _png(plots.loss_curves([h for run in self.runs.values() for h in run.histories]))
        self._show_results(evaluation, shown)
        steps = sum(len(h.steps) for run in self.runs.values() for h in run.histories)
        seconds = sum(run.seconds for run in self.runs.values())
        timing = f"{steps} steps in {len(self.runs) * len(main.histories)} runs, {seconds:.1f} s with evaluation"
        if self.estimate is not None and len(self.history.steps) > 1:
            timing += f"; {self.estimate.against(self.history.seconds_per_step)}"
        self._say(f"Run {self.history.stopped}: {timing}.")
        return self.history

    def _show_results(self, evaluation, shown) -> None:
        main = next(iter(self.runs.values()))
        self.results = {
            "before": main.before,
            "after": main.mean_after,
            "spread": main.spread,
            "metric": main.metric,
            "yardstick": evaluation.description,
            "runs": {label: run.summary() for label, run in self.runs.items()},
        }
        lines = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in self.results["runs"].items())
        budget = html.escape(main.settings.describe())
        self.result_info.value = f"{html.escape(evaluation.description)} ({budget}):<ul>{lines}</ul>"
        margin = self.margin.value if takes_margin(self.loss_name) else None
        self.outcome = picture = outcome_of_run(self.model, main.model, shown, margin=margin)
        if picture is not None:
            self.projection_plot.value = _png(picture.figure)
        if self.modifier.value == "none":
            self.curve_plot.value = b""
            return
        trained = {label: run.model for label, run in self.runs.items()}
        if self.modifier.value == "AdaptiveLayer":
            layers = list(range(1, self.trained_model.num_layers + 1))
            curves = {"base": evaluation.measure(self.model, layers=layers)}
            curves.update({label: evaluation.measure(model, layers=layers) for label, model in trained.items()})
            self.curve_plot.value = _png(plots.layer_curves(curves))
        else:
            dims = [d for d in (384, 256, 128, 64, 32, 16) if d <= self.trained_model.embedding_dim]
            curves = {"base": evaluation.measure(self.model, dims=dims)}
            curves.update({label: evaluation.measure(model, dims=dims) for label, model in trained.items()})
            self.curve_plot.value = _png(plots.matryoshka_curves(curves))
        self.results["curves"] = curves
