"""Converters that use the labels already in the data: classes, 0/1 labels, scores, triplets.

All are pure and seeded: the same data and seed give the same output, and the input is not changed.
"""

from __future__ import annotations

from collections import defaultdict

import datasets

from lossbook.convert.registry import ConversionError, converter, require_format, rng

__all__ = [
    "binary_pairs_to_pairs",
    "binary_pairs_to_triplets",
    "deduplicate",
    "pair_class_to_pairs",
    "pair_class_to_triplets",
    "scored_pairs_to_binary_pairs",
    "scored_pairs_to_pairs",
    "sentence_class_to_binary_pairs",
    "sentence_class_to_pairs",
    "sentence_class_to_triplets",
    "triplets_to_binary_pairs",
    "triplets_to_pairs",
    "triplets_to_scored_pairs",
]


def _rows(dataset: datasets.Dataset, columns: list[str]) -> list[tuple]:
    return list(zip(*(dataset[column] for column in columns)))


@converter("pair-class", "triplet")
def pair_class_to_triplets(
    data, *, positive_label: int = 0, negative_label: int = 2, seed: int = 0
) -> datasets.Dataset:
    """(A, B) pairs + class -> (anchor, positive, negative) triplets, grouping the rows by sentence A.

    For every row with ``positive_label`` (NLI: 0 = entailment) the negative is a sentence B that the
    same sentence A has with ``negative_label`` (NLI: 2 = contradiction), picked at random when there
    are several. Rows whose sentence A has no such negative are dropped. Output rows = the number of
    positive rows whose anchor has at least one negative.
    """
    dataset, inputs, label = require_format(data, "pair-class", "pair_class_to_triplets")
    by_anchor: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for a, b, y in _rows(dataset, inputs[:2] + [label]):
        by_anchor[a][int(y)].append(b)
    if not any(positive_label in classes for classes in by_anchor.values()):
        raise ConversionError(
            f"No row has the positive label {positive_label}; the labels are {sorted(set(dataset[label]))}."
        )
    random = rng(seed)
    anchors, positives, negatives = [], [], []
    for anchor, classes in by_anchor.items():
        for positive in classes.get(positive_label, []):
            if classes.get(negative_label):
                anchors.append(anchor)
                positives.append(positive)
                negatives.append(random.choice(classes[negative_label]))
    if not anchors:
        raise ConversionError(
            f"No sentence A has both a label-{positive_label} and a label-{negative_label} partner, "
            "so no triplet can be built."
        )
    return datasets.Dataset.from_dict({"anchor": anchors, "positive": positives, "negative": negatives})


@converter("pair-class", "pair")
def pair_class_to_pairs(data, *, positive_label: int = 0) -> datasets.Dataset:
    """(A, B) pairs + class -> (anchor, positive) pairs: keep the rows with ``positive_label``."""
    dataset, inputs, label = require_format(data, "pair-class", "pair_class_to_pairs")
    kept = [(a, b) for a, b, y in _rows(dataset, inputs[:2] + [label]) if int(y) == positive_label]
    if not kept:
        raise ConversionError(
            f"No row has the positive label {positive_label}; the labels are {sorted(set(dataset[label]))}."
        )
    return datasets.Dataset.from_dict({"anchor": [a for a, _ in kept], "positive": [b for _, b in kept]})


@converter("pair-binary", "pair")
def binary_pairs_to_pairs(data) -> datasets.Dataset:
    """(A, B) + 1/0 -> (anchor, positive) pairs: keep the pairs labelled 1 (matches)."""
    dataset, inputs, label = require_format(data, "pair-binary", "binary_pairs_to_pairs")
    kept = [(a, b) for a, b, y in _rows(dataset, inputs[:2] + [label]) if int(y) == 1]
    if not kept:
        raise ConversionError("No pair is labelled 1, so there is no positive pair to keep.")
    return datasets.Dataset.from_dict({"anchor": [a for a, _ in kept], "positive": [b for _, b in kept]})


