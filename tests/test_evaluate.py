"""lossbook.evaluate: every metric on hand-computed cases, the dims x layers grid, dispatch, bad input, real models."""

from __future__ import annotations

import math

import numpy as np
import pytest
from mirror import HAS_MIRROR, MIRROR

from lossbook.data import RetrievalSet, load_dataset, load_retrieval
from lossbook.evaluate import (
    BinaryResult,
    ClassificationResult,
    EvaluationWarning,
    Grid,
    RetrievalResult,
    STSResult,
    TripletResult,
    average_precision,
    binary_metrics,
    evaluate,
    evaluate_binary,
    evaluate_classification,
    evaluate_grid,
    evaluate_retrieval,
    evaluate_sts,
    evaluate_triplets,
    sts_metrics,
)
from lossbook.similarity import cos_sim, cos_sim_np, pairwise_cos_sim, pairwise_cos_sim_np
from lossbook.teaching import unit_with_cosine


class FakeModel:
    """encode() looks vectors up in a dict (one dict per layer), truncates to ``dim`` and normalises, like
    EmbeddingModel."""

    def __init__(self, vectors: dict[str, list[float]] | dict[int, dict[str, list[float]]]):
        first = next(iter(vectors.values()))
        self.by_layer = vectors if isinstance(first, dict) else {1: vectors}
        self.num_layers = max(self.by_layer)
        self.embedding_dim = len(next(iter(self.by_layer[self.num_layers].values())))
        self.calls: list[tuple[int, int | None]] = []  # (number of texts, layer) per encode call

    def encode(self, texts, batch_size=32, *, dim=None, layer=None, normalize=True, convert_to_numpy=False, **_):
        self.calls.append((len(texts), layer))
        table = self.by_layer[self.num_layers if layer is None else layer]
        out = np.array([table[text] for text in texts], dtype=np.float32)[:, :dim]
        return out / np.linalg.norm(out, axis=1, keepdims=True) if normalize else out


def pairs_with_cosines(cosines, labels, label_name="label"):
    """Pairs (x_i, ref) whose cosine similarity is cosines[i], and the model that embeds them."""
    model = FakeModel({"ref": [1.0, 0.0], **{f"x{i}": unit_with_cosine(c) for i, c in enumerate(cosines)}})
    data = {
        "sentence1": [f"x{i}" for i in range(len(cosines))],
        "sentence2": ["ref"] * len(cosines),
        label_name: labels,
    }
    return model, data


# -- STS -----------------------------------------------------------------------------------------
def test_sts_spearman_and_pearson_by_hand():
    cosines, gold = [1.0, 0.0, 0.7, 0.8], [0.9, 0.1, 0.6, 0.3]
    model, data = pairs_with_cosines(cosines, gold, "score")
    result = evaluate_sts(model, data)
    # Ranks: cosine 4 1 2 3, gold 4 1 3 2 -> d^2 = 0 + 0 + 1 + 1 -> rho = 1 - 6 * 2 / (4 * 15) = 0.8.
    assert isinstance(result, STSResult) and result.primary == "spearman" and result.n == 4
    assert result.spearman == pytest.approx(0.8)
    x, y = np.array(cosines) - np.mean(cosines), np.array(gold) - np.mean(gold)
    assert result.pearson == pytest.approx(np.sum(x * y) / math.sqrt(np.sum(x**2) * np.sum(y**2)))
    assert result.score == result["spearman"] == result.spearman
    assert "spearman=80.00%" in repr(result) and "n=4" in repr(result)


def test_sts_constant_gold_warns_and_returns_nan():
    model, data = pairs_with_cosines([0.1, 0.5, 0.9], [0.5, 0.5, 0.5], "score")
    with pytest.warns(EvaluationWarning, match="Every gold score is 0.5"):
        result = evaluate_sts(model, data)
    assert math.isnan(result.spearman) and math.isnan(result.pearson)


def test_sts_constant_predictions_warn_too():
    with pytest.warns(EvaluationWarning, match="predicted cosine"):
        result = sts_metrics(np.ones((3, 2)), np.ones((3, 2)), [0.1, 0.2, 0.3])
    assert math.isnan(result.spearman)


