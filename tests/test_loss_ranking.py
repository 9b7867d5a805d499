"""MultipleNegativesRankingLoss, its symmetric variant, MegaBatchMarginLoss and the similarity functions.

Hand-computed loops on points at known angles, parity with sentence-transformers (slow), bad input,
the tiny model training, and gathering across processes (a no-op alone; a 2-process gloo group, slow).
"""

import math
import warnings

import numpy as np
import pytest
import torch
from batches import ANCHORS, NEGATIVES_1, NEGATIVES_2, POSITIVES, assert_parity, make_features

from lossbook.losses.base import EmbeddingPath, LossInputError
from lossbook.losses.mega_batch import MegaBatchMarginLoss
from lossbook.losses.ranking import MultipleNegativesRankingLoss, MultipleNegativesSymmetricRankingLoss
from lossbook.similarity import cos_sim, dot_score, pairwise_cos_sim, pairwise_dot_score
from lossbook.teaching import unit  # a 2-D point at an angle in degrees (and a length)

ALL_DIRECTIONS = ("query_to_doc", "query_to_query", "doc_to_query", "doc_to_doc")


@pytest.fixture(autouse=True)
def _one_thread():
    """The tiny model's ops are too small to gain from threads; on a shared CPU a second thread only waits."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# Three rows; radii differ from 1 so that the cosine's normalisation matters.
QUERIES = [unit(0, 2.0), unit(90), unit(200, 0.5)]
POSITIVE_POINTS = [unit(20), unit(110, 3.0), unit(170)]
NEGATIVE_POINTS = [unit(60), unit(250, 2.0), unit(300)]


def cos(u, v):
    return sum(a * b for a, b in zip(u, v)) / (math.hypot(*u) * math.hypot(*v))


def logsumexp(values):
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def ranking_loop(queries, doc_columns, scale, directions, partition_mode, hardness_mode=None, alpha=0.0):
    """The docstring's formula, one anchor at a time."""
    batch = len(queries)
    docs = [d for column in doc_columns for d in column]  # positives first, then each negative column
    positives = doc_columns[0]
    total = 0.0
    for i in range(batch):
        own = {i + batch * c for c in range(len(doc_columns))}
        query_to_doc = []
        for j, doc in enumerate(docs):
            s = cos(queries[i], doc)
            penalised = {
                None: False,
                "in_batch_negatives": j not in own,
                "hard_negatives": j in own and j >= batch,
                "all_negatives": j != i,
            }[hardness_mode]
            query_to_doc.append(scale * s + (alpha * s if penalised else 0.0))
        blocks = [query_to_doc]
        if "query_to_query" in directions:
            blocks.append([scale * cos(queries[i], queries[j]) for j in range(batch) if j != i])
        if "doc_to_query" in directions:
            blocks.append([scale * cos(queries[j], positives[i]) for j in range(batch)])
        if "doc_to_doc" in directions:
            blocks.append([scale * cos(positives[i], doc) for j, doc in enumerate(docs) if j not in own])
        if partition_mode == "joint":
            log_partition = logsumexp([x for block in blocks for x in block])
        else:
            log_partition = sum(logsumexp(block) for block in blocks) / len(blocks)
        total += log_partition - query_to_doc[i]
    return total / batch


