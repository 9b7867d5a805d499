"""From data set rows to what a loss eats: tokenize once, pad per batch, embed in length-sorted chunks.

On a CPU a training step is matrix products, and every padding token is wasted work. Padding each
column to its own longest text (what sentence-transformers does) computes 1.7x the real tokens on
STS-B batches of 32 pairs and 2.3x on qa-pairs (short questions, answers of very different lengths);
embedding all the texts of a step sorted by length, cut into the chunks that minimise padded tokens
plus a fixed cost per forward pass, then putting the vectors back in their columns, computes 1.2x.
The maths is identical: every text is encoded on its own (attention and mean pooling ignore padding).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import datasets
import torch
from torch import Tensor, nn

__all__ = [
    "TokenizedColumns",
    "chunk_overhead_tokens",
    "embed_columns_sorted",
    "label_tensor",
    "length_sorted_chunks",
    "look_up_once",
    "padded_features",
]


class TokenizedColumns:
    """The input columns' texts and labels, tokenized row by row when a step first needs them.

    A brief run reads a few hundred rows of a data set that may hold thousands: each row is
    tokenized (unpadded ids, cached) the first time a batch draws it, all the rows of a batch in one
    tokenizer call, so the setup before the first step does not grow with the data set.
    """

    def __init__(self, texts: list[list[str]], labels, tokenize: Callable[[list[str]], list[list[int]]]) -> None:
        self.texts = texts  # column -> row -> text (for samplers and messages)
        self.labels = labels  # a list, or None
        self._tokenize = tokenize
        self._ids: list[dict[int, list[int]]] = [{} for _ in texts]  # column -> row -> token ids

    @classmethod
    def build(
        cls,
        model: nn.Module,
        dataset: datasets.Dataset,
        inputs: list[str],
        label_column: str | None,
        max_seq_length: int,
        *,
        texts: list[list[str]] | None = None,
        labels=None,
    ) -> TokenizedColumns:
        """The columns, ready to tokenize; ``texts`` and ``labels`` the caller already read are not read again."""
        if texts is None:
            texts = [list(dataset[column]) for column in inputs]
        if labels is None and label_column:
            labels = list(dataset[label_column])

        def tokenize(batch: list[str]) -> list[list[int]]:
            return model.tokenizer(batch, truncation=True, max_length=max_seq_length, add_special_tokens=True)[
                "input_ids"
            ]

        return cls(texts, labels, tokenize)

    def __len__(self) -> int:
        return len(self.texts[0])

    def row_texts(self, row: int) -> tuple[str, ...]:
        return tuple(column[row] for column in self.texts)

    def ids(self, rows: Sequence[int]) -> list[list[list[int]]]:
        """The token ids of ``rows``, one list per column (column -> row -> ids), tokenizing what is new."""
        result = []
        for texts, cache in zip(self.texts, self._ids):
            missing = [row for row in dict.fromkeys(rows) if row not in cache]
            if missing:
                cache.update(zip(missing, self._tokenize([texts[row] for row in missing])))
            result.append([cache[row] for row in rows])
        return result

    @property
    def columns(self) -> list[list[list[int]]]:
        """Every row's token ids, per column (tokenizes the whole data set: for the frozen-encoder cache)."""
        return self.ids(range(len(self)))

    def features(self, rows: list[int], pad_id: int, device: torch.device) -> list[dict[str, Tensor]]:
        """One padded feature dict per column (what ``model(features)`` takes)."""
        return [padded_features(column, pad_id, device) for column in self.ids(rows)]