# -- binary pairs --------------------------------------------------------------------------------
def test_average_precision_by_hand():
    # Positives at ranks 1, 3, 5: AP = (1/1 + 2/3 + 3/5) / 3.
    assert average_precision([0.9, 0.8, 0.7, 0.6, 0.5], [1, 0, 1, 0, 1]) == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)
    # A tie is one threshold: at 0.9 P = 1/2, R = 1/2; at 0.5 P = 2/3, R = 1 -> 0.5 * 1/2 + 0.5 * 2/3.
    assert average_precision([0.9, 0.9, 0.5], [0, 1, 1]) == pytest.approx(0.5 * 0.5 + 0.5 * 2 / 3)
    assert average_precision([0.2, 0.1], [1, 1]) == 1.0
    with pytest.warns(EvaluationWarning, match="No positive"):
        assert math.isnan(average_precision([0.2, 0.1], [0, 0]))


def average_precision_by_loop(scores, labels) -> float:
    """The definition, one distinct threshold at a time: sum over thresholds of (R_n - R_{n-1}) * P_n."""
    total, previous_recall, positives = 0.0, 0.0, sum(labels)
    for threshold in sorted(set(scores), reverse=True):
        kept = [label for score, label in zip(scores, labels) if score >= threshold]
        recall, precision = sum(kept) / positives, sum(kept) / len(kept)
        total += (recall - previous_recall) * precision
        previous_recall = recall
    return total


def best_f1_by_loop(scores, labels):
    """Every cut between distinct scores, highest first; the first best F1 wins (as sentence-transformers)."""
    best, positives, distinct = None, sum(labels), sorted(set(scores), reverse=True)
    for i, threshold in enumerate(distinct):
        kept = [label for score, label in zip(scores, labels) if score >= threshold]
        precision, recall = sum(kept) / len(kept), sum(kept) / positives
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        cut = (threshold + distinct[i + 1]) / 2 if i + 1 < len(distinct) else threshold
        if best is None or f1 > best[0]:
            best = (f1, precision, recall, cut)
    return best


def test_average_precision_and_best_f1_equal_explicit_loops_with_ties():
    rng = np.random.default_rng(0)
    for _ in range(20):
        scores = list(rng.integers(0, 6, size=40) / 5.0)  # many ties
        labels = [int(v) for v in rng.integers(0, 2, size=40)]
        labels[0] = 1
        assert average_precision(scores, labels) == pytest.approx(average_precision_by_loop(scores, labels), rel=1e-12)
        result = binary_metrics(
            np.array([[1.0, 0.0]] * 40), np.array([[s, (1 - s * s) ** 0.5] for s in scores]), labels
        )
        assert (result.f1, result.precision, result.recall, result.threshold) == pytest.approx(
            best_f1_by_loop(scores, labels), rel=1e-9
        )


def test_binary_f1_threshold_and_accuracy_by_hand():
    model, data = pairs_with_cosines([0.9, 0.8, 0.7, 0.6, 0.5], [1, 0, 1, 0, 1])
    result = evaluate_binary(model, data)
    assert isinstance(result, BinaryResult) and result.primary == "ap"
    assert result.ap == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)
    # F1 per cut: 1/2, 2/5, 2/3, 4/7, 3/4 -> everything matches: P = 3/5, R = 1, threshold = the lowest score.
    assert (result.f1, result.precision, result.recall) == pytest.approx((0.75, 0.6, 1.0))
    assert result.threshold == pytest.approx(0.5)
    # Accuracy: none 2/5, then 3/5, 2/5, 3/5, 2/5, 3/5: the first 3/5 is between 0.9 and 0.8.
    assert result.accuracy == pytest.approx(0.6) and result.accuracy_threshold == pytest.approx(0.85)
    assert "threshold=0.5000" in repr(result)


def test_binary_accuracy_keeps_all_negative_threshold_when_nothing_beats_it():
    # Accuracy: none 2/3, then 1/3, 0, 1/3: predicting "no match" everywhere is best (threshold above 0.9).
    model, data = pairs_with_cosines([0.9, 0.8, 0.1], [0, 0, 1])
    result = evaluate_binary(model, data)
    assert result.accuracy == pytest.approx(2 / 3) and result.accuracy_threshold == pytest.approx(0.9, abs=1e-6)
    assert result.ap == pytest.approx(1 / 3) and result.f1 == pytest.approx(0.5)  # P = 1/3, R = 1