CONFIGS = [
    dict(),
    dict(scale=5.0),
    dict(scale=5.0, directions=("query_to_doc", "doc_to_query"), partition_mode="per_direction"),
    dict(scale=5.0, directions=("query_to_doc", "doc_to_query")),
    dict(scale=5.0, directions=("query_to_doc", "query_to_query")),
    dict(scale=5.0, directions=("query_to_doc", "doc_to_doc")),
    dict(scale=5.0, directions=ALL_DIRECTIONS),
    dict(scale=5.0, hardness_mode="in_batch_negatives", hardness_strength=9.0),
    dict(scale=5.0, hardness_mode="hard_negatives", hardness_strength=5.0),
    dict(scale=5.0, hardness_mode="all_negatives", hardness_strength=2.0),
    dict(scale=5.0, directions=ALL_DIRECTIONS, hardness_mode="all_negatives", hardness_strength=2.0),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("n_negative_columns", [0, 1, 2])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_mnrl_matches_explicit_loop(config, n_negative_columns, dtype):
    columns = [QUERIES, POSITIVE_POINTS] + [NEGATIVE_POINTS, [unit(a) for a in (10, 135, 225)]][:n_negative_columns]
    expected = ranking_loop(
        columns[0],
        columns[1:],
        config.get("scale", 20.0),
        config.get("directions", ("query_to_doc",)),
        config.get("partition_mode", "joint"),
        config.get("hardness_mode"),
        config.get("hardness_strength", 0.0),
    )
    embeddings = [torch.tensor(column, dtype=dtype) for column in columns]
    value = MultipleNegativesRankingLoss(None, **config).compute_loss_from_embeddings(embeddings, None)
    assert value.dtype == dtype
    tolerance = dict(rel=1e-5, abs=1e-6) if dtype == torch.float32 else dict(rel=1e-12, abs=1e-15)
    assert value.item() == pytest.approx(expected, **tolerance)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_mnrl_with_dot_products_matches_explicit_loop(dtype):
    """similarity_fct=dot_score, scale=1: plain cross-entropy over dot products (the radii now matter)."""
    docs = POSITIVE_POINTS + NEGATIVE_POINTS
    expected = 0.0
    for i, query in enumerate(QUERIES):
        logits = [sum(a * b for a, b in zip(query, doc)) for doc in docs]
        expected += (logsumexp(logits) - logits[i]) / len(QUERIES)
    embeddings = [torch.tensor(c, dtype=dtype) for c in (QUERIES, POSITIVE_POINTS, NEGATIVE_POINTS)]
    value = MultipleNegativesRankingLoss(None, scale=1.0, similarity_fct=dot_score).compute_loss_from_embeddings(
        embeddings, None
    )
    assert value.item() == pytest.approx(expected, rel=1e-5)


def test_symmetric_loss_is_mnrl_both_ways_and_uses_negatives():
    columns = [torch.tensor(QUERIES), torch.tensor(POSITIVE_POINTS), torch.tensor(NEGATIVE_POINTS)]
    with pytest.warns(DeprecationWarning, match="deprecated"):
        symmetric = MultipleNegativesSymmetricRankingLoss(None, scale=5.0)
    both_ways = MultipleNegativesRankingLoss(
        None, scale=5.0, directions=("query_to_doc", "doc_to_query"), partition_mode="per_direction"
    )
    expected = ranking_loop(
        QUERIES, [POSITIVE_POINTS, NEGATIVE_POINTS], 5.0, ("query_to_doc", "doc_to_query"), "per_direction"
    )
    assert symmetric.compute_loss_from_embeddings(columns, None).item() == pytest.approx(expected, rel=1e-5)
    assert both_ways.compute_loss_from_embeddings(columns, None).item() == pytest.approx(expected, rel=1e-5)
    # Despite the reference docstring, the negative column changes the value.
    assert symmetric.compute_loss_from_embeddings(columns[:2], None).item() != pytest.approx(expected, rel=1e-3)
    assert "2310.19923" in symmetric.citation


def megabatch_loop(anchors, positives, positive_margin, negative_margin):
    total = 0.0
    for i, anchor in enumerate(anchors):
        hardest = max(cos(anchor, p) for j, p in enumerate(positives) if j != i)
        total += max(0.0, positive_margin - cos(anchor, positives[i])) + max(0.0, hardest - negative_margin)
    return total / len(anchors)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("margins", [(0.8, 0.3), (0.5, -0.5), (1.0, 0.9)])
def test_megabatch_margin_matches_explicit_loop(margins, dtype):
    expected = megabatch_loop(QUERIES, POSITIVE_POINTS, *margins)
    loss = MegaBatchMarginLoss(None, *margins)
    embeddings = [torch.tensor(QUERIES, dtype=dtype), torch.tensor(POSITIVE_POINTS, dtype=dtype)]
    value = loss.compute_loss_from_embeddings(embeddings, None)
    assert value.dtype == dtype
    assert value.item() == pytest.approx(expected, rel=1e-5, abs=1e-7)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_similarity_functions_on_known_angles(dtype):
    a = torch.tensor([unit(0, 2.0), unit(90)], dtype=dtype)
    b = torch.tensor([unit(60), unit(180, 3.0), unit(90, 0.5)], dtype=dtype)
    expected_cos = [[cos(u, v) for v in b.tolist()] for u in a.tolist()]
    expected_dot = [[sum(x * y for x, y in zip(u, v)) for v in b.tolist()] for u in a.tolist()]
    assert cos_sim(a, b).dtype == dtype
    np.testing.assert_allclose(cos_sim(a, b).numpy(), expected_cos, atol=1e-6)
    np.testing.assert_allclose(dot_score(a, b).numpy(), expected_dot, atol=1e-5)
    np.testing.assert_allclose(pairwise_cos_sim(a, b[:2]).numpy(), [expected_cos[0][0], expected_cos[1][1]], atol=1e-6)
    np.testing.assert_allclose(
        pairwise_dot_score(a, b[:2]).numpy(), [expected_dot[0][0], expected_dot[1][1]], atol=1e-5
    )
    # Lists, numpy arrays, single vectors and half precision are accepted, like sentence-transformers' util.
    assert cos_sim(unit(0), [unit(90), unit(0)]).shape == (1, 2)
    assert cos_sim(np.array([unit(0)]), np.array([unit(0)])).item() == pytest.approx(1.0)
    assert cos_sim(a.half(), b.half()).dtype == torch.float32


def test_config_temperature_and_citation():
    loss = MultipleNegativesRankingLoss(None, scale=50.0)
    assert loss.temperature == pytest.approx(0.02)
    assert loss.get_config_dict() == {
        "scale": 50.0,
        "similarity_fct": "cos_sim",
        "gather_across_devices": False,
        "directions": ("query_to_doc",),
        "partition_mode": "joint",
        "hardness_mode": None,
        "hardness_strength": 0.0,
    }
    assert (
        MultipleNegativesRankingLoss(None, similarity_fct=dot_score).get_config_dict()["similarity_fct"] == "dot_score"
    )
    assert "1807.03748" in loss.citation
    assert "2308.03281" in MultipleNegativesRankingLoss(None, directions=ALL_DIRECTIONS).citation
    symmetric = MultipleNegativesRankingLoss(
        None, directions=("query_to_doc", "doc_to_query"), partition_mode="per_direction"
    )
    assert "2310.19923" in symmetric.citation
    assert "1807.03748" in MultipleNegativesRankingLoss(None, directions=("query_to_doc", "doc_to_query")).citation
    mega = MegaBatchMarginLoss(None)
    assert mega.get_config_dict() == {
        "positive_margin": 0.8,
        "negative_margin": 0.3,
        "mini_batch_size": 50,
        "mini_batch_num_tokens": None,
    }
    assert "P18-1042" in mega.citation and mega.embedding_path is EmbeddingPath.GRADIENT_CACHE
    assert MegaBatchMarginLoss(None, use_mini_batched_version=False).embedding_path is EmbeddingPath.GIVEN
    assert [f.key for f in MultipleNegativesRankingLoss.formats] == ["pair", "triplet", "n-tuple"]
    assert [f.key for f in MultipleNegativesRankingLoss.commonly_used] == ["pair", "triplet"]
    assert [f.key for f in MegaBatchMarginLoss.formats] == ["pair"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(directions=("query_to_doc", "doc_to_everything")), "Unknown direction"),
        (dict(directions=("doc_to_query",)), "must include 'query_to_doc'"),
        (dict(directions=()), "at least one direction"),
        (dict(partition_mode="separate"), "partition_mode must be one of"),
        (dict(hardness_mode="hardest"), "hardness_mode must be one of"),
        (dict(directions=("query_to_doc", "query_to_query"), partition_mode="per_direction"), "per_direction"),
        (dict(directions=("query_to_doc", "doc_to_doc"), partition_mode="per_direction"), "per_direction"),
        (dict(scale=0.0), "scale must be positive"),
        (dict(hardness_mode="all_negatives", hardness_strength=-1.0), "non-negative"),
    ],
)
def test_bad_configuration_is_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MultipleNegativesRankingLoss(None, **kwargs)


