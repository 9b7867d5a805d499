"""The model card ``EmbeddingModel.save`` writes: README.md as a sentence-transformers model on the Hub has one.

The YAML metadata the Hub reads (library, pipeline, base model, tags, data sets, a ``model-index`` of the
last evaluation), then what a reader needs: how to load the model with lossbook or sentence-transformers,
and how it was trained, run by run (each loss with its config and citation, steps, batch size, learning
rate, precision, device, time), with the evaluation before and after. The runs are ``model.training_runs``,
which ``train()`` appends to; they are kept in memory only, so a card lists the runs since the model was
loaded or built (training behind a folder it was loaded from is described by that folder's card). A model
saved without a run gets a card that says so, and no numbers. Nothing in a card names a path of this
machine: data sets go by their lossbook name, the base model by its Hub id.
"""

from __future__ import annotations

import json
from pathlib import Path

from huggingface_hub import EvalResult, ModelCard, ModelCardData, metadata_load

from lossbook.model_files import CARD_MARKER, TINY_MODEL_NAME
from lossbook.version import __version__

__all__ = ["base_model_of_folder", "model_card"]

_TAGS = ["sentence-transformers", "sentence-similarity", "feature-extraction", "lossbook"]
# The task a lossbook evaluation is, told by a metric only that task reports (lossbook.metrics), named as the Hub does.
_TASKS = [
    ("spearman", "semantic-similarity", "Semantic Similarity"),
    ("ap", "binary-classification", "Binary Classification"),
    ("ndcg@10", "information-retrieval", "Information Retrieval"),
    ("k", "classification", "Classification"),  # k-NN classification reports its k
    ("accuracy", "triplet", "Triplet"),
]
# How the card names the settings of History.config; the reason for the precision goes with the precision.
_SETTINGS = {
    "batch_size": "Batch size",
    "lr": "Learning rate (AdamW, linear warm-up and decay)",
    "warmup_ratio": "Warm-up ratio",
    "seed": "Seed",
    "sampler": "Batch sampler",
    "max_seq_length": "Max sequence length (tokens)",
    "freeze_encoder": "Frozen encoder (only a dense head trained)",
    "format": "Data format",
    "rows": "Training rows",
    "world_size": "Processes",
    "mixed_precision": "Precision",
    "lora": "LoRA adapters (PEFT; merged into the saved weights unless saved alone)",
    "trainable_parameters": "Trainable parameters",
}


def base_model_of_folder(folder: Path) -> str | list[str] | None:
    """The ``base_model`` a model folder's card names (a folder lossbook or sentence-transformers saved), or None."""
    try:
        metadata = metadata_load(folder / "README.md") or {}
    except Exception:  # no card, or one that is not valid YAML: the folder simply does not say
        return None
    base = metadata.get("base_model")
    names = base if isinstance(base, list) else [base]
    if not names or not all(_is_hub_id(name) for name in names):
        return None  # none, or something that is no Hub id (a path written by hand): the Hub would refuse it
    return base


def _is_hub_id(name) -> bool:
    """``owner/name`` or ``name``, as the Hub spells model ids; a folder path is not one."""
    return isinstance(name, str) and bool(name) and name.count("/") <= 1 and not name.startswith((".", "/", "~"))


def model_card(model, folder_name: str = "model") -> ModelCard:
    """The card of ``model`` as saved into a folder called ``folder_name`` (its README.md)."""
    runs = list(getattr(model, "training_runs", None) or [])  # absent on a model pickled by an older lossbook
    base = getattr(model, "base_model", None)
    loss_names = _unique(name for run in runs for name in run.loss_names)
    title = _title(model, base, loss_names)
    results = _eval_results(runs[-1]) if runs else []  # the saved weights are the last run's
    data = ModelCardData(
        library_name="sentence-transformers",
        pipeline_tag="sentence-similarity",
        base_model=base,
        tags=_TAGS + [f"loss:{name}" for name in loss_names],
        datasets=_unique(run.data.hub_id for run in runs if run.data is not None and run.data.hub_id) or None,
        model_name=title if results else None,
        eval_results=results or None,
    )
    sections = [f"# {title}", _about(model, base), _usage(folder_name)]
    if runs:
        sections.append(
            "## Training\n\nThe runs of `lossbook.train()` on this model since it was loaded or built, in order."
        )
        sections += [_run_section(number, run) for number, run in enumerate(runs, start=1)]
        sections.append(_citations(runs))
    else:
        sections.append(_untrained(model, base))
    body = "\n\n".join(section for section in sections if section)
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n{CARD_MARKER}\n\n{body}\n")


