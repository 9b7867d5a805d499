"""Every converter: declared output format detected, documented row counts, seeded, no self-negatives, bad input."""

from __future__ import annotations

import datasets
import pytest

from lossbook import convert
from lossbook.convert import CONVERTERS, ConversionError, reachable
from lossbook.detect import detect_format

NLI = datasets.Dataset.from_dict(
    {
        "premise": ["A man plays a guitar."] * 3 + ["A dog runs in a park."] * 3 + ["Two kids eat lunch."] * 2,
        "hypothesis": [
            "A man makes music.",
            "The man is a professional.",
            "The man is asleep.",
            "An animal is outside.",
            "The dog chases a ball.",
            "The dog sleeps indoors.",
            "Children are eating.",
            "The kids are at school.",
        ],
        "label": [0, 1, 2, 0, 1, 2, 0, 1],
    }
)
INTENTS = datasets.Dataset.from_dict(
    {
        "sentence": [
            "Where is my card?",
            "My card has not arrived.",
            "Card still not here.",
            "Reset my PIN.",
            "I forgot my PIN.",
            "Change my PIN please.",
            "What is the exchange rate?",
        ],
        "label": [0, 0, 0, 1, 1, 1, 2],
    }
)
SCORED = datasets.Dataset.from_dict(
    {
        "sentence1": [
            "A plane takes off.",
            "A man plays chess.",
            "A cat sleeps.",
            "Kids play football.",
            "A woman cooks.",
        ],
        "sentence2": [
            "An airplane departs.",
            "Two men play chess.",
            "A dog barks.",
            "The market is busy.",
            "A woman is cooking.",
        ],
        "score": [0.95, 0.6, 0.2, 0.0, 0.9],
    }
)
TRIPLETS = datasets.Dataset.from_dict(
    {
        "anchor": ["Who wrote Hamlet?", "Where is Paris?", "What do cats eat?"],
        "positive": ["Shakespeare wrote Hamlet.", "Paris is in France.", "Cats eat meat."],
        "negative": ["Hamlet is set in Denmark.", "Paris has many museums.", "Cats sleep a lot."],
    }
)
SENTENCES = datasets.Dataset.from_dict(
    {"sentence": [f"Sentence number {i} is about topic {i % 5} today." for i in range(40)]}
)


def _detected(dataset) -> str:
    return detect_format(dataset).format.key


def test_every_converter_is_declared_with_a_summary():
    assert len(CONVERTERS) >= 16
    for name, conv in CONVERTERS.items():
        assert conv.summary, name
        assert getattr(convert, name) is conv.function


def test_pair_class_to_triplets_groups_by_premise():
    out = convert.pair_class_to_triplets(NLI)
    assert _detected(out) == "triplet"
    assert len(out) == 2  # the two premises with both an entailment and a contradiction
    assert list(out["negative"]) == ["The man is asleep.", "The dog sleeps indoors."]
    assert all(a != n and p != n for a, p, n in zip(out["anchor"], out["positive"], out["negative"]))


def test_pair_class_to_pairs_keeps_the_positive_class():
    out = convert.pair_class_to_pairs(NLI)
    assert _detected(out) == "pair" and len(out) == 3


@pytest.mark.parametrize(
    "name", ["sentence_class_to_pairs", "sentence_class_to_triplets", "sentence_class_to_binary_pairs"]
)
def test_sentence_class_converters(name):
    function = getattr(convert, name)
    out = function(INTENTS, seed=1)
    assert _detected(out) == CONVERTERS[name].target.key
    label_of = dict(zip(INTENTS["sentence"], INTENTS["label"]))
    per_sentence = 6  # the singleton class (exchange rate) gives no positive
    assert len(out) == (2 * per_sentence if name.endswith("binary_pairs") else per_sentence)
    if name == "sentence_class_to_binary_pairs":
        for a, b, y in zip(out["sentence1"], out["sentence2"], out["label"]):
            assert a != b and (label_of[a] == label_of[b]) == (y == 1)
    else:
        for a, p in zip(out["anchor"], out["positive"]):
            assert a != p and label_of[a] == label_of[p]
        if "negative" in out.column_names:
            assert all(label_of[a] != label_of[n] for a, n in zip(out["anchor"], out["negative"]))
    assert function(INTENTS, seed=1)[:] == out[:], "same seed, same output"


def test_sentence_class_needs_two_classes():
    one_class = INTENTS.filter(lambda row: row["label"] == 0)
    with pytest.raises(ConversionError, match="at least two classes"):
        convert.sentence_class_to_triplets(one_class)


def test_scored_pairs_thresholds():
    binary = convert.scored_pairs_to_binary_pairs(SCORED)
    assert _detected(binary) == "pair-binary"
    assert list(binary["label"]) == [1, 0, 0, 1]  # 0.6 lies between the thresholds and is dropped
    pairs = convert.scored_pairs_to_pairs(SCORED, positive_threshold=0.9)
    assert _detected(pairs) == "pair" and len(pairs) == 2
    with pytest.raises(ConversionError, match="must not exceed"):
        convert.scored_pairs_to_binary_pairs(SCORED, positive_threshold=0.2, negative_threshold=0.5)