def test_bad_input_names_the_format():
    loss = MultipleNegativesRankingLoss(None)
    x = torch.randn(3, 4)
    with pytest.raises(
        LossInputError,
        match=r"expects 2 or more input column.*\(anchor, positive\) pairs.*got 1.*sentences_to_anchor_pairs",
    ):
        loss.compute_loss_from_embeddings([x], None)
    with pytest.raises(LossInputError, match="at least 2 rows.*got 1"):
        loss.compute_loss_from_embeddings([x[:1], x[:1]], None)
    with pytest.raises(LossInputError, match=r"same number of rows, got \[3, 2\]"):
        loss.compute_loss_from_embeddings([x, x[:2]], None)
    # A single row with a hard negative still has something to rank against (as in the reference).
    assert torch.isfinite(loss.compute_loss_from_embeddings([x[:1], x[1:2], x[2:]], None))
    mega = MegaBatchMarginLoss(None)
    with pytest.raises(LossInputError, match=r"expects 2 input columns.*got 3.*triplets_to_pairs"):
        mega.compute_loss_from_embeddings([x, x, x], None)
    with pytest.raises(LossInputError, match="at least 2 rows"):
        mega.compute_loss_from_embeddings([x[:1], x[:1]], None)


def test_gather_is_a_no_op_without_a_process_group():
    assert not torch.distributed.is_initialized()
    embeddings = [torch.tensor(c) for c in (QUERIES, POSITIVE_POINTS, NEGATIVE_POINTS)]
    for directions in [("query_to_doc",), ALL_DIRECTIONS]:
        gathered = MultipleNegativesRankingLoss(None, gather_across_devices=True, directions=directions)
        local = MultipleNegativesRankingLoss(None, directions=directions)
        assert gathered.compute_loss_from_embeddings(embeddings, None).item() == pytest.approx(
            local.compute_loss_from_embeddings(embeddings, None).item(), abs=0
        )


