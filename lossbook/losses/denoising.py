"""TSDAE: a decoder rebuilds the original sentence from the embedding of a damaged copy of it."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable
from contextlib import contextmanager
from typing import Any

from torch import Tensor, nn
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, PreTrainedModel
from transformers.utils import logging as hf_logging

from lossbook.formats import FORMATS
from lossbook.losses.base import EmbeddingLoss, EmbeddingPath

__all__ = ["DenoisingAutoEncoderLoss"]

logger = logging.getLogger(__name__)


def _encoder_of(model: nn.Module) -> PreTrainedModel:
    """The transformers encoder inside a lossbook ``EmbeddingModel`` or a ``SentenceTransformer``."""
    encoder = getattr(model, "transformer", None)
    if not isinstance(encoder, PreTrainedModel):
        encoder = getattr(model, "transformers_model", None)
    if not isinstance(encoder, PreTrainedModel):
        raise TypeError(
            f"DenoisingAutoEncoderLoss needs a model built on a transformers encoder (e.g. BERT); got "
            f"{type(model).__name__}, which has none (static embeddings cannot feed a decoder)."
        )
    return encoder


@contextmanager
def _quiet_loading():
    """transformers reports the decoder-only weights it initialises; they are expected here."""
    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def _decoder_config(config):
    config = copy.deepcopy(config)
    config.is_decoder = True
    config.add_cross_attention = True
    return config


def _build_decoder(encoder: PreTrainedModel, decoder_name_or_path: str) -> PreTrainedModel:
    """A causal LM with cross-attention, from a local folder or the Hub cache, else from the encoder's config.

    Loading from the folder when there is one consumes the random number generator exactly as
    sentence-transformers does, so a seeded construction gives the same decoder-only weights.
    """
    with _quiet_loading():
        try:
            config = _decoder_config(AutoConfig.from_pretrained(decoder_name_or_path, local_files_only=True))
            return AutoModelForCausalLM.from_pretrained(decoder_name_or_path, config=config, local_files_only=True)
        except (OSError, ValueError) as error:
            if decoder_name_or_path != encoder.config._name_or_path:
                raise ValueError(
                    f"Could not build a decoder from {decoder_name_or_path!r} without downloading it ({error}). "
                    "Pass a local folder of a model with an XXXLMHeadModel class (e.g. BERT), or leave "
                    "decoder_name_or_path unset to decode with the encoder's own architecture."
                ) from error
        # The encoder was built from a config (or its folder is gone): its shared weights replace the
        # decoder's below anyway, so only the decoder-only layers are fresh either way.
        try:
            return AutoModelForCausalLM.from_config(_decoder_config(encoder.config))
        except ValueError as error:
            raise ValueError(
                f"{type(encoder).__name__} has no causal-LM head class (XXXLMHeadModel), so it cannot be the "
                "decoder; BERT-like encoders work, ALBERT and DeBERTa do not."
            ) from error


def _share_encoder_weights(encoder: nn.Module, decoder: PreTrainedModel) -> int:
    """Make the decoder use the encoder's parameter objects wherever their names match.

    The encoder keeps its own parameters (so an optimizer built on the model still holds them) and
    the decoder's copies are dropped; weights tied inside the decoder (its LM head shares the word
    embeddings) are re-pointed too. Returns how many parameters are shared.
    """
    base = getattr(decoder, decoder.base_model_prefix)
    encoder_parameters = dict(encoder.named_parameters(remove_duplicate=False))
    replacement: dict[int, nn.Parameter] = {}
    for module_name, module in base.named_modules():
        for attr, parameter in module._parameters.items():
            shared = encoder_parameters.get(f"{module_name}.{attr}" if module_name else attr)
            if parameter is None or shared is None:
                continue
            if shared.shape != parameter.shape:
                raise ValueError(
                    f"Cannot tie the decoder to the encoder: {module_name}.{attr} has shape {tuple(parameter.shape)} "
                    f"in the decoder and {tuple(shared.shape)} in the encoder (was the vocabulary resized?)."
                )
            replacement[id(parameter)] = shared
    for module in decoder.modules():
        for attr, parameter in list(module._parameters.items()):
            if parameter is not None and id(parameter) in replacement:
                module._parameters[attr] = replacement[id(parameter)]
    return len(replacement)


class DenoisingAutoEncoderLoss(EmbeddingLoss):
    r"""TSDAE: reconstruct the original sentence, token by token, from the embedding of a damaged copy.

    .. math::
        L = -\frac{1}{|\mathcal{T}|} \sum_{(i,t) \in \mathcal{T}}
            \log \operatorname{softmax}\big(\mathrm{dec}(y_{i,<t},\ e_i)\big)_{y_{i,t}},
        \qquad e_i = \mathrm{model}(\tilde{x}_i)

    where ``y_i`` are the token ids of the original sentence (``[CLS] ... [SEP] [PAD]...``),
    :math:`\tilde{x}_i` the damaged sentence, ``dec`` a causal decoder whose cross-attention sees only
    the single vector :math:`e_i`, and :math:`\mathcal{T}` the (row, position) pairs with
    :math:`t \ge 1` whose target token is not padding (the mean runs over those only).

    Args:
        model: the encoder (lossbook ``EmbeddingModel`` or a ``SentenceTransformer`` on a transformers
            model with an ``XXXLMHeadModel`` class: BERT-like encoders work, ALBERT/DeBERTa do not).
        decoder_name_or_path: a separate decoder: a local folder (or a model already in the Hugging Face
            cache; nothing is downloaded). Only used with ``tie_encoder_decoder=False``.
        tie_encoder_decoder: share every encoder weight with the decoder (default, as in the paper); the
            decoder then has its own cross-attention and LM-head transform only, freshly initialised.

    Inputs:
        (damaged_sentence, original_sentence) pairs, no labels. ``lossbook.convert.add_deletion_noise``
        makes them from plain sentences (the paper deletes 60% of the words).

    Relations:
        Unsupervised like :class:`ContrastiveTensionLoss`, but it needs no negatives and works with small
        batches; it is often used for domain adaptation before a supervised loss such as
        :class:`MultipleNegativesRankingLoss`.

    Notes:
        * The decoder-only layers are random, so the loss value depends on the random seed at
          construction (``torch.manual_seed(0)`` right before building it reproduces
          sentence-transformers' value for the same model).
        * The decoder lives on the loss: it is trained but not saved with the model.
        * sentence-transformers ties in the other direction (the encoder's parameters are replaced by
          the decoder's freshly loaded copies, which resets an in-memory fine-tuned encoder to its
          folder's weights and orphans an existing optimizer); lossbook keeps the encoder's parameters
          and hands them to the decoder. Values and gradients are the same for an unchanged model.
        * With a single key, each cross-attention weight is a softmax over one score, i.e. always 1: the
          cross-attention query and key projections get exactly zero gradient; the embedding reaches the
          decoder through the value and output projections only.
        * The decoder gets no padding mask (as in the reference); padding only ever follows the real
          tokens, which causal attention never lets them see.

    Example:
        >>> loss = DenoisingAutoEncoderLoss(model)
        >>> loss([model.tokenize(["man playing guitar."]),
        ...       model.tokenize(["A man is playing a guitar."])])  # doctest: +SKIP

    Reference:
        Wang, Reimers & Gurevych, "TSDAE: Using Transformer-based Sequential Denoising Auto-Encoder for
        Unsupervised Sentence Embedding Learning", Findings of EMNLP 2021 (arXiv 2104.06979).
    """

    formats = (FORMATS["damaged-original"],)
    commonly_used = (FORMATS["damaged-original"],)
    embedding_path = EmbeddingPath.OWN_FORWARD  # it decodes token ids
    column_hint = "Make them from plain sentences with lossbook.convert.add_deletion_noise."

    def __init__(
        self, model: nn.Module, decoder_name_or_path: str | None = None, tie_encoder_decoder: bool = True
    ) -> None:
        super().__init__(model)
        encoder = _encoder_of(model)
        self.tokenizer_encoder = model.tokenizer
        if decoder_name_or_path is None and not tie_encoder_decoder:
            raise ValueError("Give decoder_name_or_path when tie_encoder_decoder=False.")
        if tie_encoder_decoder:
            if decoder_name_or_path:
                logger.warning("tie_encoder_decoder=True: decoder_name_or_path is ignored, the encoder is the decoder.")
            decoder_name_or_path = encoder.config._name_or_path
        self.decoder = _build_decoder(encoder, decoder_name_or_path or "")
        if tie_encoder_decoder:
            self.tokenizer_decoder = self.tokenizer_encoder
        else:
            self.tokenizer_decoder = AutoTokenizer.from_pretrained(decoder_name_or_path, local_files_only=True)
        self.need_retokenization = not isinstance(self.tokenizer_encoder, type(self.tokenizer_decoder))
        if self.decoder.config.hidden_size != encoder.config.hidden_size:
            raise ValueError(
                f"The decoder's hidden size ({self.decoder.config.hidden_size}) must equal the encoder's "
                f"({encoder.config.hidden_size}): the sentence embedding is its cross-attention input."
            )
        if self.tokenizer_decoder.pad_token is None:  # GPT-2-like decoders pad with the end token
            self.tokenizer_decoder.pad_token = self.tokenizer_decoder.eos_token
            self.decoder.config.pad_token_id = self.decoder.config.eos_token_id
        self.decoder.to(next(encoder.parameters()).device)
        if tie_encoder_decoder:
            if self.need_retokenization:
                raise ValueError("tie_encoder_decoder=True needs the encoder and decoder to share a tokenizer.")
            if not _share_encoder_weights(encoder, self.decoder):
                logger.warning("No encoder weight matched a decoder weight: are they the same architecture?")

    @property
    def encoder(self) -> nn.Module:
        """sentence-transformers' name for the model being trained: the same module as ``self.model``."""
        return self.model

    def __setattr__(self, name: str, value: Any) -> None:
        # One module under two names: setting ``encoder`` (as code written for the reference does) sets ``model``,
        # so the two can never drift apart (nn.Module would otherwise register a second, separate submodule).
        super().__setattr__("model" if name == "encoder" else name, value)

    def retokenize(self, features: dict[str, Tensor]) -> dict[str, Tensor]:
        """Re-tokenize the original sentences with the decoder's tokenizer (untied decoders only)."""
        texts = self.tokenizer_encoder.batch_decode(
            features["input_ids"], skip_special_tokens=True, clean_up_tokenization_spaces=True
        )
        tokens = self.tokenizer_decoder(texts, padding=True, truncation="longest_first", return_tensors="pt")
        return {key: value.to(features["input_ids"].device) for key, value in tokens.items()}

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        sentence_features = list(sentence_features)
        self.check_columns(sentence_features)
        damaged, original = sentence_features
        if self.need_retokenization:
            original = self.retokenize(original)
        embedding = self.model(damaged)["sentence_embedding"]
        target_ids = original["input_ids"].to(embedding.device)
        logits = self.decoder(
            input_ids=target_ids[:, :-1],
            attention_mask=None,
            encoder_hidden_states=embedding[:, None],  # (B, 1, D): one key/value per sentence
            encoder_attention_mask=damaged["attention_mask"][:, :1].to(embedding.device),
            use_cache=False,
            return_dict=True,
        ).logits
        return self.reconstruction_loss(logits, target_ids[:, 1:])

    def reconstruction_loss(self, logits: Tensor, target_ids: Tensor) -> Tensor:
        """Mean token cross-entropy of ``logits`` (B, T, V) against ``target_ids`` (B, T), padding skipped."""
        return nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]),
            target_ids.reshape(-1),
            ignore_index=self.tokenizer_decoder.pad_token_id,
        )

    def check_inputs(self, embeddings: list[Tensor], labels: Tensor | None) -> Tensor | None:
        return labels  # nothing to check: compute_loss_from_embeddings only says why it cannot run

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor | None) -> Tensor:
        raise TypeError(
            "DenoisingAutoEncoderLoss needs the original sentence's token ids, not only embeddings: call the loss "
            "on tokenized (damaged, original) columns, or reconstruction_loss(logits, target_ids) directly."
        )

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "decoder_name_or_path": self.decoder.config._name_or_path,
            "need_retokenization": self.need_retokenization,
        }

    @property
    def citation(self) -> str:
        return """
@inproceedings{wang-2021-TSDAE,
    title = "TSDAE: Using Transformer-based Sequential Denoising \
Auto-Encoderfor Unsupervised Sentence Embedding Learning",
    author = "Wang, Kexin and Reimers, Nils and Gurevych, Iryna",
    booktitle = "Findings of the Association for Computational Linguistics: EMNLP 2021",
    month = nov,
    year = "2021",
    address = "Punta Cana, Dominican Republic",
    publisher = "Association for Computational Linguistics",
    pages = "671--688",
    url = "https://arxiv.org/abs/2104.06979",
}
"""