# -- the parts of the card ---------------------------------------------------------------------------
def _title(model, base, loss_names: list[str]) -> str:
    what = _base_name(base) or ("tiny-bert (random)" if getattr(model, "name", None) == TINY_MODEL_NAME else None)
    what = what or "Sentence embedding model"
    return f"{what} trained with {' and '.join(loss_names)}" if loss_names else what


def _base_name(base) -> str | None:
    first = base[0] if isinstance(base, list) else base
    return first.rsplit("/", 1)[-1] if first else None


def _about(model, base) -> str:
    if base:
        names = base if isinstance(base, list) else [base]
        origin = ", ".join(f"[{name}](https://huggingface.co/{name})" for name in names)
    elif getattr(model, "name", None) == TINY_MODEL_NAME:
        origin = "a tiny, randomly initialised BERT (`lossbook.tiny_model`), not a pretrained model"
    else:
        origin = "a model whose origin was not recorded (built in Python, or loaded from a local folder without a card)"
    head = getattr(model, "head", None)
    layers = ["Transformer", "mean pooling"]
    layers += [f"Dense ({head.in_features} -> {head.out_features})"] if head is not None else []
    layers += ["Normalize"] if getattr(model, "normalize", False) else []
    return (
        "A [sentence-transformers](https://www.sbert.net) model saved by "
        "[lossbook](https://github.com/lossbook/lossbook). "
        f"It maps texts to {model.embedding_dim}-dimensional vectors, compared by cosine similarity.\n\n"
        f"- Base model: {origin}\n- Modules: {' -> '.join(layers)}\n"
        f"- Maximum sequence length: {model.max_seq_length} tokens\n- lossbook version: {__version__}"
    )


def _usage(folder_name: str) -> str:
    texts = '["The weather is lovely today.", "It is sunny outside."]'
    return (
        f"## Usage\n\nWith lossbook:\n\n```python\nimport lossbook\n\n"
        f'model = lossbook.load_model("{folder_name}")  # this folder, or its Hub id once uploaded\n'
        f"embeddings = model.encode({texts})\n```\n\n"
        f"With sentence-transformers (`pip install sentence-transformers`), the same embeddings:\n\n"
        f"```python\nfrom sentence_transformers import SentenceTransformer\n\n"
        f'model = SentenceTransformer("{folder_name}")\nembeddings = model.encode({texts})\n'
        f"similarities = model.similarity(embeddings, embeddings)\n```"
    )


def _untrained(model, base) -> str:
    weights = f"the weights of {_base_name(base)}" if base else "the weights it was loaded or built with"
    lines = [
        "## Training",
        f"This model was saved without training: no run of `lossbook.train()` is recorded on it, so it has {weights}, "
        "and this card reports no training or evaluation numbers. (lossbook records the runs since a model was "
        "loaded or built; training behind a folder it was loaded from is described by that folder's card.)",
    ]
    if getattr(model, "name", None) == TINY_MODEL_NAME:
        lines.append("Its weights are random: its embeddings mean nothing yet.")
    return "\n\n".join(lines)