def padded_features(sequences: list[list[int]], pad_id: int, device: torch.device) -> dict[str, Tensor]:
    """Token id lists padded to the longest: the feature dict ``model(features)`` takes."""
    width = max(len(ids) for ids in sequences)
    input_ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for i, ids in enumerate(sequences):
        input_ids[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        attention_mask[i, : len(ids)] = 1
    return {
        "input_ids": input_ids.to(device),
        "attention_mask": attention_mask.to(device),
        "token_type_ids": torch.zeros_like(input_ids, device=device),
    }


def label_tensor(labels, rows: list[int], device: torch.device) -> Tensor | None:
    """Labels of the rows: int64 class ids, float32 scores, or float32 vectors (teacher labels)."""
    if labels is None:
        return None
    picked = [labels[row] for row in rows]
    if all(isinstance(value, (bool, int)) and not isinstance(value, float) for value in picked):
        return torch.tensor(picked, dtype=torch.long, device=device)
    return torch.tensor(picked, dtype=torch.float32, device=device)


def look_up_once(model: nn.Module, chunks: list[dict[str, Tensor]]) -> None:
    """Look up the token vectors of every chunk in one pass, and hand each chunk its share (``inputs_embeds``).

    The word-embedding matrix (30,522 x 384 for MiniLM) gets a dense gradient: each lookup's backward
    fills a zero matrix of its size and adds it into ``.grad``. Looked up chunk by chunk, a step pays
    that once per chunk (19% of a brief CPU step in a profile); looked up once, once per step. The
    sum is the same (each token's row gets the same gradient). Only for models that can take the
    vectors (lossbook's ``EmbeddingModel.token_vectors``); a ``SentenceTransformer`` looks up per chunk.
    """
    if len(chunks) < 2 or not hasattr(model, "token_vectors"):
        return
    ids = [features["input_ids"] for features in chunks]
    vectors = model.token_vectors(torch.cat([chunk_ids.flatten() for chunk_ids in ids]))  # (tokens, D)
    for features, chunk_ids, chunk_vectors in zip(chunks, ids, vectors.split([i.numel() for i in ids])):
        features["inputs_embeds"] = chunk_vectors.view(*chunk_ids.shape, -1)  # (rows, width, D)


def chunk_overhead_tokens(device: torch.device) -> int:
    """The fixed cost of one more forward pass, in tokens' worth of compute, for ``length_sorted_chunks``.

    Measured with all-MiniLM-L6-v2 on a 2-core CPU (forward + backward, batches of 32 rows): 32 to 256
    all beat padding per column by 1.9-2.2x on qa-pairs, 128 was best on STS-B. A GPU computes a few
    thousand tokens in the time it launches one more pass (CUDA, MPS), so there the chunks stay large.
    """
    return 128 if device.type == "cpu" else 4096


def length_sorted_chunks(lengths: list[int], overhead_tokens: int) -> list[tuple[int, int]]:
    """Cut texts sorted by length (ascending) into chunks ``[start, end)`` that cost the least.

    A chunk costs ``overhead_tokens`` plus its rows times its longest text: the tokens it computes,
    padding included. Cutting between two texts of the same length saves no padding, so the cuts are
    searched only where the length changes: dynamic programming over at most ``max_seq_length``
    distinct lengths finds the cheapest split exactly, whatever the batch size.
    """
    # Where each run of equal lengths starts, and the end of the last one.
    bounds = [i for i in range(len(lengths)) if i == 0 or lengths[i] != lengths[i - 1]] + [len(lengths)]
    best = [0] + [None] * (len(bounds) - 1)  # best[k]: cheapest cost of the texts before bounds[k]
    cut = [0] * len(bounds)  # cut[k]: the bound where the last chunk of that solution starts
    for k in range(1, len(bounds)):
        end = bounds[k]
        longest = lengths[end - 1]  # sorted: the last text of a chunk is its longest
        for j in range(k):
            cost = best[j] + overhead_tokens + (end - bounds[j]) * longest
            if best[k] is None or cost < best[k]:
                best[k], cut[k] = cost, j
    chunks, k = [], len(bounds) - 1
    while k > 0:
        chunks.append((bounds[cut[k]], bounds[k]))
        k = cut[k]
    return chunks[::-1]


def embed_columns_sorted(
    model: nn.Module,
    columns: list[list[list[int]]],
    pad_id: int,
    device: torch.device,
    overhead_tokens: int | None = None,
) -> list[Tensor]:
    """Embed every text of a step in length-sorted chunks (``length_sorted_chunks``); one tensor per column."""
    flat = [(len(ids), column, row, ids) for column, rows in enumerate(columns) for row, ids in enumerate(rows)]
    order = sorted(range(len(flat)), key=lambda i: flat[i][0])
    if overhead_tokens is None:
        overhead_tokens = chunk_overhead_tokens(device)
    chunks = [
        padded_features([flat[i][3] for i in order[start:end]], pad_id, device)
        for start, end in length_sorted_chunks([flat[i][0] for i in order], overhead_tokens)
    ]
    look_up_once(model, chunks)
    pieces = [model(features)["sentence_embedding"] for features in chunks]
    stacked = torch.cat(pieces)
    # Position of every (column, row) in the sorted order, to put the vectors back where they belong.
    where = torch.empty(len(flat), dtype=torch.long, device=stacked.device)
    where[torch.tensor(order, device=stacked.device)] = torch.arange(len(flat), device=stacked.device)
    result, offset = [], 0
    for rows in columns:
        result.append(stacked[where[offset : offset + len(rows)]])
        offset += len(rows)
    return result
