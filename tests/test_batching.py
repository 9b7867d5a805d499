"""Length-sorted chunks: the cheapest split, and the same embeddings as padding each column."""

from __future__ import annotations

import itertools
import random

import datasets
import pytest
import torch

from lossbook.batching import TokenizedColumns, chunk_overhead_tokens, embed_columns_sorted, length_sorted_chunks


def _cost(lengths, chunks, overhead):
    return sum(overhead + (end - start) * lengths[end - 1] for start, end in chunks)


def _every_split(n):
    for cuts in itertools.product([False, True], repeat=n - 1):
        bounds = [0] + [i + 1 for i, cut in enumerate(cuts) if cut] + [n]
        yield list(zip(bounds, bounds[1:]))


@pytest.mark.parametrize("seed", range(12))
def test_chunks_are_the_cheapest_split(seed):
    rng = random.Random(seed)
    lengths = sorted(rng.randint(3, 20) for _ in range(rng.randint(1, 9)))  # repeats: runs of equal lengths
    overhead = rng.choice([0, 16, 128, 1000])
    chunks = length_sorted_chunks(lengths, overhead)
    assert chunks[0][0] == 0 and chunks[-1][1] == len(lengths)
    assert all(a[1] == b[0] and a[0] < a[1] for a, b in zip(chunks, chunks[1:]))
    brute_force = min(_cost(lengths, split, overhead) for split in _every_split(len(lengths)))
    assert _cost(lengths, chunks, overhead) == brute_force


def test_overhead_decides_between_one_pass_and_no_padding():
    lengths = [5, 5, 9, 9, 9, 40, 120]
    assert length_sorted_chunks(lengths, 10**6) == [(0, 7)]  # a pass costs more than any padding
    assert length_sorted_chunks(lengths, 0) == [(0, 2), (2, 5), (5, 6), (6, 7)]  # no pass is wasted on padding
    assert length_sorted_chunks([], 128) == []
    assert chunk_overhead_tokens(torch.device("cpu")) < chunk_overhead_tokens(torch.device("cuda"))


@pytest.mark.parametrize("overhead", [0, 128, 10**6])
def test_sorted_chunks_embed_like_padding_each_column(tiny, overhead):
    rng = random.Random(0)
    words = "the a cat dog sat on mat under tree near house river quickly slowly".split()
    columns_text = [[" ".join(rng.choices(words, k=rng.randint(1, 25))) for _ in range(7)] for _ in range(3)]
    tiny = tiny.double().eval()  # chunks pad to other widths than columns: float64 leaves no CPU-dependent rounding
    ids = [tiny.tokenizer(texts)["input_ids"] for texts in columns_text]
    with torch.no_grad():
        chunked = embed_columns_sorted(tiny, ids, tiny.tokenizer.pad_token_id, torch.device("cpu"), overhead)
        for texts, got in zip(columns_text, chunked):
            expected = tiny(tiny.tokenize(texts))["sentence_embedding"]
            torch.testing.assert_close(got, expected, atol=1e-12, rtol=0)


def _lines_run(function, *args):
    """``function(*args)`` and the number of its own lines Python ran: its work, counted, not timed."""
    import sys

    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if frame.f_code is not function.__code__:
            return None
        if event == "line":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        return function(*args), count
    finally:
        sys.settrace(None)


def test_a_big_batch_is_split_with_work_that_grows_with_its_distinct_lengths_not_its_rows():
    rng = random.Random(0)
    lengths = sorted(rng.randint(4, 128) for _ in range(4096))  # 2048 pairs: cuts only where the length changes
    chunks, work = _lines_run(length_sorted_chunks, lengths, 128)
    assert chunks[0][0] == 0 and chunks[-1][1] == 4096
    assert all(lengths[s - 1] != lengths[s] for s, _ in chunks[1:])
    # 125 distinct lengths: about 125^2 / 2 candidate cuts of 2 lines each; a search over the 4,096 rows would
    # run about 4096^2 / 2 = 8.4 million.
    assert work < 60_000
    _, same_length_work = _lines_run(length_sorted_chunks, [7] * 4096, 128)
    assert same_length_work < 50  # one distinct length: one chunk, whatever the rows


