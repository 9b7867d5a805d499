"""lossbook.teaching: the helpers the notebooks import instead of retyping them."""

from __future__ import annotations

import math

import pytest
import torch

from lossbook import losses
from lossbook.teaching import (
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
