"""detect_format on every bundled and mirrored data set, on ambiguous and broken data; check() finds each problem."""

from __future__ import annotations

import datasets
import pytest
from mirror import MIRROR, needs_mirror

from lossbook.checks import check
from lossbook.data import DATASETS, load_dataset
from lossbook.detect import FormatError, detect_format
from lossbook.formats import FORMATS

EXPECTED = {
    "stsb": "pair-score",
    "nli": "pair-class",
    "nli-triplets": "triplet",
    "paws": "pair-binary",
    "qa-pairs": "pair",
    "qa-triplets": "triplet",
    "banking77": "sentence-class",
    "clinc150": "sentence-class",
    "sentences": "sentences",
}


def test_every_registered_set_has_an_expected_format():
    assert set(EXPECTED) == set(DATASETS) - {"xquad-retrieval"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bundled_sets_are_detected(monkeypatch, name):
    monkeypatch.delenv("LOSSBOOK_DATA", raising=False)
    assert detect_format(load_dataset(name, verbose=False)).format.key == EXPECTED[name]


@needs_mirror
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_mirrored_sets_are_detected(monkeypatch, name):
    monkeypatch.setenv("LOSSBOOK_DATA", str(MIRROR))
    detection = detect_format(load_dataset(name, verbose=False))
    assert detection.format.key == EXPECTED[name]
    assert detection.format.title in detection.explain()


def test_binary_pairs_say_they_could_be_two_classes():
    detection = detect_format({"a": ["x", "y"], "b": ["u", "v"], "label": [0, 1]})
    assert detection.format.key == "pair-binary"
    assert FORMATS["pair-class"] in detection.alternatives
    assert "Could also be" in str(detection)


def test_label_column_is_found_by_name_not_position():
    detection = detect_format({"score": [0.1, 0.9], "s1": ["a", "b"], "s2": ["c", "d"]})
    assert detection.format.key == "pair-score" and detection.input_columns == ["s1", "s2"]


@pytest.mark.parametrize(
    ("columns", "match"),
    [
        ({"idx": [1, 2], "text": ["a", "b"]}, "'idx' \\(int64\\) is not text"),
        ({"label": [1, 2]}, "no input columns"),
        ({"sentence": ["a", "b"], "label": [0.5, 0.7]}, "float labels"),
        ({"a": ["x"], "b": ["y"], "label": [[0.1, 0.2, 0.3]]}, "matches no format"),
    ],
)
def test_broken_data_is_explained_not_guessed(columns, match):
    with pytest.raises(FormatError, match=match):
        detect_format(columns)


def test_empty_and_datasetdict_are_refused():
    with pytest.raises(FormatError, match="no rows"):
        detect_format(datasets.Dataset.from_dict({"a": [], "b": []}))
    with pytest.raises(FormatError, match="pick one split"):
        detect_format(datasets.DatasetDict({"train": datasets.Dataset.from_dict({"a": ["x"]})}))


# -- check -----------------------------------------------------------------------------------------
CLEAN_PAIRS = {
    "anchor": ["Who wrote Hamlet?", "Where is Paris?", "What do cats eat?"],
    "positive": ["Shakespeare wrote it.", "Paris is in France.", "Cats eat meat."],
}


@pytest.mark.parametrize(
    ("data", "target"),
    [
        (CLEAN_PAIRS, "pair"),
        ({"s1": ["a b", "c d", "e f"], "s2": ["a c", "d e", "f g"], "score": [0.1, 0.5, 0.9]}, "pair-score"),
        ({"sentence": ["a", "b", "c", "d"], "label": [0, 0, 1, 1]}, "sentence-class"),
    ],
)
def test_clean_data_has_no_findings(data, target):
    report = check(data, target)
    assert report.ok, str(report)


@pytest.mark.parametrize(
    ("data", "target", "kind"),
    [
        ({"positive": CLEAN_PAIRS["positive"], "anchor": CLEAN_PAIRS["anchor"]}, "pair", "column-order"),
        (
            {"q": ["a long passage " * 10] * 1 + ["another long passage " * 10], "p": ["short?", "tiny?"]},
            "pair",
            "column-order",
        ),
        ({"s1": ["a", "b"], "s2": ["c", "d"], "score": [0.0, 4.0]}, "pair-score", "label-range"),
        ({"s1": ["a", "b"], "s2": ["c", "d"], "score": [0.5, 0.5]}, "pair-score", "constant-labels"),
        ({"s1": ["a", "b", "c"], "s2": ["c", "d", "e"], "label": [0, 2, 5]}, "pair-class", "class-ids"),
        ({"anchor": ["q1", "q2", "q1"], "positive": ["p1", "p2", "p3"]}, "pair", "duplicates"),
        ({"sentence": ["a", "b", "c"], "label": [0, 0, 1]}, "sentence-class", "singleton-classes"),
        ({"a": ["x", "y"], "b": ["u", "v"], "c": ["m", "n"]}, "pair", "wrong-format"),
        (
            {"s1": ["a", "b"], "s2": ["c", "d"], "source": ["news", "web"], "score": [0.2, 0.8]},
            "pair-score",
            "extra-columns",
        ),
        ({"a": ["x", ""], "b": ["u", "v"]}, "pair", "empty-text"),
        ({"a": ["x", "y"], "b": ["u", "v"], "source": [1, 2]}, "pair", "unreadable"),
    ],
)
def test_check_finds_each_problem(data, target, kind):
    report = check(data, target)
    assert kind in report.kinds(), str(report)
    assert all(finding.fix for finding in report.findings)


def test_class_ids_with_gaps_matter_only_where_they_index_a_classifier():
    gappy = {"sentence": ["a", "b", "c", "d"], "label": [3, 3, 70, 70]}
    assert "class-ids" not in check(gappy, "sentence-class").kinds()
    assert "class-ids" in check({"s1": ["a", "b"], "s2": ["c", "d"], "label": [3, 70]}, "pair-class").kinds()


def test_check_accepts_a_loss_class():
    class FakePairLoss:
        formats = (FORMATS["pair"],)

    assert check(CLEAN_PAIRS, FakePairLoss).ok
    assert "wrong-format" in check({"sentence": ["a", "b"]}, FakePairLoss).kinds()


# -- which findings are fatal -----------------------------------------------------------------------------
def test_findings_know_whether_they_are_fatal():
    wrong = check({"a": ["x", "y"], "b": ["u", "v"], "c": ["m", "n"]}, "pair")
    assert wrong.format_problem is not None and wrong.format_problem.fatal
    assert wrong.fatal_findings == [wrong.format_problem]
    unreadable = check({"a": ["x", "y"], "b": ["u", "v"], "source": [1, 2]}, "pair")
    assert unreadable.detection is None and unreadable.format_problem.fatal
    missing = check({"s1": ["a", "b"], "s2": ["c", "d"], "score": [0.5, float("nan")]}, "pair-score")
    assert [f.kind for f in missing.fatal_findings] == ["missing-labels"] and missing.format_problem is None
    duplicates = check({"anchor": ["q1", "q2", "q1"], "positive": ["p1", "p2", "p3"]}, "pair")
    assert duplicates.findings and not duplicates.fatal_findings and duplicates.format_problem is None
    assert not any(finding.fatal for finding in duplicates.findings)
    assert check(CLEAN_PAIRS, "pair").fatal_findings == []


def test_an_input_column_of_numbers_is_flagged_but_not_fatal():
    report = check({"text": ["a cat", "a dog"], "similarity": ["0.5", "0.7"]}, "pair")
    finding = next(f for f in report.findings if f.kind == "numbers-as-text")
    assert "'similarity'" in finding.message and not finding.fatal
    assert "numbers-as-text" not in check(CLEAN_PAIRS, "pair").kinds()
