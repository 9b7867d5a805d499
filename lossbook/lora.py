"""LoRA adapters for the transformer of an embedding model, through PEFT.

LoRA (Hu et al., 2021) freezes every weight of the transformer and learns, beside each chosen linear layer
``W``, a low-rank update ``(alpha / r) * B A`` (``A``: r x in, ``B``: out x r, ``B`` starting at zero, so
training starts from the model as it was). For all-MiniLM-L6-v2 with the defaults below that is about 1.5% of
the weights to train and keep optimiser state for; the forward and backward passes still run the whole
transformer, so a step costs about what a full fine-tuning step costs on a CPU (less on a GPU, where the
optimiser and the weight gradients weigh more).

    from lossbook.lora import LoraSettings
    lossbook.train(model, loss, pairs, steps=60, lora=True)                  # the defaults below
    lossbook.train(model, loss, pairs, steps=60, lora=LoraSettings(r=16))    # or dict(r=16, alpha=32)
    model.save("merged")                     # the adapters merged into the weights: loads anywhere
    model.save("adapter", adapter_only=True) # adapter_config.json + adapter_model.safetensors only

``lossbook.load_model("adapter")`` loads the base model the adapter names and puts the adapter on it;
sentence-transformers does the same with ``SentenceTransformer(base).load_adapter("adapter")``.
The fast mode (``freeze_encoder=True``) is the other cheap way: a head on a frozen transformer.
"""

from __future__ import annotations

import copy
import json
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

__all__ = [
    "ADAPTER_CONFIG",
    "LoraSettings",
    "add_lora",
    "adapter_base_model",
    "describe",
    "has_lora",
    "load_adapter",
    "lora_settings",
    "merged_copy",
    "save_adapter",
    "trainable_parameters",
]

ADAPTER_CONFIG = "adapter_config.json"
# Every linear layer of a BERT-style encoder: the attention's query, key and value, and the three "dense"
# layers (attention output, intermediate, output). peft's own default for BERT is query and value only.
BERT_TARGET_MODULES = ("query", "key", "value", "dense")


@dataclass(frozen=True)
class LoraSettings:
    """The adapters ``train(..., lora=...)`` adds: rank ``r``, scale ``alpha / r``, dropout, the layers they go on."""

    r: int = 8
    alpha: float = 16.0
    # PEFT's default. Dropout on an adapter's input copies that input at every adapted layer: at 0.05 a brief
    # MiniLM step on a 2-core CPU took 0.45 s instead of 0.31 s and 405 MB instead of 295 MB (measured).
    dropout: float = 0.0
    target_modules: tuple[str, ...] = field(default=BERT_TARGET_MODULES)

    def __post_init__(self) -> None:
        if not isinstance(self.r, int) or isinstance(self.r, bool) or self.r < 1:
            raise ValueError(f"LoRA rank r must be a positive integer (e.g. 8), got {self.r!r}.")
        if not isinstance(self.alpha, (int, float)) or isinstance(self.alpha, bool) or self.alpha <= 0:
            raise ValueError(
                f"LoRA alpha must be a positive number (e.g. 16: updates are scaled by alpha / r), got {self.alpha!r}."
            )
        if not isinstance(self.dropout, (int, float)) or isinstance(self.dropout, bool) or not 0 <= self.dropout < 1:
            raise ValueError(f"LoRA dropout must be a number in [0, 1), got {self.dropout!r}.")
        modules = (self.target_modules,) if isinstance(self.target_modules, str) else tuple(self.target_modules)
        if not modules or not all(isinstance(name, str) and name for name in modules):
            raise ValueError(
                f"target_modules must name the linear layers to adapt, e.g. {list(BERT_TARGET_MODULES)}; "
                f"got {self.target_modules!r}."
            )
        object.__setattr__(self, "target_modules", modules)