def test_binary_metrics_on_embeddings_warn_on_one_class():
    with pytest.warns(EvaluationWarning, match="Every label is 1"):
        result = binary_metrics(np.eye(2), np.eye(2), [1, 1])
    assert result.ap == 1.0 and result.f1 == 1.0


def test_binary_matches_sentence_transformers_threshold_search():
    st_eval = pytest.importorskip("sentence_transformers.sentence_transformer.evaluation.binary_classification")
    finder = st_eval.BinaryClassificationEvaluator
    rng = np.random.default_rng(1)
    cosines = np.round(rng.uniform(-0.2, 0.95, size=60), 2)  # ties included
    labels = rng.integers(0, 2, size=60)
    model, data = pairs_with_cosines(list(cosines), list(labels))
    result = evaluate_binary(model, data)
    scores = np.asarray(cosines)
    f1, precision, recall, threshold = finder.find_best_f1_and_threshold(scores, labels, True)
    accuracy, accuracy_threshold = finder.find_best_acc_and_threshold(scores, labels, True)
    assert (result.f1, result.precision, result.recall) == pytest.approx((f1, precision, recall))
    assert result.threshold == pytest.approx(threshold, abs=1e-6)
    assert result.accuracy == pytest.approx(accuracy)
    assert result.accuracy_threshold == pytest.approx(accuracy_threshold, abs=1e-6)


def test_binary_rejects_labels_that_are_not_0_1():
    model, data = pairs_with_cosines([0.9, 0.1], [0, 2])
    with pytest.raises(ValueError, match="labels 0 .* or 1"):
        evaluate_binary(model, data)


# -- triplets ------------------------------------------------------------------------------------
def test_triplet_accuracy_by_hand_ties_count_as_wrong():
    model = FakeModel(
        {"a": [1.0, 0.0], "near": unit_with_cosine(0.9), "far": unit_with_cosine(0.1), "same": unit_with_cosine(0.9)}
    )
    data = {"anchor": ["a", "a", "a"], "positive": ["near", "far", "near"], "negative": ["far", "near", "same"]}
    result = evaluate_triplets(model, data)
    assert isinstance(result, TripletResult) and result.primary == "accuracy"
    assert result.accuracy == pytest.approx(1 / 3) and result.n == 3


# -- k-NN classification -------------------------------------------------------------------------
def test_knn_majority_vote_and_tie_to_the_nearest():
    model = FakeModel(
        {
            "t1": unit_with_cosine(0.95),
            "t2": unit_with_cosine(0.9),
            "t3": unit_with_cosine(0.85),
            "t4": unit_with_cosine(0.0),
            "t5": [-1.0, 0.0],
            "q_near": [1.0, 0.0],
            "q_far": [-1.0, 0.1],
        }
    )
    train = {"sentence": ["t1", "t2", "t3", "t4", "t5"], "label": ["a", "b", "b", "c", "c"]}
    # q_near: 3 nearest t1 (a), t2 (b), t3 (b) -> b. q_far: t5 (c), t4 (c), t3 (b) -> c.
    test = {"sentence": ["q_near", "q_far"], "label": ["b", "c"]}
    result = evaluate_classification(model, train, test, k=3)
    assert isinstance(result, ClassificationResult) and result.accuracy == 1.0 and result.k == 3
    # k = 2: q_near sees a (nearest), b -> a 1:1 tie goes to the nearest, "a"; gold "b" -> wrong.
    assert evaluate_classification(model, train, test, k=2).accuracy == 0.5
    assert evaluate_classification(model, train, {"sentence": ["q_near"], "label": ["a"]}, k=2).accuracy == 1.0
    with pytest.raises(ValueError, match=r"k must be an int in 1\.\.5"):
        evaluate_classification(model, train, test, k=6)


# -- retrieval -----------------------------------------------------------------------------------
def _retrieval_case():
    z = lambda x, y: [x, y, math.sqrt(1 - x * x - y * y)]  # noqa: E731
    model = FakeModel(
        {
            "q1": [1.0, 0.0, 0.0],
            "q2": [0.0, 1.0, 0.0],
            "q3": [0.0, 0.0, 1.0],
            "d1": z(0.7, 0.7),
            "d2": z(0.6, 0.0),
            "d3": z(0.5, 0.3),
            "d4": z(0.1, 0.5),
        }
    )
    # q1 ranks d1 d2 d3 d4; q2 ranks d1 d4 d3 d2. q3 has no relevant passage and is skipped.
    rs = RetrievalSet(
        queries={"Q1": "q1", "Q2": "q2", "Q3": "q3"},
        corpus={f"P{i}": f"d{i}" for i in range(1, 5)},
        relevant={"Q1": {"P2"}, "Q2": {"P1", "P3"}},
    )
    return model, rs


