"""Batch samplers: every row once per epoch, no duplicate text in a batch, >= 2 rows per class, seeded."""

import pytest

from lossbook.samplers import choose_sampler, group_by_label_batches, no_duplicate_batches, random_batches


def test_random_batches_cover_every_row_once():
    batches = random_batches(23, 5, seed=1)
    assert sorted(i for b in batches for i in b) == list(range(23))
    assert random_batches(23, 5, seed=1) == batches != random_batches(23, 5, seed=2)
    assert all(len(b) == 5 for b in random_batches(23, 5, seed=1, drop_last=True))


def test_no_duplicate_batches_never_repeat_a_text_in_a_batch():
    texts = [(f"q{i % 7}", f"p{i % 5}") for i in range(40)]  # many repeats on purpose
    batches = no_duplicate_batches(texts, 4, seed=0)
    assert sorted(i for b in batches for i in b) == list(range(40)), "every row is used once"
    for batch in batches:
        seen = [text for row in batch for text in texts[row]]
        assert len(seen) == len(set(seen)), batch
    assert no_duplicate_batches(texts, 4, seed=0) == batches


def test_group_by_label_gives_each_class_at_least_two_rows():
    labels = [0] * 5 + [1] * 4 + [2] * 3 + [3] * 1  # class 3 has a single row
    batches = group_by_label_batches(labels, 6, seed=0)
    used = [i for b in batches for i in b]
    assert 12 not in used and sorted(used) == list(range(12)), "the singleton is left out, the rest used once"
    for batch in batches:
        counts = {}
        for row in batch:
            counts[labels[row]] = counts.get(labels[row], 0) + 1
        assert min(counts.values()) >= 2, batch


def test_group_by_label_refuses_all_singletons():
    with pytest.raises(ValueError, match="two or more rows"):
        group_by_label_batches([0, 1, 2], 4)


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("sentence-class", "group-by-label"),
        ("pair", "no-duplicates"),
        ("triplet", "no-duplicates"),
        ("pair-score", "random"),
    ],
)
def test_choose_sampler(fmt, expected):
    assert choose_sampler(fmt) == expected
