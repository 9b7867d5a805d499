"""The data formats of the loss table, as values.

A ``Format`` is one row of sentence-transformers' loss overview: what the input columns are and what
the label is. Column roles follow sentence-transformers: a column named ``label``, ``labels``,
``score`` or ``scores`` is the label; every other column is an input, in order (names don't matter).

Every loss declares the formats it accepts (``Loss.formats``); the loss table is built from those
declarations, so the table and the losses never disagree.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import Enum

__all__ = ["FORMATS", "Format", "LabelKind", "LABEL_COLUMNS", "format_by_key"]

# The collator of sentence-transformers takes the first of these as the label column.
LABEL_COLUMNS = ("label", "labels", "score", "scores")


class LabelKind(str, Enum):
    """What the label column holds."""

    NONE = "none"
    CLASS = "class id (int 0..K-1)"
    BINARY = "1 if positive, 0 if negative"
    SCORE = "float similarity score"
    TEACHER_EMBEDDING = "teacher model's sentence embeddings"
    MARGIN = "gold_sim(query, passage_one) - gold_sim(query, passage_two)"
    TEACHER_SCORES = "teacher scores for each (query, passage)"
    ANY = "any"


@dataclass(frozen=True)
class Format:
    """One data format: input columns, label kind, a description and a tiny example.

    ``inputs`` names the role of each input column; ``variadic`` means the last role may repeat
    (``negative_1 ... negative_n``, ``sentence_1 ... sentence_N``).
    """

    key: str
    inputs: tuple[str, ...]
    label: LabelKind
    title: str
    description: str
    example: dict
    variadic: bool = False

    @property
    def inputs_text(self) -> str:
        """The "Inputs" cell of the loss table (e.g. ``(anchor, positive) pairs``)."""
        return _TABLE_CELLS[self.key][0]

    @property
    def labels_text(self) -> str:
        """The "Labels" cell of the loss table (e.g. ``none``, ``float similarity score``)."""
        return _TABLE_CELLS[self.key][1]

    @property
    def min_columns(self) -> int:
        return len(self.inputs)

    @property
    def max_columns(self) -> int | None:
        return None if self.variadic else len(self.inputs)

    def accepts_column_count(self, n: int) -> bool:
        return n >= self.min_columns and (self.max_columns is None or n <= self.max_columns)

    def __str__(self) -> str:
        return self.title


_FORMAT_LIST = [
    Format(
        "sentence-class",
        ("sentence",),
        LabelKind.CLASS,
        "single sentences + class",
        "One text per row and its class; batch-triplet losses build the triplets inside each batch.",
        {"sentence": "How do I reset my PIN?", "label": 3},
    ),
    Format(
        "sentences",
        ("sentence",),
        LabelKind.NONE,
        "single sentences",
        "Plain texts without labels, for unsupervised learning.",
        {"sentence": "A man is playing a guitar."},
    ),
    Format(
        "anchor-anchor",
        ("anchor", "anchor"),
        LabelKind.NONE,
        "(anchor, anchor) pairs",
        "The same text twice (and some random pairs): two encoders learn to agree on identical texts.",
        {"anchor": "A man is playing a guitar.", "anchor_2": "A man is playing a guitar."},
    ),
    Format(
        "damaged-original",
        ("damaged_sentence", "original_sentence"),
        LabelKind.NONE,
        "(damaged_sentence, original_sentence) pairs",
        "A corrupted text (words deleted) and the original it must be reconstructed into.",
        {"damaged_sentence": "man playing guitar.", "original_sentence": "A man is playing a guitar."},
    ),
    Format(
        "pair-class",
        ("sentence_A", "sentence_B"),
        LabelKind.CLASS,
        "(sentence_A, sentence_B) pairs + class",
        "Two texts and the class of their relation, e.g. NLI's entailment / neutral / contradiction.",
        {"premise": "A man plays a guitar.", "hypothesis": "A man makes music.", "label": 0},
    ),
    Format(
        "pair",
        ("anchor", "positive"),
        LabelKind.NONE,
        "(anchor, positive) pairs",
        "Texts that belong together (question and answer, paraphrases); other rows act as negatives.",
        {"anchor": "Who wrote Hamlet?", "positive": "Hamlet is a tragedy by William Shakespeare."},
    ),
    Format(
        "pair-binary",
        ("anchor", "positive/negative"),
        LabelKind.BINARY,
        "(anchor, positive/negative) pairs + 1 if positive, 0 if negative",
        "Two texts and whether they match (1) or not (0).",
        {"sentence1": "The cat chased the dog.", "sentence2": "The dog chased the cat.", "label": 0},
    ),
    Format(
        "pair-score",
        ("sentence_A", "sentence_B"),
        LabelKind.SCORE,
        "(sentence_A, sentence_B) pairs + float similarity score",
        "Two texts and how similar they are, usually scaled to 0..1.",
        {"sentence1": "A plane is taking off.", "sentence2": "An air plane is taking off.", "score": 1.0},
    ),
    Format(
        "triplet",
        ("anchor", "positive", "negative"),
        LabelKind.NONE,
        "(anchor, positive, negative) triplets",
        "A text, one that matches it and a hard one that does not.",
        {
            "anchor": "Who wrote Hamlet?",
            "positive": "Shakespeare wrote Hamlet.",
            "negative": "Hamlet is set in Denmark.",
        },
    ),
    Format(
        "n-tuple",
        ("anchor", "positive", "negative"),
        LabelKind.NONE,
        "(anchor, positive, negative_1, ..., negative_n) tuples",
        "A text, one that matches it and several hard negatives (from hard-negative mining).",
        {
            "anchor": "Who wrote Hamlet?",
            "positive": "Shakespeare wrote Hamlet.",
            "negative_1": "Hamlet is set in Denmark.",
            "negative_2": "Marlowe wrote Doctor Faustus.",
        },
        variadic=True,
    ),
    Format(
        "sentence-teacher-embedding",
        ("sentence",),
        LabelKind.TEACHER_EMBEDDING,
        "sentence + teacher embeddings",
        "Texts and a teacher model's embedding of each, for distillation into the student.",
        {"sentence": "A man is playing a guitar.", "label": [0.12, -0.03, "..."]},
    ),
    Format(
        "sentences-teacher-embedding",
        ("sentence_1", "sentence_2"),
        LabelKind.TEACHER_EMBEDDING,
        "sentence_1, sentence_2, ..., sentence_N + teacher embeddings",
        "Several texts (e.g. a sentence and its translations) and the teacher's embedding they should all match.",
        {"english": "Hello world.", "german": "Hallo Welt.", "label": [0.12, -0.03, "..."]},
        variadic=True,
    ),
    Format(
        "triplet-margin",
        ("query", "passage_one", "passage_two"),
        LabelKind.MARGIN,
        "(query, passage_one, passage_two) triplets + margin",
        "A query, two passages and how much more similar to the first a teacher finds it.",
        {
            "query": "Who wrote Hamlet?",
            "passage_one": "Shakespeare wrote Hamlet.",
            "passage_two": "Hamlet is set in Denmark.",
            "label": 0.42,
        },
        variadic=True,
    ),
    Format(
        "n-tuple-teacher-scores",
        ("query", "positive", "negative"),
        LabelKind.TEACHER_SCORES,
        "(query, positive, negative_1, ..., negative_n) + teacher scores",
        "A query, candidate passages and a teacher's score for each, whose distribution the student imitates.",
        {
            "query": "Who wrote Hamlet?",
            "positive": "Shakespeare wrote Hamlet.",
            "negative_1": "Hamlet is set in Denmark.",
            "label": [9.1, 2.3],
        },
        variadic=True,
    ),
    Format(
        "any",
        (),
        LabelKind.ANY,
        "any columns, any labels",
        "Loss modifiers and regularisers work on top of any data format.",
        {},
        variadic=True,
    ),
]

FORMATS: dict[str, Format] = {fmt.key: fmt for fmt in _FORMAT_LIST}

# The two cells of each row as sentence-transformers' loss overview writes them.
_TABLE_CELLS = {
    "sentence-class": ("single sentences", "class"),
    "sentences": ("single sentences", "none"),
    "anchor-anchor": ("(anchor, anchor) pairs", "none"),
    "damaged-original": ("(damaged_sentence, original_sentence) pairs", "none"),
    "pair-class": ("(sentence_A, sentence_B) pairs", "class"),
    "pair": ("(anchor, positive) pairs", "none"),
    "pair-binary": ("(anchor, positive/negative) pairs", "1 if positive, 0 if negative"),
    "pair-score": ("(sentence_A, sentence_B) pairs", "float similarity score"),
    "triplet": ("(anchor, positive, negative) triplets", "none"),
    "n-tuple": ("(anchor, positive, negative_1, ..., negative_n)", "none"),
    "sentence-teacher-embedding": ("sentence", "model sentence embeddings"),
    "sentences-teacher-embedding": ("sentence_1, sentence_2, ..., sentence_N", "model sentence embeddings"),
    "triplet-margin": (
        "(query, passage_one, passage_two) triplets",
        "gold_sim(query, passage_one) - gold_sim(query, passage_two)",
    ),
    "n-tuple-teacher-scores": (
        "(query, positive, negative_1, ..., negative_n)",
        "[gold_sim(query, positive), gold_sim(query, negative_i)...]",
    ),
    "any": ("any", "any"),
}


def format_by_key(key: str) -> Format:
    """Look up a Format by its key (e.g. ``"pair-score"``)."""
    if key not in FORMATS:
        close = difflib.get_close_matches(key, list(FORMATS), n=1) if isinstance(key, str) else []
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"Unknown format {key!r}.{hint} Known formats: {', '.join(FORMATS)}.")
    return FORMATS[key]
