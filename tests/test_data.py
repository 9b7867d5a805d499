"""load_dataset: every registry name from the mirror and from the bundled sets, the Hub path, the errors."""

from __future__ import annotations

import os
from pathlib import Path

import datasets
import pytest

from lossbook import data
from lossbook.data import DATASETS, load_dataset, load_retrieval

MIRROR = Path(os.environ.get("LOSSBOOK_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
needs_mirror = pytest.mark.skipif(not (MIRROR / "README.md").is_file(), reason=f"no data mirror at {MIRROR}")

REGISTRY_CONTRACT = ["stsb", "nli", "nli-triplets", "paws", "qa-pairs", "banking77", "clinc150", "sentences", "xquad-retrieval"]
MIRROR_ROWS = {("stsb", "train"): 2999, ("stsb", "validation"): 625, ("banking77", "train"): 3075, ("clinc150", "train"): 3000,
               ("nli", "train"): 9842 + 9815, ("paws", "train"): 4000, ("qa-pairs", "train"): 382, ("sentences", "train"): 10000,
               ("xquad-retrieval", "queries"): 806, ("xquad-retrieval", "corpus"): 1171}


@pytest.fixture
def offline_bundled(monkeypatch):
    monkeypatch.delenv("LOSSBOOK_DATA", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def offline_mirror(monkeypatch):
    monkeypatch.setenv("LOSSBOOK_DATA", str(MIRROR))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _check_canonical(dataset: datasets.Dataset, name: str, split: str) -> None:
    expected = data._columns(DATASETS[name], split)
    assert tuple(dataset.column_names) == expected
    assert len(dataset) > 0
    if "label" in expected:
        assert dataset.features["label"].dtype == "int64"
        assert min(dataset["label"]) == 0
    if "score" in expected and name == "stsb":
        scores = list(dataset["score"])
        assert 0.0 <= min(scores) and max(scores) <= 1.0 and max(scores) > 0.9
    for column in expected:
        if dataset.features[column].dtype == "string":
            assert all(isinstance(text, str) and text.strip() for text in dataset[column])


def test_registry_covers_the_contract():
    assert set(REGISTRY_CONTRACT) <= set(DATASETS)


@needs_mirror
@pytest.mark.parametrize(("name", "split"), [(n, s) for n, spec in DATASETS.items() for s in spec.mirror])
def test_every_name_loads_from_the_mirror(offline_mirror, name, split, capsys):
    dataset = load_dataset(name, split)
    _check_canonical(dataset, name, split)
    assert "LOSSBOOK_DATA" in capsys.readouterr().out
    assert "the mirror" in dataset.info.description
    if (name, split) in MIRROR_ROWS:
        assert len(dataset) == MIRROR_ROWS[(name, split)]


@pytest.mark.parametrize(("name", "split"), [(n, s) for n, spec in DATASETS.items() for s in spec.bundled])
def test_every_name_loads_from_the_bundled_sets(offline_bundled, name, split):
    dataset = load_dataset(name, split, verbose=False)
    _check_canonical(dataset, name, split)
    assert "bundled with lossbook" in dataset.info.description
    if split == "train" and name != "xquad-retrieval":
        assert len(dataset) >= 150, "bundled sets must carry a few hundred rows for a CPU demo"


def test_bundled_stsb_scores_are_scaled_to_unit_range(offline_bundled):
    scores = list(load_dataset("stsb", verbose=False)["score"])
    assert len({round(s, 2) for s in scores}) >= 5, "scores should spread over the range, not just 0 and 1"


@needs_mirror
def test_dev_is_an_alias_of_validation(offline_mirror):
    assert list(load_dataset("stsb", "dev", verbose=False)["sentence1"]) == list(load_dataset("stsb", "validation", verbose=False)["sentence1"])


@needs_mirror
def test_a_split_the_mirror_lacks_comes_from_the_bundled_set_and_says_so(offline_mirror):
    dataset = load_dataset("stsb", "test", verbose=False)
    assert "bundled with lossbook" in dataset.info.description


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="Unknown data set 'stsbb'. Known data sets: stsb, nli"):
        load_dataset("stsbb")


def test_unknown_split_lists_the_splits():
    with pytest.raises(ValueError, match="has no split 'train'. Its splits are: corpus, qrels, queries"):
        load_dataset("xquad-retrieval", "train")


def test_split_no_reachable_source_has_explains_every_attempt(offline_bundled):
    with pytest.raises(FileNotFoundError) as caught:
        load_dataset("clinc150", "validation")
    message = str(caught.value)
    assert "LOSSBOOK_DATA is not set" in message and "HF_HUB_OFFLINE is set" in message
    assert "Set LOSSBOOK_DATA" in message


def test_mirror_missing_files_falls_back_with_a_reason(monkeypatch, tmp_path):
    monkeypatch.setenv("LOSSBOOK_DATA", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    dataset = load_dataset("paws", verbose=False)
    assert "bundled with lossbook" in dataset.info.description


def test_hub_source_renames_to_canonical_columns(monkeypatch):
    """Online, the Hub is asked (here a stand-in for datasets.load_dataset) and its columns renamed."""
    asked = {}

    def fake_hub(repo_id, config=None, split=None):
        asked.update(repo_id=repo_id, config=config, split=split)
        return datasets.Dataset.from_dict({"text": ["hi there", "block my card"], "intent": [3, 7], "extra": [0, 0]})

    monkeypatch.delenv("LOSSBOOK_DATA", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setattr(data.datasets, "load_dataset", fake_hub)
    dataset = load_dataset("clinc150", "validation", verbose=False)
    assert asked == {"repo_id": "clinc_oos", "config": "plus", "split": "validation"}
    assert dataset.column_names == ["sentence", "label"] and list(dataset["label"]) == [3, 7]
    assert "Hugging Face Hub (clinc_oos)" in dataset.info.description


def test_hub_failure_falls_back_to_bundled(monkeypatch):
    def unreachable(*args, **kwargs):
        raise ConnectionError("no route to host")

    monkeypatch.delenv("LOSSBOOK_DATA", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setattr(data.datasets, "load_dataset", unreachable)
    assert "bundled" in load_dataset("stsb", verbose=False).info.description


def test_text_that_looks_like_missing_values_stays_text(monkeypatch, tmp_path):
    (tmp_path / "sentences").mkdir()
    (tmp_path / "sentences" / "sentences.csv").write_text("sentence,source\nNA,x\nNone,y\nnull,z\n")
    monkeypatch.setenv("LOSSBOOK_DATA", str(tmp_path))
    assert list(load_dataset("sentences", verbose=False)["sentence"]) == ["NA", "None", "null"]


def test_malformed_label_names_file_and_line(monkeypatch, tmp_path):
    (tmp_path / "banking77").mkdir()
    (tmp_path / "banking77" / "train.csv").write_text("sentence,label\nfine,0\nbroken,zero\n")
    monkeypatch.setenv("LOSSBOOK_DATA", str(tmp_path))
    with pytest.raises(ValueError, match=r"train.csv, line 3: column 'label' should hold an integer class id, found 'zero'"):
        load_dataset("banking77", verbose=False)


@needs_mirror
@pytest.mark.parametrize("source", ["offline_mirror", "offline_bundled"])
def test_class_names_travel_with_the_ids_of_each_source(source, request):
    request.getfixturevalue(source)
    banking = load_dataset("banking77", verbose=False)
    names = banking.features["label"].names
    assert len(names) == (77 if source == "offline_mirror" else len(set(banking["label"])))
    assert banking.features["label"].int2str(0) == "card_arrival"  # both sources happen to start with it
    assert all(isinstance(banking.features["label"].int2str(label), str) for label in banking["label"][:50])
    assert load_dataset("nli", verbose=False).features["label"].names == ["entailment", "neutral", "contradiction"]


def test_retrieval_set_links_queries_to_passages(offline_mirror):
    retrieval = load_retrieval(verbose=False)
    assert len(retrieval.queries) == 806 and len(retrieval.corpus) == 1171
    assert all(pid in retrieval.corpus for pids in retrieval.relevant.values() for pid in pids)
    assert set(retrieval.relevant) <= set(retrieval.queries)


def test_bundled_retrieval_set_is_consistent(offline_bundled):
    retrieval = load_retrieval(verbose=False)
    assert retrieval.relevant and all(pid in retrieval.corpus for pids in retrieval.relevant.values() for pid in pids)
    assert set(retrieval.relevant) == set(retrieval.queries), "every bundled query needs a relevant passage"
