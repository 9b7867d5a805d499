"""Named data sets with canonical columns, from a mirror folder, the Hub, or the small sets bundled in data/.

``load_dataset("stsb")`` returns a ``datasets.Dataset`` whose columns follow sentence-transformers'
rules for its format (inputs in order, then ``label`` or ``score``), whatever the source called them.
Sources are tried in order:

1. the folder named by the environment variable ``LOSSBOOK_DATA`` (laid out like the shared mirror:
   ``stsb/train.csv``, ``nli/snli_validation.csv``, ...);
2. the Hugging Face Hub; with ``HF_HUB_OFFLINE=1``, only a copy already in the local Hub cache (one
   ``huggingface-cli download --repo-type dataset REPO`` made earlier, say);
3. the small sets written for lossbook and bundled in ``data/`` (always there, a few thousand rows).

Every call says which source it used (printed, and kept in ``dataset.info.description``). ``rows=N`` takes
the first N rows of a split from any source; from the Hub it streams them, so only those rows are
downloaded and held in memory (all-nli's training split has about 942k rows; a notebook needs a few
thousand).
"""

from __future__ import annotations

import csv
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import huggingface_hub

from lossbook.data_files import read_data_file
from lossbook.validate import did_you_mean

__all__ = [
    "DATASETS",
    "DataOrigin",
    "DatasetSpec",
    "RetrievalSet",
    "bundled_data_folder",
    "load_dataset",
    "load_retrieval",
    "origin_of",
]

# "dev" and "validation" name the same split; sources disagree on which word they use.
_SPLIT_ALIASES = {"dev": "validation", "val": "validation", "valid": "validation"}


def _divide_score_by_5(row: dict) -> dict:
    return {"score": float(row["score"]) / 5.0}


@dataclass(frozen=True)
class HubSource:
    repo_id: str
    config: str | None
    splits: dict[str, str]  # lossbook split -> Hub split
    renames: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetSpec:
    """One named data set: its canonical columns and where each split can be found."""

    name: str
    format: str
    description: str
    columns: tuple[str, ...]
    mirror: dict[str, tuple[str, ...]]  # split -> CSV files relative to LOSSBOOK_DATA
    bundled: dict[str, tuple[str, ...]]  # split -> CSV files relative to data/
    hub: HubSource | None = None
    # Applied to CSV rows (the mirror and the bundled sets use STS-B's 0-5 scale; the Hub copy is 0-1).
    csv_transform: Callable[[dict], dict] | None = None
    notes: dict[str, str] = field(default_factory=dict)  # split -> a caveat shown with the source

    @property
    def splits(self) -> list[str]:
        names = set(self.mirror) | set(self.bundled) | (set(self.hub.splits) if self.hub else set())
        return sorted(names)


_STAND_IN = "the source's validation split, standing in as a small training set"

DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in [
        DatasetSpec(
            "stsb",
            "(sentence_A, sentence_B) pairs + float similarity score 0-1",
            "STS Benchmark: sentence pairs scored 0 (unrelated) to 1 (same meaning).",
            ("sentence1", "sentence2", "score"),
            mirror={"train": ("stsb/train.csv",), "validation": ("stsb/dev.csv",)},
            bundled={"train": ("stsb/train.csv",), "validation": ("stsb/dev.csv",), "test": ("stsb/test.csv",)},
            hub=HubSource(
                "sentence-transformers/stsb", None, {"train": "train", "validation": "validation", "test": "test"}
            ),
            csv_transform=_divide_score_by_5,
        ),
        DatasetSpec(
            "nli",
            "(sentence_A, sentence_B) pairs + class (0 entailment, 1 neutral, 2 contradiction)",
            "Natural language inference: does the premise entail, leave open, or contradict the hypothesis?",
            ("premise", "hypothesis", "label"),
            mirror={
                "train": ("nli/snli_validation.csv", "nli/mnli_validation_matched.csv"),
                "snli": ("nli/snli_validation.csv",),
                "mnli": ("nli/mnli_validation_matched.csv",),
            },
            bundled={"train": ("nli/train.csv",)},
            hub=HubSource(
                "sentence-transformers/all-nli", "pair-class", {"train": "train", "validation": "dev", "test": "test"}
            ),
            notes={"train": _STAND_IN},
        ),
        DatasetSpec(
            "nli-triplets",
            "(anchor, positive, negative) triplets",
            "NLI turned into triplets: an entailed hypothesis is the positive, a contradiction the negative.",
            ("anchor", "positive", "negative"),
            mirror={
                "train": ("nli_triplets/snli_validation.csv", "nli_triplets/mnli_validation_matched.csv"),
                "snli": ("nli_triplets/snli_validation.csv",),
                "mnli": ("nli_triplets/mnli_validation_matched.csv",),
            },
            bundled={"train": ("nli_triplets/train.csv",)},
            hub=HubSource(
                "sentence-transformers/all-nli", "triplet", {"train": "train", "validation": "dev", "test": "test"}
            ),
            notes={"train": _STAND_IN},
        ),
        DatasetSpec(
            "paws",
            "(anchor, positive/negative) pairs + 1 if paraphrase, 0 if not",
            "PAWS: paraphrase pairs whose non-paraphrases share almost all words.",
            ("sentence1", "sentence2", "label"),
            mirror={"train": ("paws/dev.csv",), "validation": ("paws/dev.csv",)},
            bundled={"train": ("paws/train.csv",), "test": ("paws/test.csv",)},
            hub=HubSource(
                "google-research-datasets/paws",
                "labeled_final",
                {"train": "train", "validation": "validation", "test": "test"},
            ),
            notes={"train": _STAND_IN},
        ),
        DatasetSpec(
            "qa-pairs",
            "(anchor, positive) pairs",
            "Questions paired with the sentence that answers them.",
            ("anchor", "positive"),
            mirror={"train": ("qa_pairs/xquad_train_pairs.csv",)},
            bundled={"train": ("qa_pairs/train.csv",)},
            hub=HubSource(
                "sentence-transformers/squad", None, {"train": "train"}, {"question": "anchor", "answer": "positive"}
            ),
        ),
        DatasetSpec(
            "qa-triplets",
            "(anchor, positive, negative) triplets",
            "Questions, the sentence that answers them, and a sentence of the same text that does not.",
            ("anchor", "positive", "negative"),
            mirror={"train": ("qa_pairs/xquad_train_triplets.csv",)},
            bundled={"train": ("qa_pairs/triplets.csv",)},
        ),
        DatasetSpec(
            "banking77",
            "single sentences + class",
            "Banking77: customer-service messages labelled with one of 77 intents.",
            ("sentence", "label"),
            mirror={"train": ("banking77/train.csv",), "test": ("banking77/test.csv",)},
            bundled={"train": ("banking77/train.csv",), "test": ("banking77/test.csv",)},
            hub=HubSource("PolyAI/banking77", None, {"train": "train", "test": "test"}, {"text": "sentence"}),
        ),
        DatasetSpec(
            "clinc150",
            "single sentences + class",
            "CLINC150: requests to a virtual assistant labelled with one of 150 intents in 10 domains.",
            ("sentence", "label"),
            mirror={"train": ("clinc150/train.csv",)},
            bundled={"train": ("clinc150/train.csv",), "test": ("clinc150/test.csv",)},
            hub=HubSource(
                "clinc_oos",
                "plus",
                {"train": "train", "validation": "validation", "test": "test"},
                {"text": "sentence", "intent": "label"},
            ),
        ),
        DatasetSpec(
            "sentences",
            "single sentences",
            "Plain sentences without labels, for the unsupervised losses.",
            ("sentence",),
            mirror={"train": ("sentences/sentences.csv",)},
            bundled={"train": ("sentences/train.csv",)},
        ),
        DatasetSpec(
            "xquad-retrieval",
            "retrieval: queries, corpus and relevance judgements",
            "A small retrieval set: questions, one passage per sentence, and which passage answers which question.",
            ("qid", "pid", "score"),
            mirror={
                "queries": ("retrieval_xquad/queries.csv",),
                "corpus": ("retrieval_xquad/corpus.csv",),
                "qrels": ("retrieval_xquad/qrels.csv",),
            },
            bundled={
                "queries": ("retrieval/queries.csv",),
                "corpus": ("retrieval/corpus.csv",),
                "qrels": ("retrieval/qrels.csv",),
            },
        ),
    ]
}
# Columns per split where they differ from the spec's (the retrieval set has three kinds of table).
_SPLIT_COLUMNS = {
    ("xquad-retrieval", "queries"): ("qid", "text"),
    ("xquad-retrieval", "corpus"): ("pid", "title", "text"),
}
# The registry's label columns: class ids and scores (read_data_file types them, and names the line of a bad value).
_COLUMN_KINDS = {"label": int, "score": float}