@converter("pair-binary", "triplet")
def binary_pairs_to_triplets(data, *, seed: int = 0) -> datasets.Dataset:
    """(A, B) + 1/0 -> (anchor, positive, negative): for each 1-pair, a 0-partner of the same sentence A.

    Rows whose sentence A has no 0-labelled partner are dropped; output rows = the 1-pairs kept.
    """
    dataset, inputs, label = require_format(data, "pair-binary", "binary_pairs_to_triplets")
    return pair_class_to_triplets(
        datasets.Dataset.from_dict(
            {"a": list(dataset[inputs[0]]), "b": list(dataset[inputs[1]]), "label": [int(y) for y in dataset[label]]}
        ),
        positive_label=1,
        negative_label=0,
        seed=seed,
    )


def _by_class(data, name: str) -> tuple[list[str], list[int], dict[int, list[int]]]:
    dataset, inputs, label = require_format(data, "sentence-class", name)
    texts, labels = list(dataset[inputs[0]]), [int(y) for y in dataset[label]]
    members: dict[int, list[int]] = defaultdict(list)
    for index, y in enumerate(labels):
        members[y].append(index)
    if len(members) < 2:
        raise ConversionError(
            f"{name} needs at least two classes to draw negatives from; the data has one ({labels[0]})."
        )
    if all(len(rows) < 2 for rows in members.values()):
        raise ConversionError(
            f"{name} needs a class with at least two sentences to form a positive pair; every class has one."
        )
    return texts, labels, members


def _sample_pairs(texts, labels, members, random, with_negative: bool):
    anchors, positives, negatives = [], [], []
    classes = sorted(members)
    for index, (text, y) in enumerate(zip(texts, labels)):
        others = [i for i in members[y] if i != index and texts[i] != text]
        if not others:
            continue  # a class with one sentence cannot give a positive
        anchors.append(text)
        positives.append(texts[random.choice(others)])
        if with_negative:
            other_class = random.choice([c for c in classes if c != y])
            negatives.append(texts[random.choice(members[other_class])])
    return anchors, positives, negatives


@converter("sentence-class", "pair")
def sentence_class_to_pairs(data, *, seed: int = 0) -> datasets.Dataset:
    """Sentences + class -> (anchor, positive) pairs: each sentence with another of its class.

    One pair per sentence whose class has another (different) sentence; singletons are dropped.
    """
    texts, labels, members = _by_class(data, "sentence_class_to_pairs")
    anchors, positives, _ = _sample_pairs(texts, labels, members, rng(seed), with_negative=False)
    return datasets.Dataset.from_dict({"anchor": anchors, "positive": positives})


@converter("sentence-class", "triplet")
def sentence_class_to_triplets(data, *, seed: int = 0) -> datasets.Dataset:
    """Sentences + class -> (anchor, positive, negative): a same-class positive, an other-class negative.

    One triplet per sentence whose class has another sentence; singletons are dropped.
    """
    texts, labels, members = _by_class(data, "sentence_class_to_triplets")
    anchors, positives, negatives = _sample_pairs(texts, labels, members, rng(seed), with_negative=True)
    return datasets.Dataset.from_dict({"anchor": anchors, "positive": positives, "negative": negatives})


@converter("sentence-class", "pair-binary")
def sentence_class_to_binary_pairs(data, *, seed: int = 0) -> datasets.Dataset:
    """Sentences + class -> (A, B) + 1/0: per sentence one same-class pair (1) and one other-class pair (0)."""
    texts, labels, members = _by_class(data, "sentence_class_to_binary_pairs")
    anchors, positives, negatives = _sample_pairs(texts, labels, members, rng(seed), with_negative=True)
    return datasets.Dataset.from_dict(
        {
            "sentence1": anchors + anchors,
            "sentence2": positives + negatives,
            "label": [1] * len(anchors) + [0] * len(anchors),
        }
    )


def _check_thresholds(negative_threshold: float, positive_threshold: float) -> None:
    if not negative_threshold <= positive_threshold:
        raise ConversionError(
            f"negative_threshold ({negative_threshold}) must not exceed positive_threshold ({positive_threshold})."
        )


