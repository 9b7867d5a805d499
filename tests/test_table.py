"""The loss table: built from the losses' declarations, contains the seed table, conversions open losses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lossbook import losses
from lossbook.formats import FORMATS
from lossbook.table import LossOption, all_losses, losses_for, modifiers, regularizers, render_table

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "loss_overview.txt"
# The seed table's rows as (inputs, labels, loss), written out so the test runs without ../shared too.
SEED_ROWS = [
    ("single sentences", "class", "BatchAllTripletLoss"),
    ("single sentences", "none", "ContrastiveTensionLoss"),
    ("(anchor, anchor) pairs", "none", "ContrastiveTensionLossInBatchNegatives"),
    ("(damaged_sentence, original_sentence) pairs", "none", "DenoisingAutoEncoderLoss"),
    ("(sentence_A, sentence_B) pairs", "class", "SoftmaxLoss"),
    ("(anchor, positive) pairs", "none", "CachedMultipleNegativesRankingLoss"),
    ("(anchor, positive/negative) pairs", "1 if positive, 0 if negative", "ContrastiveLoss"),
    ("(sentence_A, sentence_B) pairs", "float similarity score", "CoSENTLoss"),
    ("(anchor, positive, negative) triplets", "none", "CachedMultipleNegativesRankingLoss"),
    ("any", "any", "MatryoshkaLoss"),
    ("sentence", "model sentence embeddings", "MSELoss"),
    ("sentence_1, sentence_2, ..., sentence_N", "model sentence embeddings", "MSELoss"),
    (
        "(query, passage_one, passage_two) triplets",
        "gold_sim(query, passage_one) - gold_sim(query, passage_two)",
        "MarginMSELoss",
    ),
]
# The docs table swaps the two Contrastive Tension losses; the code (followed here) reaches them by one conversion.
DOCS_SWAP = {"ContrastiveTensionLoss", "ContrastiveTensionLossInBatchNegatives"}


@pytest.mark.skipif(not SEED.is_file(), reason="no seed table beside the repository")
def test_seed_rows_above_are_the_seed_file():
    text = SEED.read_text()
    for inputs, labels, loss in SEED_ROWS:
        assert f"{inputs} {labels} {loss}" in text, (inputs, labels, loss)


def test_all_29_losses_are_in_the_table():
    assert len(losses.LOSS_NAMES) == 29
    assert {cls.__name__ for cls in all_losses()} == set(losses.LOSS_NAMES)
    table = render_table()
    for name in losses.LOSS_NAMES:
        assert name in table, name


@pytest.mark.parametrize(("inputs", "labels", "loss"), SEED_ROWS)
def test_rendered_table_contains_every_seed_pair(inputs, labels, loss):
    markdown = render_table(with_conversions=True)
    rows = [line for line in markdown.splitlines() if line.startswith(f"| {inputs} | {labels} |")]
    assert rows, f"no row for {inputs} / {labels}"
    if loss in DOCS_SWAP:
        assert any(re.search(rf"\b{loss} \(after ", row) for row in rows), rows
        assert "other way round" in markdown
    else:
        assert any(re.search(rf"\*\*{loss}\*\*|\b{loss}\b", row.split(" | ")[2]) for row in rows), rows


def test_losses_for_puts_commonly_used_first():
    pair_score = losses_for("pair-score")
    assert pair_score[0] is losses.CoSENTLoss
    assert set(pair_score) == {losses.CoSENTLoss, losses.AnglELoss, losses.CosineSimilarityLoss}
    pairs = losses_for(FORMATS["pair"])
    assert pairs[:2] == [losses.MultipleNegativesRankingLoss, losses.CachedMultipleNegativesRankingLoss]
    assert losses.TripletLoss not in pairs


def test_every_loss_is_listed_for_exactly_its_declared_formats():
    for cls in all_losses():
        for fmt in FORMATS.values():
            if fmt.key != "any":
                assert (cls in losses_for(fmt)) == (fmt in cls.formats), (cls.__name__, fmt.key)


def test_conversion_opens_losses_with_the_converter_named():
    options = losses_for("pair-class", via_conversion=True)
    assert all(isinstance(option, LossOption) for option in options)
    assert options[0].direct and options[0].loss is losses.SoftmaxLoss
    by_loss = {option.loss: option for option in options}
    mnrl = by_loss[losses.MultipleNegativesRankingLoss]
    assert [conv.name for conv in mnrl.converters] in (["pair_class_to_pairs"], ["pair_class_to_triplets"])
    assert [conv.name for conv in by_loss[losses.TripletLoss].converters] == ["pair_class_to_triplets"]
    assert "after" in str(by_loss[losses.TripletLoss])


def test_without_a_model_no_mining_or_teacher_conversions():
    options = losses_for("pair", via_conversion=True, with_model=False)
    assert not any(conv.needs_model for option in options for conv in option.converters)
    assert losses.MarginMSELoss not in {option.loss for option in options}
    with_model = {option.loss for option in losses_for("pair", via_conversion=True)}
    assert losses.TripletLoss in with_model and losses.MarginMSELoss in with_model


def test_modifiers_and_regularizers():
    assert set(modifiers()) == {losses.MatryoshkaLoss, losses.AdaptiveLayerLoss, losses.Matryoshka2dLoss}
    assert regularizers() == [losses.GlobalOrthogonalRegularizationLoss]


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="Known formats"):
        losses_for("pairs-of-things")


def test_plain_text_rendering_marks_common_losses():
    text = render_table(markdown=False)
    assert "CoSENTLoss*" in text and "|" not in text.splitlines()[1]


def test_losses_for_takes_a_format_its_key_a_detection_or_the_data():
    from lossbook.detect import detect_format
    from lossbook.formats import FORMATS
    from lossbook.table import losses_for

    pairs = {"sentence1": ["a", "b", "c"], "sentence2": ["d", "e", "f"], "score": [0.1, 0.5, 0.9]}
    expected = losses_for(FORMATS["pair-score"])
    assert losses_for("pair-score") == expected
    assert losses_for(detect_format(pairs)) == expected  # the first thing a user types
    assert losses_for(pairs) == expected
    import datasets

    assert losses_for(datasets.Dataset.from_dict(pairs)) == expected
    with pytest.raises(ValueError, match="Unknown format 'pair-scores'. Did you mean 'pair-score'"):
        losses_for("pair-scores")
    with pytest.raises(TypeError, match="Expected a data format"):
        losses_for(42)


# -- conversion_for: the one place that decides the converter chain from a format to a loss ----------------
def test_conversion_for_says_direct_chain_or_none():
    from lossbook.table import conversion_for

    direct = conversion_for("pair-score", losses.CoSENTLoss)
    assert direct.direct and direct.converters == [] and direct.recipe == ""
    option = conversion_for("pair-class", losses.TripletLoss)
    assert [conv.name for conv in option.converters] == ["pair_class_to_triplets"]
    assert option.format == FORMATS["triplet"]
    assert option.recipe == "lossbook.convert.pair_class_to_triplets"
    assert conversion_for("pair", losses.MarginMSELoss, with_model=False) is None  # its labels need a teacher
    assert conversion_for("pair", losses.MatryoshkaLoss).direct  # a modifier takes any format


def test_conversion_for_agrees_with_the_table_for_every_format_and_loss():
    from lossbook.table import conversion_for

    for fmt in FORMATS.values():
        for option in losses_for(fmt, via_conversion=True):
            same = conversion_for(fmt, option.loss)
            assert (same.format, same.converters) == (option.format, option.converters), (fmt.key, option)


def test_conversion_for_takes_a_loss_instance_and_the_data(tiny):
    from lossbook.table import conversion_for

    sentences = {"sentence": ["a cat sleeps", "a dog barks", "the sun is hot"]}
    option = conversion_for(sentences, losses.ContrastiveTensionLoss(tiny))
    assert option.loss is losses.ContrastiveTensionLoss and option.format == FORMATS["anchor-anchor"]
    assert option.recipe == "lossbook.convert.sentences_to_anchor_pairs"


def test_wraps_a_loss_is_true_for_the_modifiers_only():
    from lossbook.table import all_losses, wraps_a_loss

    assert {cls for cls in all_losses() if wraps_a_loss(cls)} == set(modifiers())


# -- loss_card: a loss's summary, formula, inputs and reference, from its docstring -------------------------
def test_loss_card_reads_the_sections_of_every_loss():
    from lossbook.table import loss_card

    for cls in all_losses():
        card = loss_card(cls)
        assert card.name == cls.__name__ and card.summary and card.inputs and card.reference, card
    cosent = loss_card(losses.CoSENTLoss)
    assert cosent.summary.startswith("Rank the pairs of a batch like their gold scores")
    assert cosent.formula.startswith("L = \\log\\Big(1 +") and "\n" not in cosent.formula
    assert cosent.inputs.startswith("(sentence_A, sentence_B) pairs + a float similarity score")
    assert cosent.reference.startswith("Huang et al.")


def test_loss_card_of_a_docstring_written_by_hand():
    from lossbook.table import loss_card

    class HandWritten:
        """A made-up loss
        over two lines.

        .. math:: L = 0

        Inputs:
            pairs of texts,
            no labels.

        Notes:
            Inputs: this line is inside Notes, not a section of its own.

        Reference:
            Nobody, 2024.
        """

    card = loss_card(HandWritten)
    assert card.summary == "A made-up loss over two lines."
    assert card.formula == "L = 0"
    assert card.inputs == "pairs of texts, no labels."
    assert card.reference == "Nobody, 2024."

    class Bare:
        pass

    assert loss_card(Bare).summary == loss_card(Bare).formula == loss_card(Bare).reference == ""
