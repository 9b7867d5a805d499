"""Which rows go into each batch: random, no duplicates (for in-batch negatives), grouped by label.

Every sampler is seeded (a private ``random.Random``), returns a list of batches of row indices for
one epoch, and never changes the data.

* ``random_batches``: shuffled rows, cut into batches.
* ``no_duplicate_batches``: no text appears twice in a batch. With in-batch negatives, a repeated
  text would be a positive and a negative of the same anchor at once (a false negative).
* ``group_by_label_batches``: every class in a batch has at least two rows, so batch-triplet losses
  always find a positive for each anchor.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

from lossbook.validate import whole_number

__all__ = ["SAMPLERS", "choose_sampler", "group_by_label_batches", "no_duplicate_batches", "random_batches"]


def random_batches(num_rows: int, batch_size: int, *, seed: int = 0, drop_last: bool = False, **_) -> list[list[int]]:
    """Shuffle the rows and cut them into batches of ``batch_size``."""
    batch_size = whole_number(batch_size, "batch_size")
    order = list(range(num_rows))
    random.Random(seed).shuffle(order)
    batches = [order[start : start + batch_size] for start in range(0, num_rows, batch_size)]
    return [batch for batch in batches if len(batch) == batch_size] if drop_last else batches


def no_duplicate_batches(
    texts: Sequence[Sequence[str]], batch_size: int, *, seed: int = 0, drop_last: bool = False, **_
) -> list[list[int]]:
    """Batches in which no text repeats (across all the given text columns).

    ``texts[i]`` holds the texts of row ``i``. Rows are visited in a shuffled order; a row whose text
    is already in the current batch waits for a later batch, so every row is used once per epoch
    (rows that fit nowhere end up in the last, smaller batches).
    """
    # Below 1 no row ever fits, and the loop below would never end.
    batch_size = whole_number(batch_size, "batch_size")
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    batches: list[list[int]] = []
    waiting = order
    while waiting:
        batch, seen, left_over = [], set(), []
        for index in waiting:
            row = set(texts[index])
            if len(batch) < batch_size and not (row & seen):
                batch.append(index)
                seen |= row
            else:
                left_over.append(index)
        batches.append(batch)
        waiting = left_over
    return [batch for batch in batches if len(batch) == batch_size] if drop_last else batches


def group_by_label_batches(
    labels: Sequence[int], batch_size: int, *, seed: int = 0, per_class: int = 2, **_
) -> list[list[int]]:
    """Batches made of groups of ``per_class`` rows of the same class (at least two per class).

    Classes with fewer than two rows are left out (they can never give an anchor-positive pair);
    each class's rows are shuffled and cut into groups, groups are shuffled and packed into batches.
    A trailing group shorter than 2 is dropped. ``batch_size`` should be a multiple of ``per_class``, and at
    least two groups: a batch of one class holds no negative, so batch-triplet losses would learn nothing (0).
    """
    if per_class < 2:
        raise ValueError(f"per_class must be at least 2 so that every anchor has a positive, got {per_class}.")
    whole_number(batch_size, "batch_size")
    if batch_size < 2 * per_class:
        raise ValueError(
            f"batch_size must be at least {2 * per_class} (two classes of {per_class} rows) for group-by-label "
            f"batches, got {batch_size}: a batch of a single class has no negative, so batch-triplet losses are 0 "
            f"on it. Use batch_size >= {2 * per_class}, e.g. 16."
        )
    generator = random.Random(seed)
    members: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        members[int(label)].append(index)
    groups = []
    for label in sorted(members):
        rows = members[label]
        if len(rows) < 2:
            continue
        generator.shuffle(rows)
        for start in range(0, len(rows), per_class):
            group = rows[start : start + per_class]
            if len(group) >= 2:
                groups.append(group)
            elif groups and int(labels[groups[-1][0]]) == label:
                groups[-1].append(group[0])  # a lone leftover joins its class's previous group
    if not groups:
        raise ValueError("No class has two or more rows, so no batch can hold an anchor with a positive.")
    generator.shuffle(groups)
    batches, batch = [], []
    for group in groups:
        if batch and len(batch) + len(group) > batch_size:
            batches.append(batch)
            batch = []
        batch.extend(group)
    if batch:
        batches.append(batch)
    return batches


SAMPLERS = {
    "random": random_batches,
    "no-duplicates": no_duplicate_batches,
    "group-by-label": group_by_label_batches,
}
_IN_BATCH_NEGATIVE_FORMATS = {"pair", "triplet", "n-tuple"}


def choose_sampler(data_format_key: str) -> str:
    """The sampler a format needs: group-by-label for batch-triplet losses, no-duplicates for in-batch negatives."""
    if data_format_key == "sentence-class":
        return "group-by-label"
    uses_in_batch_negatives = data_format_key in _IN_BATCH_NEGATIVE_FORMATS or data_format_key == "sentences"
    return "no-duplicates" if uses_in_batch_negatives else "random"
