"""Converters that need a model: hard-negative mining and teacher labels for distillation.

``model`` is anything with ``encode(texts, ...) -> (N, D) tensor``: a lossbook ``EmbeddingModel``
or a sentence-transformers ``SentenceTransformer``.
"""

from __future__ import annotations

import datasets
import torch

from lossbook.convert.registry import ConversionError, converter, require_format
from lossbook.validate import model_with_encode, number, whole_number

__all__ = ["add_teacher_embeddings", "add_teacher_margins", "add_teacher_scores", "mine_hard_negatives"]


def _encode(model, texts: list[str], batch_size: int, where: str) -> torch.Tensor:
    model_with_encode(model, where)  # a model *name* is a str, and a str has an .encode() too
    whole_number(batch_size, "batch_size", fix="Texts per forward pass of the model, e.g. 32.")
    embeddings = (
        model.encode(texts, batch_size=batch_size, convert_to_tensor=True)
        if _is_sentence_transformer(model)
        else model.encode(texts, batch_size=batch_size)
    )
    return torch.as_tensor(embeddings).float().cpu()


def _is_sentence_transformer(model) -> bool:
    return type(model).__module__.startswith("sentence_transformers")


def _normalized(embeddings: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.normalize(embeddings, dim=-1)


def _mine(
    data, model, *, num_negatives: int, range_min: int, range_max: int, margin: float | None, batch_size: int, name: str
):
    dataset, inputs, _ = require_format(data, "pair", name)
    for value, argument in ((num_negatives, "num_negatives"), (range_min, "range_min"), (range_max, "range_max")):
        whole_number(value, argument, minimum=0)
    if margin is not None:
        number(margin, "margin", fix="How much less similar than the positive a negative must be, e.g. 0.1, or None.")
    if num_negatives < 1 or range_min < 0 or range_max <= range_min:
        raise ConversionError(
            f"{name}: need num_negatives >= 1 and 0 <= range_min < range_max, "
            f"got {num_negatives}, {range_min}, {range_max}."
        )
    anchors, positives = list(dataset[inputs[0]]), list(dataset[inputs[1]])
    corpus = list(dict.fromkeys(positives))
    if len(corpus) <= num_negatives:
        raise ConversionError(
            f"{name}: the {len(corpus)} distinct positives are too few to draw {num_negatives} negative(s) per anchor."
        )
    anchor_embeddings = _normalized(_encode(model, anchors, batch_size, name))
    corpus_embeddings = _normalized(_encode(model, corpus, batch_size, name))
    positive_embeddings = _normalized(_encode(model, positives, batch_size, name))
    similarities = anchor_embeddings @ corpus_embeddings.T
    positive_similarity = (anchor_embeddings * positive_embeddings).sum(-1)
    rows = []
    for i, (anchor, positive) in enumerate(zip(anchors, positives)):
        ranked = similarities[i].argsort(descending=True).tolist()
        # The own positive, duplicates of it, and the anchor itself are never negatives.
        candidates = [j for j in ranked if corpus[j] != positive and corpus[j] != anchor][range_min:range_max]
        if margin is not None:
            # Candidates nearly as similar as the positive are likely unlabelled positives: skip them.
            candidates = [j for j in candidates if similarities[i, j] <= positive_similarity[i] - margin]
        if len(candidates) >= num_negatives:
            rows.append((anchor, positive, [corpus[j] for j in candidates[:num_negatives]]))
    if not rows:
        raise ConversionError(
            f"{name}: no anchor kept {num_negatives} negative(s) within the rank range and margin; widen them."
        )
    return rows


@converter("pair", "triplet", needs_model=True)
def mine_hard_negatives(
    data,
    model,
    *,
    num_negatives: int = 1,
    range_min: int = 0,
    range_max: int = 50,
    margin: float | None = None,
    batch_size: int = 32,
) -> datasets.Dataset:
    """(anchor, positive) pairs -> (anchor, positive, negative_1..n) by hard-negative mining with ``model``.

    The candidates are all distinct positives of the data set, ranked by cosine similarity to the
    anchor; the own positive (and any copy of it) and the anchor's own text are excluded. Negatives
    are taken from ranks ``range_min``..``range_max`` (skipping the very top avoids false negatives),
    and with ``margin`` only candidates at least that much less similar than the positive are used.
    Anchors without ``num_negatives`` such candidates are dropped. With ``num_negatives=1`` the
    result is triplets; with more, n-tuples (``negative_1``, ``negative_2``, ...).
    """
    rows = _mine(
        data,
        model,
        num_negatives=num_negatives,
        range_min=range_min,
        range_max=range_max,
        margin=margin,
        batch_size=batch_size,
        name="mine_hard_negatives",
    )
    columns = {"anchor": [r[0] for r in rows], "positive": [r[1] for r in rows]}
    if num_negatives == 1:
        columns["negative"] = [r[2][0] for r in rows]
    else:
        for k in range(num_negatives):
            columns[f"negative_{k + 1}"] = [r[2][k] for r in rows]
    return datasets.Dataset.from_dict(columns)


def _register_ntuple_miner():
    # The same function, declared a second time for the n-tuple output, so the graph shows both edges.
    @converter("pair", "n-tuple", needs_model=True)
    def mine_hard_negative_tuples(data, model, *, num_negatives: int = 3, **options) -> datasets.Dataset:
        """(anchor, positive) pairs -> (anchor, positive, negative_1..n) tuples: mine_hard_negatives with n >= 2."""
        if num_negatives < 2:
            raise ConversionError(
                "mine_hard_negative_tuples makes n-tuples: num_negatives must be >= 2 "
                "(use mine_hard_negatives for triplets)."
            )
        return mine_hard_negatives(data, model, num_negatives=num_negatives, **options)

    return mine_hard_negative_tuples


mine_hard_negative_tuples = _register_ntuple_miner()


@converter("sentences", "sentence-teacher-embedding", needs_model=True)
def add_teacher_embeddings(data, teacher, *, batch_size: int = 32) -> datasets.Dataset:
    """Sentences (1..N columns) -> + ``label`` = the teacher's embedding of the first column, for MSELoss.

    With several columns (a sentence and its translations), every column is trained to match the
    teacher's embedding of the first.
    """
    from lossbook.detect import as_dataset, label_column_of

    dataset = as_dataset(data)
    if len(dataset) == 0:
        raise ConversionError("add_teacher_embeddings got an empty data set.")
    if label_column_of(dataset.column_names):
        raise ConversionError(
            f"add_teacher_embeddings: the data already has a label column ({dataset.column_names}); drop it first."
        )
    first = dataset.column_names[0]
    embeddings = _encode(teacher, list(dataset[first]), batch_size, "add_teacher_embeddings")
    return dataset.add_column("label", embeddings.tolist())


def _teacher_scores(dataset: datasets.Dataset, inputs: list[str], teacher, batch_size: int, where: str) -> torch.Tensor:
    queries = _encode(teacher, list(dataset[inputs[0]]), batch_size, where)
    scores = [(queries * _encode(teacher, list(dataset[column]), batch_size, where)).sum(-1) for column in inputs[1:]]
    return torch.stack(scores, dim=1)  # (rows, candidates): dot products, as MarginMSE/DistillKLDiv use


@converter("triplet", "triplet-margin", needs_model=True)
def add_teacher_margins(data, teacher, *, batch_size: int = 32) -> datasets.Dataset:
    """(query, positive, negative) -> + ``label`` = teacher(q, p) - teacher(q, n), for MarginMSELoss.

    Scores are dot products of the teacher's embeddings. With several negative columns the label is
    one margin per negative.
    """
    from lossbook.detect import as_dataset, detect_format

    dataset = as_dataset(data)
    detection = detect_format(dataset)
    if detection.format.key not in ("triplet", "n-tuple"):
        raise ConversionError(
            f"add_teacher_margins reads triplets or n-tuples, but the data is '{detection.format.title}'."
        )
    scores = _teacher_scores(dataset, detection.input_columns, teacher, batch_size, "add_teacher_margins")
    margins = scores[:, :1] - scores[:, 1:]
    label = margins[:, 0].tolist() if margins.shape[1] == 1 else margins.tolist()
    return dataset.add_column("label", label)


@converter("n-tuple", "n-tuple-teacher-scores", needs_model=True)
def add_teacher_scores(data, teacher, *, batch_size: int = 32) -> datasets.Dataset:
    """(query, positive, negative_1..n) -> + ``label`` = the teacher's score of each candidate, for DistillKLDivLoss."""
    from lossbook.detect import as_dataset, detect_format

    dataset = as_dataset(data)
    detection = detect_format(dataset)
    if detection.format.key not in ("triplet", "n-tuple"):
        raise ConversionError(
            f"add_teacher_scores reads triplets or n-tuples, but the data is '{detection.format.title}'."
        )
    scores = _teacher_scores(dataset, detection.input_columns, teacher, batch_size, "add_teacher_scores")
    return dataset.add_column("label", scores.tolist())