@pytest.mark.parametrize(
    "make_loss",
    [
        lambda m: MultipleNegativesRankingLoss(m),
        lambda m: MultipleNegativesRankingLoss(
            m, directions=ALL_DIRECTIONS, hardness_mode="in_batch_negatives", hardness_strength=9.0
        ),
        lambda m: MegaBatchMarginLoss(m, mini_batch_size=2),
        lambda m: MegaBatchMarginLoss(m, use_mini_batched_version=False),
    ],
    ids=["mnrl", "mnrl-gte-hardness", "megabatch-cached", "megabatch-plain"],
)
def test_trains_the_tiny_model(tiny, make_loss):
    loss = make_loss(tiny)
    columns = [ANCHORS, POSITIVES] if isinstance(loss, MegaBatchMarginLoss) else [ANCHORS, POSITIVES, NEGATIVES_1]
    value = loss(make_features(tiny, *columns), None)
    value.backward()
    assert torch.isfinite(value) and value.item() > 0
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in tiny.transformer.parameters())


# -- parity with sentence-transformers (REFERENCE-LOSSES.md §6) -----------------------------------------------------
MNRL_ORACLE = [
    ([ANCHORS, POSITIVES], {}, 0.12928486),
    ([ANCHORS, POSITIVES, NEGATIVES_1], {}, 1.09442830),
    ([ANCHORS, POSITIVES, NEGATIVES_1, NEGATIVES_2], {}, 1.09567881),
    ([ANCHORS, POSITIVES, NEGATIVES_1], dict(scale=50.0), 2.24299002),
    (
        [ANCHORS, POSITIVES],
        dict(directions=("query_to_doc", "doc_to_query"), partition_mode="per_direction"),
        0.15201640,
    ),
    (
        [ANCHORS, POSITIVES, NEGATIVES_1],
        dict(directions=("query_to_doc", "doc_to_query"), partition_mode="per_direction"),
        0.63458848,
    ),
    ([ANCHORS, POSITIVES, NEGATIVES_1], dict(directions=ALL_DIRECTIONS), 1.56529450),
    ([ANCHORS, POSITIVES, NEGATIVES_1], dict(hardness_mode="in_batch_negatives", hardness_strength=9.0), 2.96561027),
    ([ANCHORS, POSITIVES, NEGATIVES_1], dict(hardness_mode="hard_negatives", hardness_strength=5.0), 2.32807899),
    ([ANCHORS, POSITIVES, NEGATIVES_1], dict(hardness_mode="all_negatives", hardness_strength=3.0), None),
]


