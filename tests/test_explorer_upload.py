"""Your own data in the loss explorer: an uploaded CSV or JSONL goes the named sets' way, bad files get a clear word."""

from __future__ import annotations

import datetime
import json

import matplotlib
import pytest

matplotlib.use("Agg")

from lossbook.table import losses_for  # noqa: E402
from lossbook.widgets import LossExplorer  # noqa: E402

QUESTIONS = [
    (f"how do I reset item {i}?", f"To reset item {i}, hold its button for {i % 9 + 2} seconds.") for i in range(60)
]


@pytest.fixture(autouse=True)
def _bundled_only(monkeypatch):
    monkeypatch.delenv("LOSSBOOK_DATA", raising=False)


@pytest.fixture
def explorer(tiny):
    return LossExplorer(model=tiny, train_rows=48)


def _uploaded(name: str, content: bytes) -> tuple[dict]:
    """What ipywidgets 8's FileUpload holds once a file is picked: its name, and its bytes as a memoryview."""
    when = datetime.datetime(2026, 12, 4, tzinfo=datetime.timezone.utc)
    return ({"name": name, "type": "", "size": len(content), "content": memoryview(content), "last_modified": when},)


def _csv(header: str, rows) -> bytes:
    lines = [header] + [
        ",".join(f'"{value}"' if isinstance(value, str) else str(value) for value in row) for row in rows
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_an_uploaded_csv_of_pairs_is_detected_checked_and_trains(explorer):
    detection = explorer.load_file("my_questions.csv", _csv("anchor,positive", QUESTIONS))
    assert detection.format.key == "pair"
    assert explorer.available_losses() == [cls.__name__ for cls in losses_for(detection.format)]
    assert "my_questions.csv" in explorer.format_info.value and "60 rows from your file" in explorer.source
    assert len(explorer.dataset) == 48 and explorer.dataset_name is None
    explorer.select_loss("MultipleNegativesRankingLoss")
    explorer.steps.value, explorer.batch_size.value, explorer.seeds.value = 3, 8, 1
    history = explorer.run_training()
    assert len(history.steps) == 3 and explorer.results["after"] is not None


def test_an_uploaded_jsonl_with_scores_and_a_byte_order_mark(explorer):
    rows = [
        {"sentence1": f"a cat sat on mat {i}", "sentence2": f"a cat is on mat {i}", "score": i / 40} for i in range(40)
    ]
    content = "\ufeff" + "\n".join(json.dumps(row) for row in rows)
    detection = explorer.load_file("scored.jsonl", content.encode("utf-8"))
    assert detection.format.key == "pair-score"
    assert "CoSENTLoss" in explorer.available_losses()


def test_the_upload_button_hands_its_file_over(explorer):
    explorer.data_dropdown.value = "stsb"
    explorer.upload.value = _uploaded("q.csv", _csv("anchor,positive", QUESTIONS))
    assert explorer.message == "" and explorer.format.key == "pair"
    assert explorer.data_dropdown.value is None and explorer.data_label == "q.csv"
    assert explorer.upload.value == ()  # emptied, so the same file, edited, can be uploaded again


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("data.xlsx", b"PK\x03\x04", "upload a .csv file"),
        ("data.csv", b"", "is empty"),
        ("data.csv", "anchor,positive\nCaf\xe9,cup\n".encode("latin-1"), "not UTF-8"),
        ("data.csv", b'anchor,positive\n"a","b","c"\n', "data.csv, line 2"),
        ("data.csv", b"sentence1,sentence2,score\na,b,high\n", "column 'score' should hold"),
        ("data.jsonl", b'{"anchor": "a"\n', "data.jsonl is not JSON Lines"),
    ],
    ids=["not-a-table", "empty", "latin-1", "ragged-row", "score-not-a-number", "broken-json"],
)
def test_a_bad_file_gets_a_message_that_names_it_and_the_fix(explorer, name, content, expected):
    explorer.upload.value = _uploaded(name, content)
    assert expected in explorer.message, explorer.message
    assert "/tmp" not in explorer.message and "upload." not in explorer.message  # the user's name, not the copy's
    assert explorer.dataset is None


def test_a_file_whose_columns_fit_no_format_says_so_and_keeps_the_data_in_use(explorer):
    explorer.choose_dataset("stsb")
    explorer.upload.value = _uploaded("labels_only.csv", b"label\n1\n0\n")
    assert explorer.message.startswith("FormatError") and "no input columns" in explorer.message, explorer.message
    assert explorer.data_label == "stsb" and explorer.format.key == "pair-score"  # the stsb rows stay in use