def test_retrieval_mrr_ndcg_recall_accuracy_by_hand():
    model, rs = _retrieval_case()
    result = evaluate_retrieval(model, rs, k_values=(1, 3))
    assert isinstance(result, RetrievalResult) and result.primary == "ndcg@10" and result.n == 2
    assert result.mrr_at_10 == pytest.approx((1 / 2 + 1) / 2)
    ndcg_q1 = (1 / math.log2(3)) / 1.0
    ndcg_q2 = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert result.ndcg_at_10 == pytest.approx((ndcg_q1 + ndcg_q2) / 2)
    assert result.recall == pytest.approx({1: (0 + 1 / 2) / 2, 3: (1 + 1) / 2})
    assert result.accuracy == pytest.approx({1: 0.5, 3: 1.0})
    assert result.score == result["ndcg@10"] and set(result.metrics()) >= {"mrr@10", "recall@3", "accuracy@1"}
    assert dict(result) == result.metrics() and "n" not in dict(result)
    assert model.calls == [(6, None)]  # 2 evaluated queries + 4 passages, one encode call


def test_retrieval_matches_sentence_transformers_on_the_hand_case():
    ir = pytest.importorskip("sentence_transformers.sentence_transformer.evaluation.information_retrieval")
    import torch

    model, rs = _retrieval_case()
    ours = evaluate_retrieval(model, rs, k_values=(1, 3))
    evaluator = ir.InformationRetrievalEvaluator(
        rs.queries,
        rs.corpus,
        rs.relevant,
        accuracy_at_k=[1, 3],
        precision_recall_at_k=[1, 3],
        map_at_k=[10],
        score_functions={
            "cosine": lambda a, b: torch.nn.functional.normalize(a, dim=-1) @ torch.nn.functional.normalize(b, dim=-1).T
        },
    )
    embed = {text: torch.tensor(model.encode([text])[0]) for text in [*rs.queries.values(), *rs.corpus.values()]}
    qids = evaluator.queries_ids
    q = torch.stack([embed[rs.queries[i]] for i in qids])
    c = torch.stack([embed[text] for text in evaluator.corpus])
    hits = [[{"corpus_id": pid, "score": float(s)} for pid, s in zip(evaluator.corpus_ids, row)] for row in q @ c.T]
    theirs = evaluator.compute_metrics(hits)
    assert ours.mrr_at_10 == pytest.approx(theirs["mrr@k"][10]) and ours.ndcg_at_10 == pytest.approx(
        theirs["ndcg@k"][10]
    )
    assert ours.recall == pytest.approx(theirs["recall@k"]) and ours.accuracy == pytest.approx(theirs["accuracy@k"])


# -- dims x layers -------------------------------------------------------------------------------
def _layered_sts():
    rng = np.random.default_rng(3)
    texts = [f"s{i}" for i in range(12)]
    model = FakeModel({layer: {t: list(rng.normal(size=6)) for t in texts} for layer in (1, 2, 3)})
    data = {"a": texts[:6], "b": texts[6:], "score": list(rng.uniform(0, 1, size=6))}
    return model, data


def test_grid_shape_values_and_one_encode_per_layer():
    model, data = _layered_sts()
    grid = evaluate_sts(model, data, dims=[2, 4, 6], layers=[1, -1])
    assert isinstance(grid, Grid) and grid.metric == "spearman"
    assert grid.values.shape == (2, 3) and grid.dims == [2, 4, 6] and grid.layers == [1, 3]
    assert model.calls == [(12, 1), (12, 3)]  # each text once per layer; dims cut in memory
    for i, layer in enumerate((1, 3)):
        for j, dim in enumerate((2, 4, 6)):
            direct = sts_metrics(
                model.encode(data["a"], dim=dim, layer=layer),
                model.encode(data["b"], dim=dim, layer=layer),
                data["score"],
            )
            assert grid.values[i, j] == pytest.approx(direct.spearman)
            assert grid.values_of("pearson")[i, j] == pytest.approx(direct.pearson)
            assert evaluate_sts(model, data, dims=[dim], layers=[layer]).values[0, 0] == pytest.approx(direct.spearman)
    assert grid.result(layer=3, dim=6).spearman == pytest.approx(evaluate_sts(model, data).spearman)
    table = grid.as_table()
    assert len(table) == 6 and table[0]["layer"] == 1 and table[0]["dim"] == 2 and "pearson" in table[0]
    assert "layer 3" in str(grid) and "dim 4" in str(grid)