@pytest.mark.slow
@pytest.mark.parametrize("columns, kwargs, expected", MNRL_ORACLE)
def test_mnrl_parity_with_sentence_transformers(minilm, st_model, columns, kwargs, expected):
    from sentence_transformers.sentence_transformer import losses as st_losses

    ours = assert_parity(
        MultipleNegativesRankingLoss(minilm, **kwargs),
        st_losses.MultipleNegativesRankingLoss(st_model, **kwargs),
        minilm,
        st_model,
        columns,
        None,
        expected=expected,
    )
    # Negative control: shuffled positives give another value.
    shuffled = [columns[0], columns[1][1:] + columns[1][:1], *columns[2:]]
    with torch.no_grad():
        other = MultipleNegativesRankingLoss(minilm, **kwargs)(make_features(minilm, *shuffled), None)
    assert abs(other.item() - ours) > 1e-2


@pytest.mark.slow
@pytest.mark.parametrize(
    "columns, expected", [([ANCHORS, POSITIVES], 0.15201640), ([ANCHORS, POSITIVES, NEGATIVES_1], 0.63458848)]
)
def test_symmetric_parity_with_sentence_transformers(minilm, st_model, columns, expected):
    from sentence_transformers.sentence_transformer import losses as st_losses

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ours, reference = (
            MultipleNegativesSymmetricRankingLoss(minilm),
            st_losses.MultipleNegativesSymmetricRankingLoss(st_model),
        )
    value = assert_parity(ours, reference, minilm, st_model, columns, None, expected=expected)
    with torch.no_grad():
        other = ours(make_features(minilm, columns[0], columns[1][::-1], *columns[2:]), None)
    assert abs(other.item() - value) > 1e-2


@pytest.mark.slow
@pytest.mark.parametrize("mini_batched, expected", [(True, 0.28810024), (False, 0.28810027)])
def test_megabatch_parity_with_sentence_transformers(minilm, st_model, mini_batched, expected):
    from sentence_transformers.sentence_transformer import losses as st_losses

    kwargs = dict(use_mini_batched_version=mini_batched, mini_batch_size=2)
    value = assert_parity(
        MegaBatchMarginLoss(minilm, **kwargs),
        st_losses.MegaBatchMarginLoss(st_model, **kwargs),
        minilm,
        st_model,
        [ANCHORS, POSITIVES],
        None,
        expected=expected,
    )
    with torch.no_grad():
        other = MegaBatchMarginLoss(minilm, **kwargs)(make_features(minilm, ANCHORS, NEGATIVES_1), None)
    assert abs(other.item() - value) > 1e-2


