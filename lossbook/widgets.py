"""The loss explorer: pick your data, see which losses fit (and which a conversion opens), train, look.

``LossExplorer().show()`` in a notebook. Every action is a plain method (``choose_dataset``,
``load_file``, ``describe_data``, ``select_loss``, ``apply_conversion``, ``run_training``,
``compare_losses``, ``stop``), so tests and the notebook's demo cells drive it without a browser; the
buttons only call those methods (``lossbook.explorer_view`` holds the widgets and their layout). Errors
become a readable message in the widget, never a traceback.
"""

from __future__ import annotations

import html
import threading
from dataclasses import replace

import ipywidgets as W

from lossbook import plots
from lossbook.explorer_data import ExplorerData
from lossbook.explorer_pictures import outcome_of_run, pair_classifiers, picture_rows
from lossbook.explorer_runs import (
    RunSettings,
    comparison_settings,
    comparison_table,
    default_settings,
    rotate_head,
    run_seeds,
)
from lossbook.explorer_view import anatomy_line, html_of_docstring, png
from lossbook.planner import plan
from lossbook.run_data import Data
from lossbook.run_setup import build_loss, choose_evaluation, loss_class, parse_dims, takes_margin
from lossbook.table import loss_card

__all__ = ["LossExplorer"]

EVAL_ROWS = 300  # rows a run is evaluated on (held out of its training rows, or a validation split's first)
RUN_BUDGET_SECONDS = 30  # what a default press of Train may take, all its runs together
EVALUATION_SECONDS = 3  # kept aside per run for its evaluation (encoding 300 held-out rows on a 2-core CPU)