def test_dims_only_and_layers_only_and_evaluate_grid():
    model, data = _layered_sts()
    assert evaluate_sts(model, data, dims=[3]).values.shape == (1, 1)
    by_layer = evaluate_sts(model, data, layers=[1, 2, 3])
    assert by_layer.values.shape == (3, 1) and by_layer.dims == [6]
    one = evaluate_grid(model, data)
    assert isinstance(one, Grid) and one.values.shape == (1, 1) and one.layers == [3] and one.dims == [6]
    assert one.values[0, 0] == pytest.approx(evaluate_sts(model, data).spearman)


def test_tiny_model_on_the_bundled_sets(tiny, monkeypatch):
    monkeypatch.delenv("LOSSBOOK_DATA", raising=False)
    validation = load_dataset("stsb", "validation", verbose=False)
    sts = evaluate(tiny, validation)
    assert (
        isinstance(sts, STSResult) and sts.n == len(validation) and -1 <= sts.spearman <= 1 and -1 <= sts.pearson <= 1
    )
    bundled = load_retrieval(verbose=False)
    retrieval = evaluate(tiny, bundled)
    assert (
        isinstance(retrieval, RetrievalResult)
        and retrieval.n == len(bundled.queries)
        and 0 <= retrieval.ndcg_at_10 <= 1
    )
    assert retrieval.accuracy[1] <= retrieval.accuracy[5] <= retrieval.accuracy[10]


def test_grid_on_the_tiny_model_matches_encode_with_dim_and_layer(tiny, monkeypatch):
    monkeypatch.delenv("LOSSBOOK_DATA", raising=False)
    data = load_dataset("stsb", "validation", verbose=False).select(range(40))
    grid = evaluate_sts(tiny, data, dims=[16, 64], layers=[1, 2])
    for i, layer in enumerate((1, 2)):
        for j, dim in enumerate((16, 64)):
            a = tiny.encode(data["sentence1"], dim=dim, layer=layer, convert_to_numpy=True)
            b = tiny.encode(data["sentence2"], dim=dim, layer=layer, convert_to_numpy=True)
            assert grid.values[i, j] == pytest.approx(sts_metrics(a, b, data["score"]).spearman, abs=1e-6)


# -- dispatch ------------------------------------------------------------------------------------
def test_evaluate_dispatches_on_the_data_format():
    model, sts = pairs_with_cosines([0.9, 0.2, 0.5], [0.8, 0.1, 0.6], "score")
    assert isinstance(evaluate(model, sts), STSResult)
    model, binary = pairs_with_cosines([0.9, 0.2, 0.5], [1, 0, 1])
    assert isinstance(evaluate(model, binary), BinaryResult)
    model = FakeModel({"a": [1.0, 0.0], "p": unit_with_cosine(0.9), "n": unit_with_cosine(0.1)})
    assert evaluate(model, {"anchor": ["a"], "positive": ["p"], "negative": ["n"]}).accuracy == 1.0
    model, rs = _retrieval_case()
    assert isinstance(evaluate(model, rs), RetrievalResult)
    assert isinstance(evaluate(model, rs, dims=[2]), Grid)
    classes = {"sentence": ["d1", "d2"], "label": [0, 1]}
    assert isinstance(evaluate(model, classes, train=classes, k=1), ClassificationResult)
    with pytest.raises(ValueError, match="train="):
        evaluate(model, classes)
    nli = {"premise": ["d1", "d2", "d3"], "hypothesis": ["d2", "d3", "d1"], "label": [0, 1, 2]}
    with pytest.raises(ValueError, match="No evaluator for data of format 'pair-class'"):
        evaluate(model, nli)