def bundled_data_folder() -> Path:
    """The folder of the small data sets written for lossbook (``data/`` in the repository)."""
    repository_data = Path(__file__).resolve().parent.parent / "data"
    if (repository_data / "README.md").is_file():
        return repository_data
    import lossbook.bundled_data  # the same files, installed inside the wheel

    return Path(next(iter(lossbook.bundled_data.__path__)))


def load_dataset(name: str, split: str = "train", *, rows: int | None = None, verbose: bool = True) -> datasets.Dataset:
    """Load a named data set with canonical column names.

    Args:
        name: one of ``lossbook.DATASETS`` (``stsb``, ``nli``, ``nli-triplets``, ``paws``, ``qa-pairs``,
            ``qa-triplets``, ``banking77``, ``clinc150``, ``sentences``, ``xquad-retrieval``).
        split: ``train``, ``validation`` (alias ``dev``), ``test``, or a set's own splits
            (``queries``/``corpus``/``qrels`` for retrieval). Not every source has every split.
        rows: take only the first ``rows`` rows of the split (all of it when ``None``); the Hub then streams
            just those rows instead of downloading the whole split. A source with fewer rows gives all it has,
            and the message says so.
        verbose: print which source was used.

    Returns:
        A ``datasets.Dataset``; ``dataset.info.description`` says where it came from.
    """
    spec = _spec(name)
    split = _SPLIT_ALIASES.get(split, split)
    if split not in spec.splits:
        raise ValueError(
            f"The data set {name!r} has no split {split!r}. Its splits are: {', '.join(spec.splits)}."
            + did_you_mean(split, spec.splits)
        )
    if rows is not None and (isinstance(rows, bool) or not isinstance(rows, int) or rows < 1):
        raise ValueError(f"rows must be a positive whole number of rows (or None for the whole split), not {rows!r}.")
    tried: list[str] = []
    loaded = (
        _from_mirror(spec, split, tried) or _from_hub(spec, split, rows, tried) or _from_bundled(spec, split, tried)
    )
    if loaded is None:
        raise FileNotFoundError(
            f"No source has split {split!r} of {name!r}. Tried:\n  - "
            + "\n  - ".join(tried)
            + f"\nSplits by source: mirror {sorted(spec.mirror)}, bundled {sorted(spec.bundled)}"
            + (f", Hub {sorted(spec.hub.splits)}" if spec.hub else "")
            + ". Set LOSSBOOK_DATA to a mirror folder, go online, or pick another split."
        )
    dataset, source = loaded
    available = None
    if rows is not None and len(dataset) > rows:
        available, dataset = len(dataset), dataset.select(range(rows))
    note = spec.notes.get(split) if source.startswith("the mirror") else None
    counted = f"the first {len(dataset):,} of {available:,} rows" if available else f"{len(dataset):,} rows"
    if rows is not None and len(dataset) < rows:
        counted += f" (all it has of the {rows:,} asked for)"
    message = f"{name} [{split}]: {counted} from {source}" + (f" ({note})" if note else "")
    if not source.startswith("the mirror") and _mirror_was_expected(spec, split, tried):
        message += f" ({tried[0]}, so it was not used)"
    dataset.info.description = message
    if verbose:
        print(message)
    return dataset


@dataclass(frozen=True)
class DataOrigin:
    """Which named data set some rows are, and from where: what a model card says about its training data."""

    label: str  # "stsb [train]"
    source: str  # "the Hugging Face Hub", "a mirror folder" or "the small set bundled with lossbook"
    hub_id: str | None  # the Hub data set, only when the rows are its rows (the bundled sets were written for lossbook)