class LossExplorer(ExplorerData):
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
        self.dataset_name: str | None = None  # a named data set (lossbook.DATASETS), else None
        self.data_label: str | None = None  # how messages name the data: the set's name or the file's
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
        self._connect()

    # -- wiring: each widget calls one plain method -----------------------------------------------
    def _connect(self) -> None:
        self.data_dropdown.observe(lambda c: self._safely(self.choose_dataset, c["new"]) if c["new"] else None, "value")
        for dropdown in (self.inputs_dropdown, self.labels_dropdown):
            dropdown.observe(
                lambda c: self._safely(self.describe_data, self.inputs_dropdown.value, self.labels_dropdown.value),
                "value",
            )
        self.loss_list.observe(lambda c: self._safely(self.select_loss, c["new"]) if c["new"] else None, "value")
        self.whole_model.observe(lambda c: self._safely(self.set_whole_model, c["new"]), "value")
        self.modifier.observe(lambda c: self._safely(self._apply_defaults) if self.loss_name else None, "value")
        self.upload.observe(lambda c: self._safely(self._take_upload, c["new"]) if c["new"] else None, "value")
        self.convert_button.on_click(lambda _: self._safely(self.apply_conversion, self.convert_dropdown.value))
        self.train_button.on_click(lambda _: self._safely(self.run_training, background=True))
        self.stop_button.on_click(lambda _: self.stop())
        self.compare_button.on_click(
            lambda _: self._safely(self.compare_losses, list(self.compare_choice.value), background=True)
        )

    # -- step 2: the loss ------------------------------------------------------------------------
    def select_loss(self, name: str):
        """Show the loss's card (summary, formula, inputs, reference, where to see its forces) and its defaults."""
        cls = loss_class(name, exact=True)  # the list offers exact names; a typo gets the closest
        card = loss_card(cls)
        self.loss_name = name
        self.loss_info.value = (
            f"<b>{card.name}</b>: {html_of_docstring(card.summary)}<br>$$ {html.escape(card.formula)} $$"
            f"<br><i>Inputs:</i> {html_of_docstring(card.inputs)}"
            f"<br><i>Reference:</i> {html_of_docstring(card.reference)}" + anatomy_line(cls)
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
            self._fit_the_budget()

    def _fit_the_budget(self) -> None:
        """Fewer default steps where the planner says the press of Train would outlast ``RUN_BUDGET_SECONDS``.

        Fine-tuning the whole model costs 0.3-1.5 s a step on a 2-core CPU, depending on the CPU, so a fixed
        step count is 15 s on one machine and 60 s on another. Only the whole model's steps are fitted.
        """
        estimate, runs = self.estimate, self._runs_per_press()
        if not self.whole_model.value or estimate is None or estimate.seconds_per_step <= 0:
            return  # the fast mode's steps cost milliseconds: its time is the one-off encoding, shared by the runs
        affordable = int(
            (RUN_BUDGET_SECONDS / runs - EVALUATION_SECONDS - estimate.setup_seconds) / estimate.seconds_per_step
        )
        if affordable >= self.steps.value:
            return
        steps = max(self.steps.min, affordable)
        self._setting_defaults = True
        try:
            self.steps.value = steps
        finally:
            self._setting_defaults = False
        self.estimate = replace(estimate, steps=steps)
        self.mode_info.value += html.escape(
            f"; steps lowered to {steps} so that {runs} runs fit about {RUN_BUDGET_SECONDS} s on this machine "
            f"({estimate.seconds_per_step:.2f} s per step measured)"
        )
        self._show_estimate()

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
        self.estimate = plan(
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
        self._show_estimate()

    def _show_estimate(self) -> None:
        estimate, model = self.estimate, self.model
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
        data = Data(self.dataset, self.data_label or "the data", self.dataset_name)
        evaluation = choose_evaluation(data, hold_out=EVAL_ROWS)
        evaluation.progress = False  # no bars from inside the evaluation in the widget's output
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
        self.live_plot.value = png(plots.loss_curves([h for result in results.values() for h in result.histories]))
        self.compare_info.value = comparison_table(results, evaluation.description)
        pictures = []
        for name, result in results.items():
            margin = self.margin.value if takes_margin(name) else None
            classifiers = pair_classifiers(result.loss, result.initial_classifier)
            picture = outcome_of_run(self.model, result.model, shown, margin=margin, classifiers=classifiers)
            if picture is not None:
                picture.figure.suptitle(name)
                image = W.Image(value=png(picture.figure), format="png", layout=W.Layout(width="420px"))
                pictures.append(image)
            result.model = result.loss = None  # the pictures are drawn: keep the numbers, not a model per loss
        self.compare_plots.children = pictures
        self._say(f"Compared {len(results)} losses in {sum(r.seconds for r in results.values()):.1f} s.")
        return results

    def stop(self) -> None:
        """Ask the run to end after the current step (the model and history so far are kept)."""
        self._stop.set()

    def _run(self):
        data = Data(self.dataset, self.data_label or "the data", self.dataset_name)
        evaluation = choose_evaluation(data, hold_out=EVAL_ROWS)
        evaluation.progress = False  # no bars from inside the evaluation in the widget's output
        shown, train_rows = picture_rows(evaluation)
        settings = self.settings()
        modified = self.modifier.value != "none"
        # In the fast mode a modifier's run and its control start from a rotated head (explorer_runs.rotate_head).
        start = rotate_head if modified and settings.freeze_encoder else None
        self.progress.max, self.progress.value = settings.steps * self._runs_per_press(), 0

        def on_step(step, history):
            self.progress.value += 1
            if step % max(1, settings.steps // 10) == 0 or step == settings.steps:
                self.live_plot.value = png(plots.loss_curves([history]))

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
        self.live_plot.value = png(plots.loss_curves([h for run in self.runs.values() for h in run.histories]))
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
        classifiers = pair_classifiers(main.loss, main.initial_classifier)
        self.outcome = picture = outcome_of_run(self.model, main.model, shown, margin=margin, classifiers=classifiers)
        self.projection_plot.value = png(picture.figure) if picture is not None else b""  # no stale picture
        if self.modifier.value == "none":
            self.curve_plot.value = b""
            return
        trained = {label: run.model for label, run in self.runs.items()}
        if self.modifier.value == "AdaptiveLayer":
            layers = list(range(1, self.trained_model.num_layers + 1))
            curves = {"base": evaluation.measure(self.model, layers=layers)}
            curves.update({label: evaluation.measure(model, layers=layers) for label, model in trained.items()})
            self.curve_plot.value = png(plots.layer_curves(curves))
        else:
            dims = [d for d in (384, 256, 128, 64, 32, 16) if d <= self.trained_model.embedding_dim]
            curves = {"base": evaluation.measure(self.model, dims=dims)}
            curves.update({label: evaluation.measure(model, dims=dims) for label, model in trained.items()})
            self.curve_plot.value = png(plots.matryoshka_curves(curves))
        self.results["curves"] = curves
