"""Converters that make training pairs out of plain sentences, for the unsupervised losses."""

from __future__ import annotations

import datasets

from lossbook.convert.registry import ConversionError, converter, require_format, rng
from lossbook.validate import number, whole_number

__all__ = ["add_deletion_noise", "anchor_pairs_to_sentences", "delete_words", "sentences_to_anchor_pairs"]


def delete_words(text: str, ratio: float, random) -> str:
    """Delete each word with probability ``ratio``, keeping at least one (TSDAE's noise)."""
    words = text.split()
    if not words:
        return text
    kept = [word for word in words if random.random() >= ratio]
    return " ".join(kept) if kept else random.choice(words)


@converter("sentences", "damaged-original")
def add_deletion_noise(data, *, del_ratio: float = 0.6, seed: int = 0) -> datasets.Dataset:
    """Sentences -> (damaged, original) pairs: each word deleted with probability ``del_ratio`` (0.6, as TSDAE).

    One pair per sentence. Words are split on white space; at least one word is always kept.
    """
    number(del_ratio, "del_ratio", fix="The share of words deleted, in [0, 1), e.g. 0.6.")
    if not 0.0 <= del_ratio < 1.0:
        raise ConversionError(f"del_ratio must be in [0, 1), got {del_ratio}.")
    dataset, inputs, _ = require_format(data, "sentences", "add_deletion_noise")
    random = rng(seed)
    originals = list(dataset[inputs[0]])
    return datasets.Dataset.from_dict(
        {"damaged": [delete_words(text, del_ratio, random) for text in originals], "original": originals}
    )


@converter("sentences", "anchor-anchor")
def sentences_to_anchor_pairs(data, *, pos_neg_ratio: int = 8, seed: int = 0) -> datasets.Dataset:
    """Sentences -> (anchor, anchor) pairs for ContrastiveTensionLoss: 1 in ``pos_neg_ratio`` is (s, s).

    Every ``pos_neg_ratio``-th row pairs a sentence with itself (a positive); the others pair it with
    a random different sentence (a negative). ContrastiveTensionLoss reads the label from whether the
    two texts are identical. One row per sentence, in a shuffled order.
    """
    whole_number(pos_neg_ratio, "pos_neg_ratio", minimum=0)
    if pos_neg_ratio < 1:
        raise ConversionError(f"pos_neg_ratio must be >= 1, got {pos_neg_ratio}.")
    dataset, inputs, _ = require_format(data, "sentences", "sentences_to_anchor_pairs")
    sentences = list(dataset[inputs[0]])
    if len(set(sentences)) < 2:
        raise ConversionError("sentences_to_anchor_pairs needs at least two different sentences to form negatives.")
    random = rng(seed)
    order = list(range(len(sentences)))
    random.shuffle(order)
    first, second = [], []
    for position, index in enumerate(order):
        text = sentences[index]
        if position % pos_neg_ratio == 0:
            partner = text
        else:
            partner = text
            while partner == text:
                partner = sentences[random.randrange(len(sentences))]
        first.append(text)
        second.append(partner)
    return datasets.Dataset.from_dict({"anchor": first, "anchor_copy": second})


@converter("anchor-anchor", "sentences")
def anchor_pairs_to_sentences(data) -> datasets.Dataset:
    """(anchor, anchor) pairs -> single sentences: the distinct texts of the first column.

    Older sentence-transformers versions fed ContrastiveTensionLossInBatchNegatives (anchor, anchor)
    pairs; since 6.x it reads one column, which this gives back.
    """
    dataset, inputs, _ = require_format(data, "anchor-anchor", "anchor_pairs_to_sentences")
    return datasets.Dataset.from_dict({"sentence": list(dict.fromkeys(dataset[inputs[0]]))})
