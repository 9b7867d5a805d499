"""load_dataset: every registry name from the mirror and from the bundled sets, the Hub path, the errors."""

from __future__ import annotations

import datasets
import pytest
from mirror import HAS_MIRROR, MIRROR, needs_mirror

from lossbook import data
from lossbook.data import DATASETS, load_dataset, load_retrieval
from lossbook.detect import detect_format

REGISTRY_CONTRACT = [
    "stsb",
    "nli",
    "nli-triplets",
    "paws",
    "qa-pairs",
    "banking77",
    "clinc150",
    "sentences",
    "xquad-retrieval",
]
MIRROR_ROWS = {
    ("stsb", "train"): 2999,
    ("stsb", "validation"): 625,
    ("banking77", "train"): 3075,
    ("clinc150", "train"): 3000,
    ("nli", "train"): 9842 + 9815,
    ("paws", "train"): 4000,
    ("qa-pairs", "train"): 382,
    ("sentences", "train"): 10000,
    ("xquad-retrieval", "queries"): 806,
    ("xquad-retrieval", "corpus"): 1171,
}


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
    assert list(load_dataset("stsb", "dev", verbose=False)["sentence1"]) == list(
        load_dataset("stsb", "validation", verbose=False)["sentence1"]
    )


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

    def fake_hub(repo_id, config=None, split=None, **options):
        asked.update(repo_id=repo_id, config=config, split=split, **options)
        return datasets.Dataset.from_dict({"text": ["hi there", "block my card"], "intent": [3, 7], "extra": [0, 0]})

    monkeypatch.delenv("LOSSBOOK_DATA", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setattr(data.datasets, "load_dataset", fake_hub)
    dataset = load_dataset("clinc150", "validation", verbose=False)
    assert asked == {"repo_id": "clinc_oos", "config": "plus", "split": "validation"}
    assert dataset.column_names == ["sentence", "label"] and list(dataset["label"]) == [3, 7]
    assert "Hugging Face Hub (clinc_oos)" in dataset.info.description


# -- the Hub path against a Hub cache laid out on disk ------------------------------------------------------
ALL_NLI_CARD = """---
configs:
- config_name: pair-class
  data_files:
  - split: train
    path: pair-class/train-*
  - split: dev
    path: pair-class/dev-*
- config_name: triplet
  data_files:
  - split: train
    path: triplet/train-*
---
# all-nli, as laid out on the Hub (a few made-up rows)
"""


@pytest.fixture
def hub_cache(monkeypatch, tmp_path):
    """A Hugging Face Hub cache holding sentence-transformers/all-nli, laid out as huggingface_hub writes it."""
    import huggingface_hub.constants
    import pyarrow as pa
    import pyarrow.parquet as pq

    cache = tmp_path / "hub"
    repo = cache / "datasets--sentence-transformers--all-nli"
    commit = "0123456789abcdef0123456789abcdef01234567"
    snapshot = repo / "snapshots" / commit
    (snapshot / "pair-class").mkdir(parents=True)
    (snapshot / "triplet").mkdir()
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    (snapshot / "README.md").write_text(ALL_NLI_CARD)
    n = 300
    pair_class = {
        "premise": [f"premise {i}" for i in range(n)],
        "hypothesis": [f"hypothesis {i}" for i in range(n)],
        "label": [i % 3 for i in range(n)],
    }
    # Three row groups, so that a stream can stop inside the file.
    pq.write_table(pa.table(pair_class), snapshot / "pair-class" / "train-00000-of-00001.parquet", row_group_size=100)
    pq.write_table(
        pa.table({k: v[:30] for k, v in pair_class.items()}), snapshot / "pair-class" / "dev-00000-of-00001.parquet"
    )
    triplets = {
        "anchor": [f"a {i}" for i in range(n)],
        "positive": [f"p {i}" for i in range(n)],
        "negative": [f"n {i}" for i in range(n)],
    }
    pq.write_table(pa.table(triplets), snapshot / "triplet" / "train-00000-of-00001.parquet")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "datasets"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("LOSSBOOK_DATA", raising=False)
    return cache


def test_offline_the_local_hub_cache_serves_before_the_bundled_set(hub_cache):
    nli = load_dataset("nli", verbose=False)
    assert len(nli) == 300 and nli.column_names == ["premise", "hypothesis", "label"]
    assert "local Hugging Face Hub cache (sentence-transformers/all-nli)" in nli.info.description
    assert nli[4] == {"premise": "premise 4", "hypothesis": "hypothesis 4", "label": 1}
    validation = load_dataset("nli", "validation", verbose=False)  # lossbook's "validation" is all-nli's "dev"
    assert len(validation) == 30
    triplets = load_dataset("nli-triplets", verbose=False)
    assert triplets.column_names == ["anchor", "positive", "negative"] and len(triplets) == 300


def test_rows_takes_only_the_first_rows_from_the_hub_by_streaming(hub_cache, monkeypatch, capsys):
    streamed = []
    real_load = datasets.load_dataset

    def spy(*args, **options):
        streamed.append(options.get("streaming", False))
        return real_load(*args, **options)

    monkeypatch.setattr(data.datasets, "load_dataset", spy)
    nli = load_dataset("nli", rows=120)
    assert streamed == [True]  # never the whole split
    assert len(nli) == 120 and nli["premise"][-1] == "premise 119"
    assert "nli [train]: 120 rows from the local Hugging Face Hub cache" in capsys.readouterr().out
    assert detect_format(nli).format.key == "pair-class"


def test_offline_without_a_cached_copy_the_hub_says_why_and_the_bundled_set_serves(monkeypatch, tmp_path):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("LOSSBOOK_DATA", raising=False)
    nli = load_dataset("nli", verbose=False)
    assert "bundled with lossbook" in nli.info.description
    # all-nli has a validation ("dev") split, the bundled nli set has none: the error lists why each source failed.
    with pytest.raises(FileNotFoundError, match="HF_HUB_OFFLINE is set and the local Hub cache has no copy"):
        load_dataset("nli", "validation", verbose=False)


@pytest.mark.parametrize("source", ["offline_bundled", "offline_mirror"])
def test_rows_takes_the_first_rows_of_any_source(source, request, capsys):
    if source == "offline_mirror" and not HAS_MIRROR:
        pytest.skip("needs the data mirror (LOSSBOOK_DATA)")
    request.getfixturevalue(source)
    whole = load_dataset("stsb", verbose=False)
    first = load_dataset("stsb", rows=25)
    assert first.to_dict() == whole.select(range(25)).to_dict()
    assert f"the first 25 of {len(whole):,} rows" in capsys.readouterr().out
    everything = load_dataset("stsb", rows=10**7)
    assert len(everything) == len(whole) and "all it has of the 10,000,000 asked for" in everything.info.description


@pytest.mark.parametrize("rows", [0, -3, 2.5, "100", True])
def test_rows_must_be_a_positive_whole_number(rows):
    with pytest.raises(ValueError, match="rows must be a positive whole number"):
        load_dataset("stsb", rows=rows, verbose=False)


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
    with pytest.raises(
        ValueError, match=r"train.csv, line 3: column 'label' should hold an integer class id, found 'zero'"
    ):
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


@needs_mirror
def test_retrieval_set_links_queries_to_passages(offline_mirror):
    retrieval = load_retrieval(verbose=False)
    assert len(retrieval.queries) == 806 and len(retrieval.corpus) == 1171
    assert all(pid in retrieval.corpus for pids in retrieval.relevant.values() for pid in pids)
    assert set(retrieval.relevant) <= set(retrieval.queries)


def test_bundled_retrieval_set_is_consistent(offline_bundled):
    retrieval = load_retrieval(verbose=False)
    assert retrieval.relevant and all(pid in retrieval.corpus for pids in retrieval.relevant.values() for pid in pids)
    assert set(retrieval.relevant) == set(retrieval.queries), "every bundled query needs a relevant passage"


# -- read_data_file: the one reader of CSV and JSONL files, and its typing rule ------------------------------
def test_read_data_file_types_label_columns_and_keeps_texts(tmp_path):
    from lossbook.data_files import read_data_file

    path = tmp_path / "rows.csv"
    path.write_text("anchor,answer,label,score\nNA,1912,0,1\nNone,007,2,0.5\n")
    dataset = read_data_file(path)
    assert list(dataset["anchor"]) == ["NA", "None"] and list(dataset["answer"]) == ["1912", "007"]  # texts stay texts
    assert list(dataset["label"]) == [0, 2] and dataset.features["label"].dtype == "int64"  # whole numbers: ints
    assert list(dataset["score"]) == [1.0, 0.5] and dataset.features["score"].dtype == "float64"  # else floats
    assert detect_format(read_data_file(path).remove_columns(["score", "answer"])).format.key == "sentence-class"


def test_read_data_file_declared_kinds_and_errors_name_the_line(tmp_path):
    from lossbook.data_files import read_data_file

    path = tmp_path / "rows.csv"
    path.write_text("sentence,label\nfine,1\nhalf,1.5\n")
    assert list(read_data_file(path)["label"]) == [1.0, 1.5]
    with pytest.raises(ValueError, match=r"rows.csv, line 3: column 'label' should hold an integer class id, found"):
        read_data_file(path, kinds={"label": int})
    path.write_text("sentence,score\nfine,high\n")
    with pytest.raises(ValueError, match=r"line 2: column 'score' should hold a number, found 'high'"):
        read_data_file(path)
    path.write_text("anchor,positive\na,b,c\n")
    with pytest.raises(ValueError, match=r"line 2: the row does not have the 2 fields of the header"):
        read_data_file(path)
    path.write_text("anchor,positive\n")
    with pytest.raises(ValueError, match="has no rows"):
        read_data_file(path)
    with pytest.raises(FileNotFoundError, match="No such file"):
        read_data_file(tmp_path / "missing.csv")
    with pytest.raises(ValueError, match=r"give a \.csv or \.jsonl file"):
        read_data_file(path.rename(tmp_path / "rows.txt"))


def test_read_data_file_keeps_json_types(tmp_path):
    from lossbook.data_files import read_data_file

    path = tmp_path / "rows.jsonl"
    path.write_text('{"sentence": "007", "label": [0.5, 1.0]}\n\n{"sentence": "a", "label": [0.0, 2.0]}\n')
    dataset = read_data_file(path)
    assert list(dataset["sentence"]) == ["007", "a"] and list(dataset["label"]) == [[0.5, 1.0], [0.0, 2.0]]
    path.write_text("not json\n")
    with pytest.raises(ValueError, match="is not JSON Lines"):
        read_data_file(path)