def test_triplet_converters_row_counts():
    assert len(convert.triplets_to_pairs(TRIPLETS)) == 3
    binary = convert.triplets_to_binary_pairs(TRIPLETS)
    assert _detected(binary) == "pair-binary" and len(binary) == 6 and sum(binary["label"]) == 3
    scored = convert.triplets_to_scored_pairs(TRIPLETS)
    detection = detect_format(scored)  # 1.0 / 0.0 scores also read as binary labels: both are offered
    assert "pair-score" in {detection.format.key, *(alt.key for alt in detection.alternatives)}
    assert len(scored) == 6


def test_deletion_noise_keeps_order_and_ratio():
    out = convert.add_deletion_noise(SENTENCES, seed=3)
    assert _detected(out) == "damaged-original" and len(out) == len(SENTENCES)
    kept = sum(len(d.split()) for d in out["damaged"]) / sum(len(o.split()) for o in out["original"])
    assert 0.25 < kept < 0.55  # about 40% of the words survive a deletion ratio of 0.6
    assert convert.add_deletion_noise(SENTENCES, seed=3)[:] == out[:]
    with pytest.raises(ConversionError, match="del_ratio"):
        convert.add_deletion_noise(SENTENCES, del_ratio=1.0)


def test_anchor_pairs_for_contrastive_tension():
    out = convert.sentences_to_anchor_pairs(SENTENCES, pos_neg_ratio=4)
    assert _detected(out) == "anchor-anchor" and len(out) == len(SENTENCES)
    identical = sum(a == b for a, b in zip(out["anchor"], out["anchor_copy"]))
    assert identical == 10  # every 4th of 40 rows


def test_deduplicate_removes_false_negatives():
    pairs = datasets.Dataset.from_dict({"anchor": ["q1", "q2", "q1", "q3"], "positive": ["p1", "p2", "p3", "p2"]})
    out = convert.deduplicate(pairs)
    assert list(out["anchor"]) == ["q1", "q2"]


@pytest.mark.parametrize(
    ("name", "data"),
    [("pair_class_to_triplets", SCORED), ("triplets_to_pairs", SENTENCES), ("add_deletion_noise", TRIPLETS)],
)
def test_wrong_format_in_names_the_path(name, data):
    with pytest.raises(ConversionError, match="reads"):
        getattr(convert, name)(data)


def test_empty_input_is_refused():
    with pytest.raises(ConversionError, match="empty"):
        convert.triplets_to_pairs(TRIPLETS.select([]))


def test_reachable_follows_the_graph():
    paths = reachable("pair-class")
    assert [c.name for c in paths["triplet"]] == ["pair_class_to_triplets"]
    assert "pair-binary" in paths and "n-tuple-teacher-scores" in paths
    assert "n-tuple-teacher-scores" not in reachable("pair-class", with_model=False)
    assert reachable("sentences")["damaged-original"][0].name == "add_deletion_noise"


def test_mining_and_teacher_labels_with_the_tiny_model(tiny):
    pairs = datasets.Dataset.from_dict(
        {
            "anchor": [f"question {i} about {w}" for i, w in enumerate("abcdefgh")],
            "positive": [f"answer {i} on {w}" for i, w in enumerate("abcdefgh")],
        }
    )
    mined = convert.mine_hard_negatives(pairs, tiny, range_max=5)
    assert _detected(mined) == "triplet" and len(mined) == 8
    assert all(p != n for p, n in zip(mined["positive"], mined["negative"]))
    tuples = convert.mine_hard_negative_tuples(pairs, tiny, num_negatives=3)
    assert _detected(tuples) == "n-tuple" and tuples.column_names[-1] == "negative_3"
    assert _detected(convert.add_teacher_margins(mined, tiny)) == "triplet-margin"
    assert _detected(convert.add_teacher_scores(tuples, tiny)) == "n-tuple-teacher-scores"
    embedded = convert.add_teacher_embeddings(SENTENCES.select(range(4)), tiny)
    assert _detected(embedded) == "sentence-teacher-embedding" and len(embedded[0]["label"]) == 64


def test_binary_pairs_to_pairs_and_triplets():
    binary = datasets.Dataset.from_dict(
        {"s1": ["q1", "q1", "q2", "q3"], "s2": ["yes1", "no1", "yes2", "no3"], "label": [1, 0, 1, 0]}
    )
    pairs = convert.binary_pairs_to_pairs(binary)
    assert _detected(pairs) == "pair" and list(pairs["positive"]) == ["yes1", "yes2"]
    triplets = convert.binary_pairs_to_triplets(binary)
    assert _detected(triplets) == "triplet" and triplets[:] == {
        "anchor": ["q1"],
        "positive": ["yes1"],
        "negative": ["no1"],
    }