def origin_of(dataset) -> DataOrigin | None:
    """The ``DataOrigin`` of rows ``load_dataset`` returned (or selected, shuffled, mapped from them), else None.

    Read back from the description ``load_dataset`` gives every result (``"stsb [train]: 1,000 rows from ..."``),
    which ``Dataset.select``, ``shuffle`` and ``map`` keep; rows built some other way have no origin.
    """
    description = getattr(getattr(dataset, "info", None), "description", None) or ""
    label, _, where = description.partition(": ")
    name, bracket, _ = label.partition(" [")
    if name not in DATASETS or not bracket or not label.endswith("]"):
        return None
    hub = DATASETS[name].hub
    if hub is not None and (f"Hub ({hub.repo_id})" in where or f"Hub cache ({hub.repo_id})" in where):
        return DataOrigin(label, "the Hugging Face Hub", hub.repo_id)
    if " from the mirror " in where:
        return DataOrigin(label, "a mirror folder", None)
    return DataOrigin(label, "the small set bundled with lossbook", None)


def _spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        known = ", ".join(DATASETS)
        raise ValueError(f"Unknown data set {name!r}. Known data sets: {known}.{did_you_mean(name, DATASETS)}")
    return DATASETS[name]


def _from_mirror(spec: DatasetSpec, split: str, tried: list[str]) -> tuple[datasets.Dataset, str] | None:
    root = os.environ.get("LOSSBOOK_DATA")
    if not root:
        tried.append("mirror: LOSSBOOK_DATA is not set")
        return None
    files = spec.mirror.get(split)
    if files is None:
        tried.append(f"mirror {root}: has no {split!r} split of {spec.name}")
        return None
    folder = Path(root).expanduser()
    if not folder.is_dir() or not any(folder.iterdir()):
        # A mistyped or unmounted mirror: say so loudly, since every data set then silently comes from elsewhere.
        problem = "does not exist" if not folder.exists() else "is not a folder" if not folder.is_dir() else "is empty"
        tried.append(f"mirror {root} (LOSSBOOK_DATA) {problem}")
        warnings.warn(
            f"LOSSBOOK_DATA is set to {root}, which {problem}; data sets come from the next source instead. "
            "Point LOSSBOOK_DATA at the mirror folder (it holds stsb/, nli/, ...), or unset it.",
            stacklevel=3,
        )
        return None
    paths = [folder / file for file in files]
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        tried.append(f"mirror {root}: missing {', '.join(missing)}")
        return None
    return _read_csv(spec, split, paths), f"the mirror {root} (LOSSBOOK_DATA)"


def _mirror_was_expected(spec: DatasetSpec, split: str, tried: list[str]) -> bool:
    """True when LOSSBOOK_DATA is set and the mirror should have served this split but could not."""
    mirror_set = bool(os.environ.get("LOSSBOOK_DATA"))
    return mirror_set and split in spec.mirror and bool(tried) and tried[0].startswith("mirror ")


def _hub_offline() -> bool:
    return any(
        os.environ.get(variable, "0").lower() in {"1", "true", "yes", "on"}
        for variable in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
    )


def _from_hub(spec: DatasetSpec, split: str, rows: int | None, tried: list[str]) -> tuple[datasets.Dataset, str] | None:
    """The Hub copy: streamed from the Hub online, read from the local Hub cache offline."""
    if spec.hub is None or split not in spec.hub.splits:
        tried.append(f"Hub: {spec.name} has no Hub source for split {split!r}")
        return None
    repo_id = spec.hub.repo_id
    if _hub_offline():
        try:  # offline, huggingface_hub answers from its cache (and only from there) without a network call
            path = huggingface_hub.snapshot_download(repo_id, repo_type="dataset", local_files_only=True)
        except Exception:
            tried.append(f"Hub {repo_id}: HF_HUB_OFFLINE is set and the local Hub cache has no copy")
            return None
        source = f"the local Hugging Face Hub cache ({repo_id})"
    else:
        path, source = repo_id, f"the Hugging Face Hub ({repo_id})"
    try:
        dataset = _read_hub_split(path, spec.hub.config, spec.hub.splits[split], rows)
        dataset = dataset.rename_columns(
            {old: new for old, new in spec.hub.renames.items() if old in dataset.column_names}
        )
        dataset = dataset.select_columns(list(_columns(spec, split)))
    except Exception as error:  # network, auth or format problems all mean "try the next source"
        tried.append(f"Hub {repo_id}: {type(error).__name__}: {str(error).splitlines()[0][:160] if str(error) else ''}")
        return None
    return dataset, source