def _run_section(number: int, run) -> str:
    history, config = run.history, run.history.config
    where = f" on {run.data.label}" if run.data is not None else ""
    lines = [f"### Run {number}: {' wrapping '.join(run.loss_names)}{where}", ""]
    if run.data is not None:
        hub = f" ([{run.data.hub_id}](https://huggingface.co/datasets/{run.data.hub_id}))" if run.data.hub_id else ""
        # The bundled sets share the public sets' names and columns, not their rows: say so, lest a reader compare.
        bundled = (
            " (written for lossbook; not the public data set of that name)" if "bundled" in run.data.source else ""
        )
        lines.append(f"Data: {run.data.label}, from {run.data.source}{hub}{bundled}.\n")
    lines += ["| Setting | Value |", "|---|---|"]
    planned = config.get("steps")
    lines.append(f"| Steps | {len(history.steps)}" + (f" of {planned}" if planned else "") + f" ({history.stopped}) |")
    for key, label in _SETTINGS.items():
        if config.get(key) is not None:  # a setting the run did not have (no LoRA, say) gets no row
            value = config[key]
            if key == "mixed_precision" and config.get("precision_reason"):
                value = f"{value} ({config['precision_reason']})"
            lines.append(f"| {label} | {_cell(value)} |")
    lines.append(f"| Device | {_cell(history.device)} |")
    if history.seconds:
        lines.append(f"| Wall time | {history.seconds[-1]:.1f} s ({history.seconds_per_step:.3f} s per step) |")
    for entry in run.losses:
        config_json = json.dumps(entry["config"], indent=2, default=str)
        lines += ["", f"`{entry['name']}` with `get_config_dict()`:", "", f"```json\n{config_json}\n```"]
    lines.append(_evaluation_table(run))
    return "\n".join(lines)


def _evaluation_table(run) -> str:
    evaluations = run.history.evaluations
    if not evaluations:
        return "\nNo evaluation during this run (no evaluator was given to `train()`)."
    first, last = evaluations[0], evaluations[-1]
    columns = [first] + ([last] if last["step"] > first["step"] else [])
    what = f" ({run.evaluation})" if run.evaluation else ""
    header = " | ".join(
        f"{'before' if entry is first and entry['step'] == 0 else 'after'} (step {entry['step']})" for entry in columns
    )
    lines = ["", f"Evaluation{what}:", "", f"| Metric | {header} |" + (" Change |" if len(columns) > 1 else "")]
    lines.append("|---|" + "---|" * (len(columns) + (len(columns) > 1)))
    for name in _unique(key for entry in columns for key in entry if key != "step"):
        values = [entry.get(name) for entry in columns]
        cells = [f"{value:.4f}" if isinstance(value, float) else "" for value in values]
        if len(columns) > 1 and all(isinstance(value, float) for value in values):
            cells.append(f"{values[1] - values[0]:+.4f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _citations(runs) -> str:
    cited = {entry["name"]: entry["citation"] for run in runs for entry in run.losses if entry["citation"]}
    if not cited:
        return ""
    parts = ["## Citation", "If you use this model, cite the losses it was trained with:"]
    parts += [f"### {name}\n\n```bibtex\n{citation}\n```" for name, citation in cited.items()]
    return "\n\n".join(parts)


def _eval_results(run) -> list[EvalResult]:
    """The last evaluation of the last run (of the weights saved), as the Hub's ``model-index`` entries."""
    history = run.history
    if not history.evaluations or not history.steps or history.evaluations[-1]["step"] != history.steps[-1]:
        return []  # no evaluation, or none of the final weights (interrupted during the last one)
    metrics = {key: value for key, value in history.evaluations[-1].items() if key != "step"}
    task_type, task_name = next(
        ((kind, name) for key, kind, name in _TASKS if key in metrics), ("sentence-similarity", "Evaluation")
    )
    origin = run.evaluation_data
    label = origin.label if origin is not None else (run.evaluation or "evaluation data")
    dataset_type = origin.hub_id if origin is not None and origin.hub_id else _slug(label)
    split = label.rpartition("[")[2].rstrip("]") if origin is not None else None
    return [
        EvalResult(
            task_type=task_type,
            task_name=task_name,
            dataset_type=dataset_type,
            dataset_name=label,
            dataset_split=split,
            metric_type=key,
            metric_name=key.replace("_", " ").title(),
            metric_value=float(value),
        )
        for key, value in metrics.items()
        if isinstance(value, (int, float)) and key != "k"
    ]


def _cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split()) or "evaluation"


def _unique(items) -> list:
    return list(dict.fromkeys(items))