# -- bad input -----------------------------------------------------------------------------------
def test_bad_input_raises_clear_value_errors():
    model, data = pairs_with_cosines([0.9, 0.2], [0.8, 0.1], "score")
    with pytest.raises(ValueError, match="two text columns and a float 'score'"):
        evaluate_sts(model, {"sentence1": ["x0", "x1"], "score": [0.1, 0.2]})
    with pytest.raises(ValueError, match="two text columns and a float 'score'"):
        evaluate_sts(model, {"sentence1": ["x0"], "sentence2": ["ref"]})
    with pytest.raises(ValueError, match="empty data set"):
        evaluate_sts(model, {"sentence1": [], "sentence2": [], "score": []})
    with pytest.raises(ValueError, match=r"dims must .* 1\.\.2"):
        evaluate_sts(model, data, dims=[3])
    with pytest.raises(ValueError, match=r"layers must .* 1\.\.1"):
        evaluate_sts(model, data, layers=[2])
    with pytest.raises(ValueError, match="must hold text"):
        evaluate_triplets(model, {"a": ["x0"], "b": ["x1"], "c": [3]})
    with pytest.raises(ValueError, match="three text columns"):
        evaluate_triplets(model, {"a": ["x0"], "b": ["x1"]})
    with pytest.raises(ValueError, match="RetrievalSet"):
        evaluate_retrieval(model, {"queries": {}})
    with pytest.raises(ValueError, match="queries with relevant passages"):
        evaluate_retrieval(model, RetrievalSet({"q": "x0"}, {"p": "x1"}, {}))
    with pytest.raises(ValueError, match="k_values"):
        evaluate_retrieval(model, RetrievalSet({"q": "x0"}, {"p": "x1"}, {"q": {"p"}}), k_values=[0])
    with pytest.raises(ValueError, match="at least 2 pairs"):
        evaluate_sts(model, {"sentence1": ["x0"], "sentence2": ["ref"], "score": [0.5]})
    assert model.calls == []  # every bad input is refused before anything is encoded
    with pytest.raises(ValueError, match="embedding arrays of one shape with N = 3"):
        sts_metrics(np.ones((2, 4)), np.ones((2, 4)), [0.1, 0.2, 0.3])


# -- real models (slow) --------------------------------------------------------------------------
@pytest.fixture
def mirror(monkeypatch):
    if not HAS_MIRROR:
        pytest.skip("needs the data mirror's STS-B (LOSSBOOK_DATA)")
    monkeypatch.setenv("LOSSBOOK_DATA", str(MIRROR))


@pytest.mark.slow
def test_minilm_stsb_validation_and_sentence_transformers_parity(minilm, st_model, mirror):
    data = load_dataset("stsb", "validation")
    grid = evaluate_sts(minilm, data, dims=[128, 384])
    ours = grid.result(dim=384)
    print(f"\nMiniLM STS-B validation ({ours.n} pairs): {ours!r}\n{grid}")
    assert ours.spearman > 0.8 and ours.pearson > 0.8
    assert 0.8 < grid.result(dim=128).spearman < ours.spearman
    from sentence_transformers.sentence_transformer.evaluation import EmbeddingSimilarityEvaluator

    evaluator = EmbeddingSimilarityEvaluator(
        data["sentence1"], data["sentence2"], data["score"], similarity_fn_names=["cosine"], write_csv=False
    )
    theirs = evaluator(st_model)
    print(f"sentence-transformers: spearman {theirs['spearman_cosine']:.6f}, pearson {theirs['pearson_cosine']:.6f}")
    assert ours.spearman == pytest.approx(theirs["spearman_cosine"], abs=1e-4)
    assert ours.pearson == pytest.approx(theirs["pearson_cosine"], abs=1e-4)