def _read_hub_split(path: str, config: str | None, split: str, rows: int | None) -> datasets.Dataset:
    """One split of a Hub data set (a repo id, or the folder of its cached snapshot); only ``rows`` rows if set."""
    if rows is None:
        return datasets.load_dataset(path, config, split=split)
    # Streaming reads the data files lazily, so the first `rows` rows are all that is downloaded.
    stream = datasets.load_dataset(path, config, split=split, streaming=True)
    taken = list(stream.take(rows))
    if stream.features is not None:
        return datasets.Dataset.from_list(taken, features=stream.features)
    return datasets.Dataset.from_list(taken)


def _from_bundled(spec: DatasetSpec, split: str, tried: list[str]) -> tuple[datasets.Dataset, str] | None:
    files = spec.bundled.get(split)
    if files is None:
        tried.append(f"bundled data: no {split!r} split of {spec.name}")
        return None
    folder = bundled_data_folder()
    return _read_csv(spec, split, [folder / file for file in files]), f"the small set bundled with lossbook ({folder})"


def _columns(spec: DatasetSpec, split: str) -> tuple[str, ...]:
    return _SPLIT_COLUMNS.get((spec.name, split), spec.columns)


def _read_csv(spec: DatasetSpec, split: str, paths: list[Path]) -> datasets.Dataset:
    """The CSV files of one split as a Dataset (``read_data_file``: texts stay text, labels ints, scores floats)."""
    columns = _columns(spec, split)
    table: dict[str, list] = {column: [] for column in columns}
    for path in paths:
        # Typed while read, so that a malformed value is reported with its file and line, not by the transform.
        part = read_data_file(path, kinds=_COLUMN_KINDS)
        absent = [column for column in columns if column not in part.column_names]
        if absent:
            raise ValueError(f"{path} lacks the column(s) {absent}; it has {part.column_names}.")
        for column in columns:
            table[column] += list(part[column])
    if spec.csv_transform is not None:
        rows = [dict(zip(columns, values)) for values in zip(*table.values())]
        for row in rows:
            row.update(spec.csv_transform(row))
        table = {column: [row[column] for row in rows] for column in columns}
    features = datasets.Features(
        {
            column: datasets.Value({int: "int64", float: "float64"}.get(_COLUMN_KINDS.get(column), "string"))
            for column in columns
        }
    )
    names = _label_names(paths[0].parent) if "label" in columns else None
    if names is not None and all(0 <= value < len(names) for value in table["label"]):
        features["label"] = datasets.ClassLabel(names=names)
    return datasets.Dataset.from_dict(table, features=features)


def _label_names(folder: Path) -> list[str] | None:
    """Class names from ``labels.csv`` (columns label, label_name) beside the data, when the ids run 0..K-1.

    The ids are the source's own (the mirror keeps PolyAI's 77 banking77 ids, the bundled set numbers its
    20 intents afresh), so the names travel with the data as a ``datasets.ClassLabel``, as on the Hub:
    ``dataset.features["label"].int2str(row["label"])`` names a row's class whatever the source.
    """
    path = folder / "labels.csv"
    if not path.is_file():
        return None
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or not {"label", "label_name"} <= set(rows[0]):
        return None
    names = {int(row["label"]): row["label_name"] for row in rows}
    return [names[i] for i in range(len(names))] if sorted(names) == list(range(len(names))) else None


@dataclass
class RetrievalSet:
    """Queries, a corpus and relevance judgements, as dictionaries keyed by id."""

    queries: dict[str, str]
    corpus: dict[str, str]
    relevant: dict[str, set[str]]

    def __repr__(self) -> str:
        return f"RetrievalSet({len(self.queries)} queries, {len(self.corpus)} passages)"


def load_retrieval(name: str = "xquad-retrieval", *, verbose: bool = True) -> RetrievalSet:
    """Load a retrieval set as ``RetrievalSet(queries, corpus, relevant)`` for evaluation."""
    queries = load_dataset(name, "queries", verbose=verbose)
    corpus = load_dataset(name, "corpus", verbose=verbose)
    qrels = load_dataset(name, "qrels", verbose=verbose)
    relevant: dict[str, set[str]] = {}
    for row in qrels:
        if row["score"] > 0:
            relevant.setdefault(row["qid"], set()).add(row["pid"])
    return RetrievalSet(
        queries=dict(zip(queries["qid"], queries["text"])),
        corpus=dict(zip(corpus["pid"], corpus["text"])),
        relevant=relevant,
    )