@converter("pair-score", "pair-binary")
def scored_pairs_to_binary_pairs(
    data, *, positive_threshold: float = 0.7, negative_threshold: float = 0.3
) -> datasets.Dataset:
    """(A, B) + score -> (A, B) + 1/0: score >= ``positive_threshold`` is 1, <= ``negative_threshold`` is 0.

    Rows in between are dropped (they are neither clear matches nor clear mismatches).
    """
    _check_thresholds(negative_threshold, positive_threshold)
    dataset, inputs, label = require_format(data, "pair-score", "scored_pairs_to_binary_pairs")
    rows = [
        (a, b, 1 if s >= positive_threshold else 0)
        for a, b, s in _rows(dataset, inputs[:2] + [label])
        if s >= positive_threshold or s <= negative_threshold
    ]
    if not rows or len({y for *_, y in rows}) < 2:
        raise ConversionError(
            f"With thresholds {negative_threshold} / {positive_threshold} the scores "
            f"({min(dataset[label]):g}..{max(dataset[label]):g}) do not give both positives and negatives."
        )
    return datasets.Dataset.from_dict(
        {"sentence1": [r[0] for r in rows], "sentence2": [r[1] for r in rows], "label": [r[2] for r in rows]}
    )


@converter("pair-score", "pair")
def scored_pairs_to_pairs(data, *, positive_threshold: float = 0.7) -> datasets.Dataset:
    """(A, B) + score -> (anchor, positive) pairs: keep the pairs scored >= ``positive_threshold``."""
    dataset, inputs, label = require_format(data, "pair-score", "scored_pairs_to_pairs")
    rows = [(a, b) for a, b, s in _rows(dataset, inputs[:2] + [label]) if s >= positive_threshold]
    if not rows:
        raise ConversionError(f"No pair scores >= {positive_threshold} (max {max(dataset[label]):g}).")
    return datasets.Dataset.from_dict({"anchor": [a for a, _ in rows], "positive": [b for _, b in rows]})


@converter("triplet", "pair")
def triplets_to_pairs(data) -> datasets.Dataset:
    """(anchor, positive, negative) -> (anchor, positive): drop the negative (MNRL still gets in-batch negatives)."""
    dataset, inputs, _ = require_format(data, "triplet", "triplets_to_pairs")
    return datasets.Dataset.from_dict({"anchor": list(dataset[inputs[0]]), "positive": list(dataset[inputs[1]])})


@converter("triplet", "pair-binary")
def triplets_to_binary_pairs(data) -> datasets.Dataset:
    """(anchor, positive, negative) -> (A, B) + 1/0: two rows per triplet, (a, p, 1) and (a, n, 0)."""
    dataset, inputs, _ = require_format(data, "triplet", "triplets_to_binary_pairs")
    a, p, n = (list(dataset[column]) for column in inputs[:3])
    return datasets.Dataset.from_dict({"sentence1": a + a, "sentence2": p + n, "label": [1] * len(a) + [0] * len(a)})


@converter("triplet", "pair-score")
def triplets_to_scored_pairs(data, *, positive_score: float = 1.0, negative_score: float = 0.0) -> datasets.Dataset:
    """(anchor, positive, negative) -> (A, B) + score: (a, p, 1.0) and (a, n, 0.0), two rows per triplet."""
    dataset, inputs, _ = require_format(data, "triplet", "triplets_to_scored_pairs")
    a, p, n = (list(dataset[column]) for column in inputs[:3])
    scores = [float(positive_score)] * len(a) + [float(negative_score)] * len(a)
    return datasets.Dataset.from_dict({"sentence1": a + a, "sentence2": p + n, "score": scores})


def deduplicate(data, columns: list[str] | None = None) -> datasets.Dataset:
    """Drop rows that repeat an earlier text in any of ``columns`` (default: the first two inputs).

    In-batch-negative losses treat every other row's positive as a negative; a repeated text in the
    same batch is then a false negative. Keeping the first occurrence removes that risk. The format
    is unchanged.
    """
    from lossbook.detect import as_dataset, label_column_of

    dataset = as_dataset(data)
    if columns is None:
        columns = [name for name in dataset.column_names if name != label_column_of(dataset.column_names)][:2]
    missing = [column for column in columns if column not in dataset.column_names]
    if missing:
        raise ConversionError(f"deduplicate: no column(s) {missing}; the data has {dataset.column_names}.")
    seen: set[str] = set()
    keep = []
    for index, texts in enumerate(zip(*(dataset[column] for column in columns))):
        if not seen.intersection(texts):
            keep.append(index)
            seen.update(texts)
    return dataset.select(keep)