@pytest.mark.slow
def test_minilm_retrieval_and_sentence_transformers_parity(minilm, st_model, mirror):
    rs = load_retrieval()
    ours = evaluate_retrieval(minilm, rs, k_values=(1, 5, 10))
    print(f"\nMiniLM xquad-retrieval: {ours!r}")
    assert ours.ndcg_at_10 > 0.5 and ours.mrr_at_10 > 0.5 and ours.accuracy[10] >= ours.accuracy[1] > 0.3
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    evaluator = InformationRetrievalEvaluator(
        rs.queries,
        rs.corpus,
        rs.relevant,
        accuracy_at_k=[1, 5, 10],
        precision_recall_at_k=[1, 5, 10],
        score_functions={"cosine": __import__("sentence_transformers").util.cos_sim},
        write_csv=False,
    )
    theirs = evaluator(st_model)
    print(
        "sentence-transformers:", {k: round(v, 6) for k, v in theirs.items() if "ndcg" in k or "mrr" in k or "@1" in k}
    )
    assert ours.ndcg_at_10 == pytest.approx(theirs["cosine_ndcg@10"], abs=2e-3)
    assert ours.mrr_at_10 == pytest.approx(theirs["cosine_mrr@10"], abs=2e-3)
    for k in (1, 5, 10):
        assert ours.recall[k] == pytest.approx(theirs[f"cosine_recall@{k}"], abs=2e-3)
        assert ours.accuracy[k] == pytest.approx(theirs[f"cosine_accuracy@{k}"], abs=2e-3)


@pytest.mark.slow
def test_minilm_binary_and_triplets_match_sentence_transformers(minilm, st_model, mirror):
    pytest.importorskip("sklearn")  # BinaryClassificationEvaluator imports it
    from sentence_transformers.sentence_transformer.evaluation import BinaryClassificationEvaluator, TripletEvaluator

    paws = load_dataset("paws", "validation").select(range(300))
    ours = evaluate(minilm, paws)
    print(f"\nMiniLM PAWS (300 pairs): {ours!r}")
    theirs = BinaryClassificationEvaluator(
        paws["sentence1"], paws["sentence2"], paws["label"], similarity_fn_names=["cosine"], write_csv=False
    )(st_model)
    print("sentence-transformers:", {k: round(v, 6) for k, v in theirs.items()})
    for name in ("ap", "f1", "precision", "recall", "accuracy"):
        assert ours[name] == pytest.approx(theirs[f"cosine_{name}"], abs=1e-3), name
    triplets = load_dataset("nli-triplets", "snli").select(range(300))
    ours = evaluate(minilm, triplets)
    print(f"MiniLM SNLI triplets (300): {ours!r}")
    theirs = TripletEvaluator(
        triplets["anchor"], triplets["positive"], triplets["negative"], similarity_fn_names=["cosine"], write_csv=False
    )(st_model)
    print("sentence-transformers:", theirs)
    assert ours.accuracy == pytest.approx(theirs["cosine_accuracy"], abs=1e-2)


def test_the_metrics_cosines_are_the_losses_cosines_in_float64():
    import torch

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 7)), rng.normal(size=(5, 7))
    a[2] = 0.0  # a zero row has similarity 0 in both, not NaN
    np.testing.assert_allclose(pairwise_cos_sim_np(a, b), pairwise_cos_sim(torch.from_numpy(a), torch.from_numpy(b)))
    np.testing.assert_allclose(cos_sim_np(a, b), cos_sim(a, b).numpy(), rtol=1e-12, atol=1e-15)


class _SpyEncoder:
    """Records the keywords evaluate passes to encode; its own progress keyword is ``keyword``."""

    def __init__(self, keyword: str) -> None:
        self.calls: list[dict] = []
        if keyword == "show_progress":
            self.encode = lambda texts, batch_size=32, convert_to_numpy=False, show_progress=None: self._record(
                texts, show_progress=show_progress
            )
        else:
            self.encode = lambda texts, batch_size=32, convert_to_numpy=False, show_progress_bar=None: self._record(
                texts, show_progress_bar=show_progress_bar
            )

    def _record(self, texts, **progress):
        self.calls.append(progress)
        return np.stack([[1.0, (hash(t) % 97) / 97.0] for t in texts])


@pytest.mark.parametrize("keyword", ["show_progress", "show_progress_bar"])
def test_progress_reaches_the_models_own_keyword_and_none_leaves_its_default(keyword):
    rows = {"sentence1": ["a", "b", "c"], "sentence2": ["d", "e", "f"], "score": [0.1, 0.5, 0.9]}
    spy = _SpyEncoder(keyword)
    evaluate(spy, rows, progress=False)
    evaluate(spy, rows)
    evaluate(spy, rows, progress=True)
    assert spy.calls == [{keyword: False}, {keyword: None}, {keyword: True}]
