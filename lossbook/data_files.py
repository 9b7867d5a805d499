"""``read_data_file(path)``: a CSV or JSON Lines file as a ``datasets.Dataset``, with one rule for numbers.

The rule: a label column (``label``, ``labels``, ``score`` or ``scores``, the names sentence-transformers
reads as the label) holds numbers; it becomes ints when every value is written as a whole number, floats
otherwise, and a value that is no number is an error naming the file and the line. Every other column
keeps its text exactly as written: an input is fed to the model as text, so 'NA', 'None' or '1912' stay
strings (no 'NA' -> NaN, no '007' -> 7). A JSON Lines file keeps its JSON types.

``lossbook.data`` reads the mirror's and the bundled CSV files this way, and ``lossbook train --data FILE``
reads a user's file this way, so the two can never disagree about what a column holds.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from pathlib import Path

import datasets

from lossbook.formats import LABEL_COLUMNS

__all__ = ["read_data_file"]

# How a value is described when it is not the number its column needs.
_WANTED = {int: "an integer class id", float: "a number", None: "a number"}


def read_data_file(path: str | Path, *, kinds: Mapping[str, type] | None = None) -> datasets.Dataset:
    """Read a ``.csv`` or ``.jsonl`` file; label columns hold numbers, every other column stays text.

    Args:
        path: the file; ``.csv`` (a header line, then one row a line) or ``.jsonl`` (one JSON object a line).
        kinds: for label columns whose kind is known, ``int`` (class ids) or ``float`` (scores), e.g.
            ``{"label": int, "score": float}`` for lossbook's own data sets; any other label column is
            ints when every value is a whole number, floats otherwise. Only CSV files use it.

    Raises:
        FileNotFoundError: there is no such file.
        ValueError: the file is empty, malformed, of another kind, or a label value is not a number.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"No such file: {path}.")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path, dict(kinds or {}))
    if suffix in {".jsonl", ".json"}:
        return _read_json_lines(path)
    raise ValueError(f"Cannot read {path}: give a .csv or .jsonl file, or a named data set.")


def _read_csv(path: Path, kinds: dict[str, type]) -> datasets.Dataset:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        numbers = [name for name in header if name in LABEL_COLUMNS]
        table: dict[str, list] = {name: [] for name in header}
        for row in reader:
            if None in row or None in row.values():  # DictReader's marks of a row longer or shorter than the header
                raise ValueError(
                    f"{path}, line {reader.line_num}: the row does not have the {len(header)} fields of the header "
                    f"({', '.join(header)}); quote a text that holds a comma."
                )
            for name in header:
                value = row[name]
                table[name].append(
                    _number(value, kinds.get(name), name, path, reader.line_num) if name in numbers else value
                )
    if not header or not table[header[0]]:
        raise ValueError(f"{path} has no rows (a CSV needs a header line and at least one row).")
    features = {name: datasets.Value("string") for name in header}
    for name in numbers:
        kind = kinds.get(name) or (int if all(isinstance(value, int) for value in table[name]) else float)
        table[name] = [kind(value) for value in table[name]]
        features[name] = datasets.Value("int64" if kind is int else "float64")
    return datasets.Dataset.from_dict(table, features=datasets.Features(features))


def _number(value: str, kind: type | None, column: str, path: Path, line: int) -> int | float:
    """``value`` as ``kind``; with no kind, an int when it is written as a whole number, else a float."""
    for candidate in [kind] if kind else [int, float]:
        try:
            return candidate(value)
        except (TypeError, ValueError):
            continue
    raise ValueError(f"{path}, line {line}: column {column!r} should hold {_WANTED[kind]}, found {value!r}.")


def _read_json_lines(path: Path) -> datasets.Dataset:
    try:
        with path.open(encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not JSON Lines (one JSON object per line): {error}.") from None
    if not rows or not all(isinstance(row, dict) for row in rows):
        raise ValueError(f'{path} must hold one JSON object per line, e.g. {{"anchor": "...", "positive": "..."}}.')
    return datasets.Dataset.from_list(rows)
