"""The loss explorer's first steps: the data (a named set, an uploaded file, a described format) and its conversions.

``lossbook.widgets.LossExplorer`` builds on this class; the steps after it (the loss, the budget, the
runs, the pictures) live there. The rows a run trains on are a sample of a bounded pool: a conversion
starts from the whole pool, because one that groups rows (premises with both an entailment and a
contradiction) finds few groups in a small random sample.
"""

from __future__ import annotations

import html
import tempfile
from pathlib import Path

from lossbook.checks import check
from lossbook.data_files import read_data_file
from lossbook.detect import detect_format
from lossbook.explorer_view import DESCRIBE, ExplorerView
from lossbook.formats import FORMATS
from lossbook.run_data import load_data
from lossbook.table import losses_for

__all__ = ["MIN_RUN_ROWS", "POOL_ROWS", "ExplorerData"]

POOL_ROWS = 5_000  # rows the explorer loads of a data set, to sample its training rows from
MIN_RUN_ROWS = 100  # fewer rows than this after a conversion: the explorer says so before Train


class ExplorerData(ExplorerView):
    """Step 1 (your data) and the data side of step 2 (the losses it fits, and the conversions that open more)."""

    @property
    def model(self):
        if self._model is None:
            from lossbook.model import load_model

            self._model = load_model()
        return self._model

    # -- step 1: the data ------------------------------------------------------------------------
    def choose_dataset(self, name: str, split: str = "train"):
        """Load a named data set, detect its format and check it; list the losses for it."""
        if name == DESCRIBE:
            self.dataset = self.dataset_name = self.data_label = self.pool = None
            self.format_info.value = (
                "Describe your data with the two dropdowns: what the inputs are and what the labels are."
            )
            return None
        # A bounded pool, not the whole split: from the Hub only these rows are downloaded (all-nli has ~942k).
        data = load_data(name, split, rows=max(self.train_rows, POOL_ROWS), verbose=False).dataset
        return self._use_rows(data, name, source=data.info.description)

    def load_file(self, name: str, content: bytes):
        """Your own data: the bytes of a ``.csv`` or ``.jsonl`` file (the upload button), on the named sets' path.

        The file is read as ``lossbook train --data FILE`` reads one (``lossbook.data_files``): a CSV's
        label column holds numbers, every other column stays text. Then the same steps follow: format
        detection, checks, the losses that fit, conversions, training, pictures.
        """
        suffix = Path(name).suffix.lower()
        if suffix not in (".csv", ".jsonl", ".json"):
            raise ValueError(
                f"{name}: upload a .csv file (a header line such as anchor,positive, then one row a line) or a "
                '.jsonl file (one JSON object a line, e.g. {"anchor": "...", "positive": "..."}).'
            )
        try:
            text = bytes(content).decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte-order mark
        except UnicodeDecodeError:
            raise ValueError(f"{name} is not UTF-8 text: save it as UTF-8 (Excel: 'CSV UTF-8') and upload it again.")
        if not text.strip():
            raise ValueError(f"{name} is empty: it needs a header line and at least one row.")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"upload{suffix}"
            path.write_text(text, encoding="utf-8")
            try:
                data = read_data_file(path)
            except ValueError as error:  # name the user's file, not the temporary copy
                raise ValueError(str(error).replace(str(path), name)) from None
        if len(data) > POOL_ROWS:
            data = data.select(range(POOL_ROWS))
        return self._use_rows(data, None, source=f"{name}: {len(data):,} rows from your file", label=name)

    def _use_rows(self, data, name: str | None, *, source: str, label: str | None = None):
        """Keep ``data`` as the pool, sample the run's rows, detect their format and check them."""
        rows = self._sample(data)
        detection = detect_format(rows)  # before anything is kept: rows of no known format leave the old data be
        report = check(rows, detection.format)
        self.pool = data  # what a conversion starts from: sampling first would break up its groups
        self.dataset, self.detection = rows, detection
        self.dataset_name, self.data_label = name, label or name
        findings = "".join(f"<li>{html.escape(str(f))}</li>" for f in report.findings) or "<li>no problems found</li>"
        self.source = source  # which source served the data (mirror, Hub, bundled, a file), and how many rows
        self.format_info.value = (
            f"<i>{html.escape(self.source)}</i><pre>{html.escape(self.detection.explain())}</pre>"
            f"<b>Checks</b> ({len(self.dataset)} rows used):<ul>{findings}</ul>"
        )
        self._show_format(self.detection.format)
        return self.detection

    def _take_upload(self, files) -> None:
        """The upload button's value (ipywidgets 8: a tuple of dicts with 'name' and 'content')."""
        uploaded = files[0]
        try:
            self.load_file(uploaded["name"], uploaded["content"])
            self.data_dropdown.value = None  # the list no longer names the data in use
        finally:
            self.upload.value = ()  # emptied: uploading the same file again, edited, is a change the button reports

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
        self.dataset = self.dataset_name = self.data_label = self.pool = None
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
