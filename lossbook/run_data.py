"""The data a run names: ``load_data("stsb")``, ``load_data("stsb:validation")`` or ``load_data("my.csv")``.

A run (the command line's ``--data`` and ``--eval-data``, the loss explorer's data menu) names its data by
text: a data set of ``lossbook.DATASETS``, optionally with a split, or the path of a CSV or JSONL file
(read by ``lossbook.data_files.read_data_file``, the reader of the bundled sets too). The result is a
``Data``: the rows and how messages name them. ``eval_data_for`` picks the data that evaluates a run.

Every problem the user can fix is a ``SetupError``, whose message says how.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from lossbook.data import DATASETS, load_dataset
from lossbook.data_files import read_data_file

__all__ = ["Data", "SetupError", "eval_data_for", "load_data"]

_FILE_SUFFIXES = {".csv", ".jsonl", ".json"}


class SetupError(ValueError):
    """A run cannot be set up as asked (unknown name, data that does not fit, ...); the message says how to fix it."""


@dataclass
class Data:
    """Rows a run works on, and how messages name them."""

    dataset: object  # a datasets.Dataset (a RetrievalSet for a retrieval evaluation)
    label: str  # how messages name it, e.g. "stsb [train]" or "my.csv"
    name: str | None = None  # the registry name, when it came from the registry
    split: str | None = None


def load_data(
    spec: str,
    split: str | None = None,
    *,
    default_split: str = "train",
    rows: int | None = None,
    verbose: bool = True,
) -> Data:
    """The data a run names: ``stsb``, ``stsb:validation`` or a CSV/JSONL path, as a ``Data``.

    Args:
        spec: a name of ``lossbook.DATASETS`` (``NAME`` or ``NAME:SPLIT``) or the path of a ``.csv``/``.jsonl`` file.
        split: the split of a named data set (instead of ``NAME:SPLIT``); refused for a file.
        default_split: the split when none is named.
        rows: only the first ``rows`` rows (from the Hub only those are downloaded).
        verbose: print where the rows came from.
    """
    path = Path(spec).expanduser()
    if path.suffix.lower() in _FILE_SUFFIXES or path.is_file():
        if split:
            raise SetupError(f"--split applies to named data sets, not to the file {spec}.")
        try:
            dataset = read_data_file(path)
        except (ValueError, FileNotFoundError) as error:
            raise SetupError(str(error)) from None
        if rows is not None and len(dataset) > rows:
            dataset = dataset.select(range(rows))
        if verbose:
            print(f"{path.name}: {len(dataset):,} rows from {path}")
        return Data(dataset, path.name)
    name, _, named_split = spec.partition(":")
    if name not in DATASETS:
        close = difflib.get_close_matches(name, list(DATASETS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise SetupError(f"Unknown data {spec!r}: not a file, and not a named data set ({', '.join(DATASETS)}).{hint}")
    split = split or named_split or default_split
    try:
        dataset = load_dataset(name, split, rows=rows, verbose=verbose)
    except (ValueError, FileNotFoundError) as error:
        raise SetupError(str(error)) from None
    return Data(dataset, f"{name} [{split}]", name, split)


def eval_data_for(train: Data, requested: str | None = None) -> Data | None:
    """The data that evaluates a run on ``train``: ``requested`` (``"none"`` for none), else a held-back split.

    ``requested`` is what ``--eval-data`` names: a file or ``NAME:SPLIT`` as it is, a bare ``NAME`` as its
    validation or test split (the first that loads here). Without it, a named training set is evaluated on
    its own validation or test split; a file has none, and gets no evaluation (the message says so).
    """
    if requested == "none":
        return None
    if requested:
        name, _, split = requested.partition(":")
        if split or name not in DATASETS:
            return load_data(requested)
        return _first_split(name, ("validation", "test", "train")) or load_data(name, "validation")
    if train.name is None:
        print("No evaluation: a data file has no validation split (pass --eval-data).")
        return None
    found = _first_split(train.name, [split for split in ("validation", "test") if split != train.split])
    if found is None:
        print(f"No evaluation: {train.name} has no validation or test split here (pass --eval-data).")
    return found


def _first_split(name: str, splits) -> Data | None:
    """The first of ``splits`` that some source has (a split may exist only on the Hub, and it may be offline)."""
    for split in splits:
        if split in DATASETS[name].splits:
            try:
                return load_data(name, split)
            except SetupError:
                continue
    return None