class _PerChunkLookup(torch.nn.Module):
    """The same model without ``token_vectors``: every chunk looks its tokens up on its own."""

    def __init__(self, model):
        super().__init__()
        self.inner = model

    def forward(self, features):
        return self.inner(features)


def test_one_lookup_per_step_gives_the_gradients_of_per_column_embedding(tiny):
    rng = random.Random(1)
    words = "the a cat dog sat on mat under tree near house river quickly slowly".split()
    columns_text = [[" ".join(rng.choices(words, k=rng.randint(1, 25))) for _ in range(6)] for _ in range(2)]
    tiny = tiny.double()
    ids = [tiny.tokenizer(texts)["input_ids"] for texts in columns_text]
    pad = tiny.tokenizer.pad_token_id

    def gradients(embed):
        tiny.zero_grad(set_to_none=True)
        first, second = embed()
        (first * second).sum().mul(3).add(first.pow(2).sum()).backward()
        return {name: p.grad.clone() for name, p in tiny.named_parameters() if p.grad is not None}

    tiny.eval()  # dropout off (the paths draw their masks in another order); gradients still flow
    lengths = sorted(len(row) for column in ids for row in column)
    assert len(length_sorted_chunks(lengths, 0)) > 1  # several chunks: the one lookup is shared out
    once = gradients(lambda: embed_columns_sorted(tiny, ids, pad, torch.device("cpu"), 0))
    per_chunk = gradients(lambda: embed_columns_sorted(_PerChunkLookup(tiny), ids, pad, torch.device("cpu"), 0))
    per_column = gradients(lambda: [tiny(tiny.tokenize(texts))["sentence_embedding"] for texts in columns_text])
    assert once.keys() == per_chunk.keys() == per_column.keys()
    assert "transformer.embeddings.word_embeddings.weight" in once
    for name in once:
        torch.testing.assert_close(once[name], per_chunk[name], atol=1e-12, rtol=0)
        torch.testing.assert_close(once[name], per_column[name], atol=1e-10, rtol=0)


class _CountingTokenizer:
    """A tokenizer that counts the texts it is asked to tokenize (everything else is the real one's)."""

    def __init__(self, tokenizer):
        self.tokenizer, self.texts = tokenizer, 0

    def __call__(self, texts, **kwargs):
        self.texts += len(texts)
        return self.tokenizer(texts, **kwargs)

    def __getattr__(self, name):
        return getattr(self.tokenizer, name)


def test_rows_are_tokenized_when_a_step_first_draws_them(tiny):
    data = datasets.Dataset.from_dict({"a": [f"text {i}" for i in range(100)], "b": [f"other {i}" for i in range(100)]})
    tiny.tokenizer = _CountingTokenizer(tiny.tokenizer)
    tokens = TokenizedColumns.build(tiny, data, ["a", "b"], None, 32)
    assert tiny.tokenizer.texts == 0 and len(tokens) == 100
    first = tokens.ids([3, 5, 3])
    assert tiny.tokenizer.texts == 4  # rows 3 and 5, two columns
    assert first[0][0] == first[0][2] == tiny.tokenizer.tokenizer("text 3")["input_ids"]
    tokens.ids([5, 7])
    assert tiny.tokenizer.texts == 6  # only row 7 is new


def test_a_brief_run_tokenizes_only_the_rows_it_trains_on(tiny):
    from lossbook import losses
    from lossbook.train import train

    data = datasets.Dataset.from_dict(
        {"anchor": [f"question {i}" for i in range(400)], "positive": [f"answer {i}" for i in range(400)]}
    )
    tiny.tokenizer = _CountingTokenizer(tiny.tokenizer)
    train(tiny, losses.MultipleNegativesRankingLoss(tiny), data, steps=3, batch_size=8, progress=False)
    assert tiny.tokenizer.texts == 3 * 8 * 2  # three batches of eight pairs, not 400 pairs