def lora_settings(lora) -> LoraSettings | None:
    """``train``'s ``lora`` argument as settings: None/False -> None, True -> the defaults, a dict or LoraSettings."""
    if lora is None or lora is False:
        return None
    if lora is True:
        return LoraSettings()
    if isinstance(lora, LoraSettings):
        return lora
    if isinstance(lora, dict):
        unknown = set(lora) - set(LoraSettings.__dataclass_fields__)
        if unknown:
            known = ", ".join(LoraSettings.__dataclass_fields__)
            raise ValueError(f"Unknown LoRA setting(s) {sorted(unknown)}; the settings are {known}.")
        return LoraSettings(**lora)
    raise TypeError(
        "lora must be True, a dict such as dict(r=8, alpha=16) or a lossbook.lora.LoraSettings; "
        f"got {type(lora).__name__}."
    )


def has_lora(transformer: nn.Module) -> bool:
    """Whether the transformer carries PEFT adapters (``add_lora`` or ``load_adapter`` put them there)."""
    from peft import PeftModel

    return isinstance(transformer, PeftModel)


def add_lora(transformer: nn.Module, settings: LoraSettings) -> nn.Module:
    """The transformer wrapped with fresh LoRA adapters (its own weights frozen); refused when some are there."""
    from peft import LoraConfig, get_peft_model

    if has_lora(transformer):
        raise ValueError("The model already has LoRA adapters; train() goes on training them (pass lora=None).")
    present = {name.rsplit(".", 1)[-1] for name, module in transformer.named_modules() if isinstance(module, nn.Linear)}
    missing = [name for name in settings.target_modules if name not in present]
    if missing:
        raise ValueError(
            f"target_modules {missing} match no linear layer of this transformer; its linear layers are named "
            f"{sorted(present)}."
        )
    # BERT's pooler (a "dense" layer on the first token) feeds nothing lossbook computes: mean pooling reads the
    # last hidden states. An adapter there would count as trainable and never get a gradient.
    unused = sorted({name for name, _ in transformer.named_modules() if name.startswith("pooler.")})
    config = LoraConfig(
        r=settings.r,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=list(settings.target_modules),
        exclude_modules=unused or None,
        bias="none",
    )
    with _quiet_peft():
        return get_peft_model(transformer, config)


@contextmanager
def _quiet_peft():
    """Hide transformers' deprecation notice about a name peft reads (not the user's to fix, nor ours)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        yield


def trainable_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def merged_copy(transformer: nn.Module) -> nn.Module:
    """A plain transformer with the adapters' updates merged into its weights (the model keeps its adapters)."""
    merged = copy.deepcopy(transformer).merge_and_unload()
    for parameter in merged.parameters():
        parameter.requires_grad_(True)
    return merged


def save_adapter(transformer: nn.Module, folder: Path, base_model: str | None) -> None:
    """Write ``adapter_config.json`` and ``adapter_model.safetensors``, naming ``base_model`` (a Hub id) as base.

    PEFT would write the path the base was loaded from, a folder of this machine; the Hub id is what another
    machine can load. Without one (a model built here, or loaded from a folder whose card names no base) the
    path stays: it loads on this machine.
    """
    config = transformer.peft_config["default"]
    saved_base = config.base_model_name_or_path
    config.base_model_name_or_path = base_model or saved_base
    try:
        # The embedding layers are never adapted here, so PEFT need not look up the base's vocabulary (online).
        transformer.save_pretrained(folder, safe_serialization=True, save_embedding_layers=False)
    finally:
        config.base_model_name_or_path = saved_base


def adapter_base_model(folder: Path) -> str | None:
    """The base model an adapter folder names, or None when it names none."""
    try:
        return json.loads((Path(folder) / ADAPTER_CONFIG).read_text()).get("base_model_name_or_path") or None
    except (OSError, ValueError):
        return None


def load_adapter(transformer: nn.Module, folder: Path) -> nn.Module:
    """The transformer with the adapter of ``folder`` on it, ready to train further."""
    from peft import PeftModel

    with _quiet_peft():
        return PeftModel.from_pretrained(transformer, str(folder), is_trainable=True)


def describe(transformer: nn.Module) -> dict | None:
    """The adapters a transformer carries as plain data (for a History's config and the model card), or None."""
    if not has_lora(transformer):
        return None
    config = transformer.peft_config["default"]
    return {
        "r": int(config.r),
        "alpha": float(config.lora_alpha),
        "dropout": float(config.lora_dropout),
        "target_modules": sorted(config.target_modules),
    }