@pytest.mark.slow
def test_our_losses_run_on_a_sentence_transformer(st_model):
    """The model may be a SentenceTransformer: same value and gradients as the reference on it."""
    from sentence_transformers.sentence_transformer import losses as st_losses

    columns = [ANCHORS, POSITIVES, NEGATIVES_1]
    assert_parity(
        MultipleNegativesRankingLoss(st_model),
        st_losses.MultipleNegativesRankingLoss(st_model),
        st_model,
        st_model,
        columns,
        None,
        expected=1.09442830,
    )


# -- gathering across processes ---------------------------------------------------------------------------------------
def _gather_worker(rank, world_size, init_file, out_dir):
    """One process of a 2-process gloo group: each owns half the batch and gathers the other half."""
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world_size)
    try:
        full = _distributed_batch()
        half = full[0].shape[0] // world_size
        results = {}
        for name, make in _DISTRIBUTED_CASES.items():
            local = [x[rank * half : (rank + 1) * half].clone().requires_grad_() for x in full]
            loss = make()
            if name == "cmnrl":
                value = loss.backward_on_embeddings(local, None)
            elif name == "gist":
                value = loss.compute_loss_from_embeddings(
                    local, None, guide_embeddings=[x.detach() * 1.0 for x in local]
                )
                value.backward()
            else:
                value = loss.compute_loss_from_embeddings(local, None)
                value.backward()
            results[name] = (value.detach(), [x.grad for x in local])
        torch.save(results, f"{out_dir}/rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def _distributed_batch():
    generator = torch.Generator().manual_seed(0)
    return [torch.randn(6, 5, generator=generator, dtype=torch.float64) for _ in range(3)]


def _make_cmnrl():
    from lossbook.losses.cached_ranking import CachedMultipleNegativesRankingLoss

    return CachedMultipleNegativesRankingLoss(
        None, scale=5.0, mini_batch_size=2, gather_across_devices=True, directions=ALL_DIRECTIONS
    )


def _make_gist():
    from lossbook.losses.gist import GISTEmbedLoss

    return GISTEmbedLoss(None, None, temperature=0.5, margin=0.3, contrast_anchors=False, gather_across_devices=True)


_DISTRIBUTED_CASES = {
    "mnrl": lambda: MultipleNegativesRankingLoss(None, scale=5.0, gather_across_devices=True),
    "gte": lambda: MultipleNegativesRankingLoss(None, scale=5.0, gather_across_devices=True, directions=ALL_DIRECTIONS),
    "cmnrl": _make_cmnrl,
    "gist": _make_gist,
}


@pytest.mark.slow
def test_gather_across_two_processes_equals_one_big_batch(tmp_path):
    """Rank r's loss = the full-batch row losses of its rows;
    its gradient = d(sum of both ranks' losses)/d(its rows)."""
    import torch.multiprocessing as mp

    mp.spawn(_gather_worker, args=(2, str(tmp_path / "init"), str(tmp_path)), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    full = _distributed_batch()
    for name, make in _DISTRIBUTED_CASES.items():
        leaves = [x.clone().requires_grad_() for x in full]
        loss = make()
        loss.gather_across_devices = False
        if name in ("gist",):
            per_row = loss.guided_row_losses(leaves, [x.detach() for x in leaves], 0, 6)
        else:
            per_row = loss.row_losses(leaves[0], leaves[1:], torch.arange(6))
        expected = [per_row[:3].mean(), per_row[3:].mean()]
        (expected[0] + expected[1]).backward()
        for rank, (value, grads) in enumerate(ranks[i][name] for i in range(2)):
            assert value.item() == pytest.approx(expected[rank].item(), rel=1e-10), name
            for grad, leaf in zip(grads, leaves):
                torch.testing.assert_close(grad, leaf.grad[rank * 3 : (rank + 1) * 3], rtol=1e-9, atol=1e-12)
