"""lossbook.teaching: the helpers the notebooks import instead of retyping them."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from lossbook import losses
from lossbook.teaching import (
    Reference,
    RememberingEncoder,
    parity,
    pooled_outputs,
    truncated_copy,
    unit,
    unit_with_cosine,
)

TEXTS = ["A man plays a guitar.", "Someone is strumming a guitar on a stage tonight.", "A cat sleeps.", "Rain."]


def test_unit_vectors_lie_at_their_angle_and_length():
    assert unit(0) == [1.0, 0.0]
    x, y = unit(120, length=2.0)
    assert math.hypot(x, y) == pytest.approx(2.0) and math.degrees(math.atan2(y, x)) == pytest.approx(120)
    x, y = unit_with_cosine(0.6)
    assert (x, y) == pytest.approx((0.6, 0.8)) and y > 0
    with pytest.raises(ValueError, match=r"cosine lies in \[-1, 1\]"):
        unit_with_cosine(1.5)


def test_pooled_outputs_are_what_the_head_finishes_into_embeddings(tiny):
    tiny = tiny.double()
    pooled = pooled_outputs(tiny, TEXTS, batch_size=3)  # two batches of different widths
    assert pooled.shape == (4, tiny.transformer.config.hidden_size)
    torch.testing.assert_close(
        tiny.finish(pooled).float(), tiny.encode(TEXTS), atol=1e-7, rtol=0
    )  # encode gives float32
    layers = pooled_outputs(tiny, TEXTS, all_layers=True)
    assert layers.shape == (tiny.num_layers, 4, tiny.transformer.config.hidden_size)
    torch.testing.assert_close(layers[-1], pooled, atol=1e-12, rtol=0)
    with pytest.raises(ValueError, match="at least one text"):
        pooled_outputs(tiny, [])


def test_truncated_copy_keeps_the_first_layers_and_leaves_the_model_alone(tiny):
    student = truncated_copy(tiny, 1, name="student")
    assert len(student.transformer.encoder.layer) == 1 and student.transformer.config.num_hidden_layers == 1
    assert len(tiny.transformer.encoder.layer) == 2 and student.name == "student"
    assert student.encode(TEXTS).shape == tiny.encode(TEXTS).shape
    with pytest.raises(ValueError, match="between 1 and the model's 2 layers"):
        truncated_copy(tiny, 3)


def test_remembering_encoder_encodes_each_distinct_text_once(tiny):
    calls = []
    original = tiny.encode
    tiny.encode = lambda texts, **options: calls.append(list(texts)) or original(texts, **options)
    remembering = RememberingEncoder(tiny)
    first = remembering.encode(TEXTS[:3])
    again = remembering.encode([TEXTS[2], TEXTS[3], TEXTS[0], TEXTS[2]])
    assert calls == [TEXTS[:3], [TEXTS[3]]]
    torch.testing.assert_close(again[0], first[2]) and torch.testing.assert_close(again[2], first[0])
    assert remembering.embedding_dim == tiny.embedding_dim  # everything else is the model's


@pytest.mark.slow
def test_parity_agrees_with_sentence_transformers_and_catches_a_difference(minilm):
    from lossbook.teaching import sentence_transformers_reference

    st_model, st_losses = sentence_transformers_reference(minilm)  # the reference on the same weights
    torch.testing.assert_close(
        st_model.encode(TEXTS, convert_to_tensor=True).cpu(), minilm.encode(TEXTS), atol=1e-5, rtol=0
    )
    columns = [TEXTS, list(reversed(TEXTS))]
    ours = losses.MultipleNegativesRankingLoss(minilm)
    difference = parity(
        ours, st_losses.MultipleNegativesRankingLoss(st_model), columns, model=minilm, reference_model=st_model
    )
    assert difference < 1e-5
    with pytest.raises(AssertionError, match="differ by"):  # the negative control: another scale is another loss
        parity(
            ours,
            st_losses.MultipleNegativesRankingLoss(st_model, scale=10.0),
            columns,
            model=minilm,
            reference_model=st_model,
        )
    reference = sentence_transformers_reference(minilm)
    assert isinstance(reference, Reference) and reference.model is not st_model  # a fresh SentenceTransformer
    scores = torch.tensor([0.9, 0.1, 0.5, 0.3])
    assert parity(lambda losses_module, m: losses_module.CoSENTLoss(m), reference, columns, scores, model=minilm) < 1e-5


def mnrl(losses_module, model):
    return losses_module.MultipleNegativesRankingLoss(model)


def test_parity_checks_lossbook_against_a_hand_computation_on_embeddings(capsys):
    anchors, positives = torch.tensor([unit(0), unit(90)]), torch.tensor([unit(30), unit(100)])
    logits = [[20 * math.cos(math.radians(p - a)) for p in (30, 100)] for a in (0, 90)]
    hand = sum(math.log(sum(math.exp(z) for z in row)) - row[i] for i, row in enumerate(logits)) / 2
    loss = losses.MultipleNegativesRankingLoss(model=None)  # the maths alone never calls the model
    assert parity(loss, None, [anchors, positives], hand=hand, what="2-D") < 1e-6
    assert capsys.readouterr().out.startswith(f"2-D: lossbook {hand:.6f} | by hand {hand:.6f} | |Δ| = ")
    with pytest.raises(AssertionError, match=r"2-D: lossbook .* and by hand .* differ by"):
        parity(loss, None, [anchors, positives], hand=hand + 1e-3, what="2-D")
    assert math.isnan(parity(loss, None, [anchors, positives]))  # nothing to compare with: the value is printed only
    value = float(loss.compute_loss_from_embeddings([anchors, positives]))
    assert capsys.readouterr().out.splitlines()[-1] == f"MultipleNegativesRankingLoss, 2 rows: lossbook {value:.6f}"


def test_parity_builds_both_losses_from_one_function_and_catches_another_model(tiny):
    built_with = []

    def build(losses_module, model):
        built_with.append((losses_module, model))
        return losses_module.CoSENTLoss(model)

    twin = copy.deepcopy(tiny)  # a Reference on lossbook itself: a model without `preprocess` tokenizes with `tokenize`
    columns, scores = [TEXTS, list(reversed(TEXTS))], torch.tensor([0.9, 0.1, 0.5, 0.3])
    assert parity(build, Reference(twin, losses), columns, scores, model=tiny) < 1e-6
    assert built_with == [(losses, tiny), (losses, twin)]
    with torch.no_grad():
        twin.transformer.embeddings.word_embeddings.weight.mul_(1.5)  # another model: another value
    with pytest.raises(AssertionError, match="sentence-transformers .* differ by"):
        parity(build, Reference(twin, losses), columns, scores, model=tiny)
    assert math.isnan(parity(build, None, columns, scores, model=tiny))  # not installed: lossbook's value alone


def test_parity_sums_named_terms_and_tokenizes_with_the_model_the_reference_holds(tiny, capsys):
    gor = losses.GlobalOrthogonalRegularizationLoss(tiny)
    with torch.no_grad():
        terms = gor([tiny.tokenize(TEXTS[:2]), tiny.tokenize(TEXTS[2:])], None)
    assert isinstance(terms, dict) and len(terms) == 2
    twin, tokenized_by_twin = copy.deepcopy(tiny), []
    original = twin.tokenize
    twin.tokenize = lambda texts: tokenized_by_twin.append(list(texts)) or original(texts)
    parity(gor, losses.GlobalOrthogonalRegularizationLoss(twin), [TEXTS[:2], TEXTS[2:]], model=tiny)
    assert f"lossbook {float(sum(terms.values())):.6f}" in capsys.readouterr().out  # GOR's two terms, summed
    assert tokenized_by_twin == [TEXTS[:2], TEXTS[2:]]  # reference_model defaults to the reference loss's model


def test_parity_refuses_mixed_up_arguments(tiny):
    loss = losses.MultipleNegativesRankingLoss(tiny)
    with pytest.raises(TypeError, match="build"):
        parity(loss, Reference(tiny, losses), [TEXTS, TEXTS], model=tiny)
    with pytest.raises(TypeError, match="sentence_transformers_reference"):
        parity(mnrl, loss, [TEXTS, TEXTS], model=tiny)
    with pytest.raises(ValueError, match="model="):
        parity(loss, None, [TEXTS, TEXTS])  # texts need a model to tokenize them


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="reads /proc and glibc's malloc_trim")
def test_release_memory_hands_freed_blocks_back_to_the_system():
    from lossbook.teaching import release_memory

    def resident_mb() -> float:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * 4096 / 2**20

    release_memory()
    before = resident_mb()
    blocks = [torch.ones(256) for _ in range(200_000)]  # ~200 MB of small blocks from the C heap, not mmap
    grown = resident_mb()
    assert grown - before > 100
    del blocks
    release_memory()
    assert resident_mb() - before < 0.5 * (grown - before)
