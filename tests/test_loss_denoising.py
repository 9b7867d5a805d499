"""DenoisingAutoEncoderLoss (TSDAE): the token loss by loops, weight tying, seeded parity with sentence-transformers."""

import copy
import math

import pytest
import torch
from batches import ANCHORS, NEGATIVES_1, assert_parity, make_features

from lossbook.losses.base import LossInputError
from lossbook.losses.denoising import DenoisingAutoEncoderLoss

DAMAGED = ["man playing guitar.", "man violin.", "woman slicing onion.", "cutting tomato."]


@pytest.fixture
def tiny_dae(tiny):
    torch.manual_seed(0)
    return DenoisingAutoEncoderLoss(tiny)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_reconstruction_loss_matches_loop_and_skips_padding(tiny_dae, dtype):
    pad = tiny_dae.tokenizer_decoder.pad_token_id
    generator = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 3, 5, generator=generator, dtype=dtype)
    targets = torch.tensor([[3, 1, pad], [2, pad, pad]])
    total, count = 0.0, 0
    for i in range(2):
        for t in range(3):
            if targets[i, t].item() == pad:
                continue
            row = logits[i, t].tolist()
            log_z = math.log(sum(math.exp(v) for v in row))
            total += log_z - row[targets[i, t].item()]
            count += 1
    value = tiny_dae.reconstruction_loss(logits, targets)
    assert value.dtype == dtype and value.item() == pytest.approx(total / count, abs=1e-6)


def test_decoder_shares_the_encoders_parameters(tiny):
    before = {name: p.detach().clone() for name, p in tiny.transformer.named_parameters()}
    loss = DenoisingAutoEncoderLoss(tiny)
    encoder, decoder = tiny.transformer, loss.decoder
    word_embeddings = encoder.embeddings.word_embeddings.weight
    assert decoder.bert.embeddings.word_embeddings.weight is word_embeddings
    assert decoder.get_output_embeddings().weight is word_embeddings  # the LM head follows the tie
    assert (
        decoder.bert.encoder.layer[0].attention.self.query.weight
        is encoder.encoder.layer[0].attention.self.query.weight
    )
    # The encoder keeps its own values and parameter objects.
    assert all(torch.equal(before[name], p) for name, p in tiny.transformer.named_parameters())
    # Decoder-only parameters (cross-attention, LM-head transform) exist, belong to the loss and are trained.
    encoder_ids = {id(p) for p in tiny.parameters()}
    decoder_only = [name for name, p in loss.named_parameters() if id(p) not in encoder_ids]
    assert any("crossattention" in name for name in decoder_only)
    assert any("cls.predictions.transform" in name for name in decoder_only)


def test_seeded_construction_is_reproducible(tiny):
    values = []
    for _ in range(2):
        torch.manual_seed(0)
        loss = DenoisingAutoEncoderLoss(tiny)
        values.append(loss(make_features(tiny, DAMAGED, ANCHORS)).item())
    assert values[0] == values[1]


def test_trains_the_tiny_model(tiny, tiny_dae):
    value = tiny_dae(make_features(tiny, DAMAGED, ANCHORS))
    value.backward()
    assert torch.isfinite(value)
    assert tiny.transformer.encoder.layer[0].attention.self.query.weight.grad.abs().sum() > 0
    cross = tiny_dae.decoder.bert.encoder.layer[0].crossattention.self
    assert cross.value.weight.grad.abs().sum() > 0
    # One key per sentence: the attention weight is softmax over one score = 1, so query and key never learn.
    assert cross.query.weight.grad.abs().sum() == 0 and cross.key.weight.grad.abs().sum() == 0


def test_untied_decoder_from_a_local_folder(tiny, tmp_path):
    tiny.save(tmp_path / "decoder")
    loss = DenoisingAutoEncoderLoss(tiny, decoder_name_or_path=str(tmp_path / "decoder"), tie_encoder_decoder=False)
    assert loss.decoder.bert.embeddings.word_embeddings.weight is not tiny.transformer.embeddings.word_embeddings.weight
    assert not loss.need_retokenization
    assert torch.isfinite(loss(make_features(tiny, DAMAGED, ANCHORS)))


def test_bad_input(tiny, tiny_dae, tmp_path):
    with pytest.raises(LossInputError, match="expects 2 input columns.*add_deletion_noise"):
        tiny_dae(make_features(tiny, ANCHORS))
    with pytest.raises(TypeError, match="needs the original sentence's token ids"):
        tiny_dae.compute_loss_from_embeddings([torch.randn(4, 64)], None)
    with pytest.raises(ValueError, match="Give decoder_name_or_path"):
        DenoisingAutoEncoderLoss(tiny, tie_encoder_decoder=False)
    with pytest.raises(ValueError, match="without downloading"):
        DenoisingAutoEncoderLoss(tiny, decoder_name_or_path=str(tmp_path / "missing"), tie_encoder_decoder=False)
    with pytest.raises(TypeError, match="transformers encoder"):
        DenoisingAutoEncoderLoss(torch.nn.Linear(2, 2))


@pytest.mark.slow
def test_parity_with_sentence_transformers(minilm, st_model):
    from sentence_transformers.sentence_transformer import losses as st_losses

    # Copies: sentence-transformers re-points the encoder's parameters at its decoder's.
    our_model, reference_model = copy.deepcopy(minilm), copy.deepcopy(st_model)
    torch.manual_seed(0)  # REFERENCE-LOSSES.md §6: seed right before construction
    ours = DenoisingAutoEncoderLoss(our_model)
    torch.manual_seed(0)
    reference = st_losses.DenoisingAutoEncoderLoss(reference_model)
    value = assert_parity(ours, reference, our_model, reference_model, [DAMAGED, ANCHORS], expected=11.26391792)
    assert ours.get_config_dict() == reference.get_config_dict() and ours.citation == reference.citation
    # The decoder-only weights came out of the same random stream, and get the same gradients.
    ours(make_features(our_model, DAMAGED, ANCHORS)).backward()
    reference(make_features(reference_model, DAMAGED, ANCHORS), None).backward()
    reference_parameters = dict(reference.decoder.named_parameters())
    compared = 0
    for name, parameter in ours.decoder.named_parameters():
        if "crossattention" in name or name.startswith("cls."):
            assert torch.equal(parameter, reference_parameters[name]), name
            assert (parameter.grad - reference_parameters[name].grad).abs().max().item() <= 1e-4, name
            compared += 1
    assert compared > 10
    # Negative control: other damaged inputs give another value.
    other = ours(make_features(our_model, NEGATIVES_1, ANCHORS))
    assert abs(other.item() - value) > 1e-3


@pytest.mark.slow
def test_runs_on_a_sentence_transformer(st_model):
    from sentence_transformers.sentence_transformer import losses as st_losses

    model = copy.deepcopy(st_model)
    torch.manual_seed(0)
    ours = DenoisingAutoEncoderLoss(model)(make_features(model, DAMAGED, ANCHORS))
    reference_model = copy.deepcopy(st_model)
    torch.manual_seed(0)
    reference = st_losses.DenoisingAutoEncoderLoss(reference_model)(
        make_features(reference_model, DAMAGED, ANCHORS), None
    )
    assert ours.item() == pytest.approx(reference.item(), abs=1e-5)
