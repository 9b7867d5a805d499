"""Format converters: pure, seeded ``Dataset -> Dataset`` functions, each declaring what it reads and writes.

"Match your loss to your data format, and convert the format when that opens better losses."
``CONVERTERS`` lists them; ``reachable(format)`` follows them to every format they can reach.
"""

from lossbook.convert.labels import (
    binary_pairs_to_pairs,
    binary_pairs_to_triplets,
    deduplicate,
    pair_class_to_pairs,
    pair_class_to_triplets,
    scored_pairs_to_binary_pairs,
    scored_pairs_to_pairs,
    sentence_class_to_binary_pairs,
    sentence_class_to_pairs,
    sentence_class_to_triplets,
    triplets_to_binary_pairs,
    triplets_to_pairs,
    triplets_to_scored_pairs,
)
from lossbook.convert.registry import CONVERTERS, ConversionError, Converter, reachable
from lossbook.convert.unsupervised import add_deletion_noise, anchor_pairs_to_sentences, sentences_to_anchor_pairs
from lossbook.convert.with_model import (
    add_teacher_embeddings,
    add_teacher_margins,
    add_teacher_scores,
    mine_hard_negative_tuples,
    mine_hard_negatives,
)

__all__ = [
    "CONVERTERS",
    "ConversionError",
    "Converter",
    "add_deletion_noise",
    "anchor_pairs_to_sentences",
    "add_teacher_embeddings",
    "add_teacher_margins",
    "add_teacher_scores",
    "binary_pairs_to_pairs",
    "binary_pairs_to_triplets",
    "deduplicate",
    "mine_hard_negative_tuples",
    "mine_hard_negatives",
    "pair_class_to_pairs",
    "pair_class_to_triplets",
    "reachable",
    "scored_pairs_to_binary_pairs",
    "scored_pairs_to_pairs",
    "sentence_class_to_binary_pairs",
    "sentence_class_to_pairs",
    "sentence_class_to_triplets",
    "sentences_to_anchor_pairs",
    "triplets_to_binary_pairs",
    "triplets_to_pairs",
    "triplets_to_scored_pairs",
]
