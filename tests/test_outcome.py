"""lossbook.outcome and lossbook.plots.outcomes: each kind's numbers equal an explicit computation, and its
two panels (before, after) share their axes.

Two differently seeded tiny models stand in for the model before and after training; the rows are made by
hand. Every expected number is recomputed here from the models' embeddings, in float64, without lossbook.
"""

from __future__ import annotations

from collections import Counter

import matplotlib

matplotlib.use("Agg")

import datasets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from scipy import stats  # noqa: E402
from sklearn import metrics as sklearn_metrics  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402

from lossbook import plots  # noqa: E402
from lossbook.formats import FORMATS  # noqa: E402
from lossbook.model import tiny_model  # noqa: E402
from lossbook.outcome import KINDS, Outcome, kind_for_format, outcome  # noqa: E402

TOPICS = "cats dogs cars trains music paintings bread rain snow sunshine tides stars".split()
QUERIES = [f"What do you know about {topic}?" for topic in TOPICS]
ANSWERS = [f"Here is a short note on {topic} and why people like {topic}." for topic in TOPICS]


@pytest.fixture(scope="module")
def before():
    return tiny_model(seed=0)


@pytest.fixture(scope="module")
def after():
    return tiny_model(seed=1)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _embed(model, texts) -> np.ndarray:
    """Unit-length float64 embeddings, normalised here rather than trusted from encode."""
    x = model.encode(list(texts)).double().numpy()
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _pair_cosines(model, left, right) -> np.ndarray:
    return np.einsum("ij,ij->i", _embed(model, left), _embed(model, right))


def _panels(result: Outcome):
    """The before and after axes (the first two; colour bars come after them)."""
    assert isinstance(result.figure, Figure)
    before_ax, after_ax = result.figure.axes[:2]
    assert before_ax.get_title().startswith("before: ") and after_ax.get_title().startswith("after: ")
    assert before_ax.get_xlim() == after_ax.get_xlim() and before_ax.get_ylim() == after_ax.get_ylim()
    return before_ax, after_ax


def _check_numbers(result: Outcome, kind: str, expected_before: float, expected_after: float, rows: int) -> None:
    assert (result.kind, result.metric, result.rows_used) == (kind, KINDS[kind], rows)
    assert result.before == pytest.approx(expected_before, abs=1e-9)
    assert result.after == pytest.approx(expected_after, abs=1e-9)
    before_ax, after_ax = result.figure.axes[:2]
    shown = plots.outcomes.format_metric
    assert before_ax.get_title() == f"before: {result.metric} {shown(result.before)}"
    assert after_ax.get_title() == f"after: {result.metric} {shown(result.after)}"
    assert result.summary() == f"{result.metric} {shown(result.before)} -> {shown(result.after)}"


# -- scored pairs ------------------------------------------------------------------------------
def test_scored_pairs_spearman_and_scatter_of_cosine_against_gold(before, after):
    gold = [4.5, 0.5, 3.0, 1.0, 5.0, 2.5, 0.0, 3.5, 1.5, 4.0, 2.0, 0.8]  # 0-5 scale: plotted as given
    rows = datasets.Dataset.from_dict({"sentence1": QUERIES, "sentence2": ANSWERS[::-1], "score": gold})
    result = outcome("scored-pairs", before, after, rows, columns=["sentence1", "sentence2"], label_column="score")

    cosines = [_pair_cosines(model, QUERIES, ANSWERS[::-1]) for model in (before, after)]
    expected = [stats.spearmanr(cosine, gold).statistic for cosine in cosines]
    _check_numbers(result, "scored-pairs", *expected, rows=12)
    assert len(result.figure.axes) == 2
    for ax, cosine in zip(_panels(result), cosines):
        (points,) = ax.collections
        np.testing.assert_allclose(points.get_offsets(), np.column_stack([gold, cosine]), atol=1e-6)
    assert result.figure.axes[0].get_ylabel() == "cosine similarity"


# -- binary pairs ------------------------------------------------------------------------------
def test_binary_pairs_average_precision_histograms_on_the_same_bins_and_the_margin(before, after):
    labels = [1, 0] * 6
    partners = [ANSWERS[i] if label else ANSWERS[(i + 5) % 12] for i, label in enumerate(labels)]
    rows = datasets.Dataset.from_dict({"anchor": QUERIES, "other": partners, "label": labels})
    result = outcome("binary-pairs", before, after, rows, columns=["anchor", "other"], label_column="label", margin=0.5)

    sims = [_pair_cosines(model, QUERIES, partners) for model in (before, after)]
    expected = [sklearn_metrics.average_precision_score(labels, sim) for sim in sims]
    _check_numbers(result, "binary-pairs", *expected, rows=12)
    edges = []
    for ax in _panels(result):
        margin_lines = [line for line in ax.get_lines() if line.get_label() == "margin"]
        assert len(margin_lines) == 1 and list(margin_lines[0].get_xdata()) == [0.5, 0.5]
        assert margin_lines[0].get_linestyle() == "--"
        bars = ax.patches
        assert sum(bar.get_height() for bar in bars) == 12  # 6 positive + 6 negative pairs
        edges.append(sorted({round(bar.get_x(), 12) for bar in bars}))
    assert edges[0] == edges[1]  # the same bins in both panels
    legend = [text.get_text() for text in result.figure.axes[1].get_legend().get_texts()]
    assert legend == ["positive pairs (6)", "negative pairs (6)", "margin"]


# -- in-batch ----------------------------------------------------------------------------------
def _explicit_mrr_at_10(similarity: np.ndarray) -> float:
    total = 0.0
    for i, row in enumerate(similarity):
        better = [j for j in range(len(row)) if row[j] > row[i] or (row[j] == row[i] and j < i)]
        rank = len(better) + 1
        total += 1.0 / rank if rank <= 10 else 0.0
    return total / len(similarity)


def test_in_batch_mrr_over_every_row_and_the_first_16_drawn(before, after):
    queries = QUERIES + [f"Tell me about {t} in winter." for t in TOPICS[:8]]  # 20 rows: more than are drawn
    answers = ANSWERS + [f"In winter, {t} change a lot." for t in TOPICS[:8]]
    rows = datasets.Dataset.from_dict({"anchor": queries, "positive": answers})
    result = outcome("in-batch", before, after, rows, columns=["anchor", "positive"], label_column=None)

    sims = [_embed(model, queries) @ _embed(model, answers).T for model in (before, after)]
    _check_numbers(result, "in-batch", *(_explicit_mrr_at_10(sim) for sim in sims), rows=20)
    assert len(result.figure.axes) == 3  # two heatmaps and their one colour bar
    images = [ax.get_images()[0] for ax in _panels(result)]
    for image, sim in zip(images, sims):
        np.testing.assert_allclose(image.get_array(), sim[:16, :16], atol=1e-6)
    assert images[0].get_clim() == images[1].get_clim()
    for ax, sim in zip(result.figure.axes[:2], sims):  # the dots on the diagonal: white where ranked first
        first, lower = ax.collections
        drawn = sim[:16, :16]
        ranked_first = [i for i in range(16) if (drawn[i] > drawn[i, i]).sum() == 0]
        np.testing.assert_array_equal(first.get_offsets()[:, 0], ranked_first)
        assert len(first.get_offsets()) + len(lower.get_offsets()) == 16

    few = outcome("in-batch", before, after, rows, columns=["anchor", "positive"], label_column=None, max_rows=5)
    small = [sim[:5, :5] for sim in sims]
    _check_numbers(few, "in-batch", *(_explicit_mrr_at_10(sim) for sim in small), rows=5)
    assert few.figure.axes[0].get_images()[0].get_array().shape == (5, 5)


# -- single sentences + class ------------------------------------------------------------------
def _explicit_loo_knn_accuracy(embeddings: np.ndarray, labels: list, k: int = 5) -> float:
    correct = 0
    for i in range(len(labels)):
        others = [j for j in range(len(labels)) if j != i]
        sims = [float(embeddings[i] @ embeddings[j]) for j in others]
        nearest = [others[p] for p in sorted(range(len(others)), key=lambda p: -sims[p])[:k]]
        votes = [labels[j] for j in nearest]
        top = max(Counter(votes).values())
        correct += next(v for v in votes if votes.count(v) == top) == labels[i]
    return correct / len(labels)


def test_classes_knn_accuracy_and_both_panels_on_the_pca_basis_of_before(before, after):
    names = ["animals", "transport", "weather"]
    classes = [0, 0, 1, 1, 2, 2, 2, 0, 1, 2, 0, 1]
    rows = datasets.Dataset.from_dict(
        {"text": ANSWERS, "label": classes},
        features=datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=names)}),
    )
    result = outcome("classes", before, after, rows, columns=["text"], label_column="label")

    embeddings = [_embed(model, ANSWERS) for model in (before, after)]
    class_names = [names[c] for c in classes]
    expected = [_explicit_loo_knn_accuracy(e, class_names) for e in embeddings]
    _check_numbers(result, "classes", *expected, rows=12)
    pca = PCA(n_components=2).fit(embeddings[0])  # fitted on the before embeddings only
    for ax, e in zip(_panels(result), embeddings):
        drawn = np.concatenate([points.get_offsets() for points in ax.collections])
        order = np.concatenate([[i for i, c in enumerate(class_names) if c == name] for name in names])
        # Up to the sign of each axis (PCA's is arbitrary), the points are the before basis's projection.
        np.testing.assert_allclose(np.abs(drawn), np.abs(pca.transform(e)[order]), atol=1e-6)
    legend = [text.get_text() for text in result.figure.axes[1].get_legend().get_texts()]
    assert sorted(legend) == names


def test_classes_colours_the_ten_most_frequent_classes_and_greys_the_rest(before, after):
    texts = [f"{topic} number {i}" for i in range(2) for topic in TOPICS]  # 24 texts
    labels = [f"class {i % 12}" for i in range(24)]
    rows = datasets.Dataset.from_dict({"text": texts, "label": labels})
    result = outcome("classes", before, after, rows, columns=["text"], label_column="label")
    legend = [text.get_text() for text in result.figure.axes[1].get_legend().get_texts()]
    assert len(legend) == 11 and legend[0] == "2 other classes"
    grey = result.figure.axes[1].collections[0]
    assert len(grey.get_offsets()) == 4 and tuple(grey.get_facecolor()[0][:3]) == matplotlib.colors.to_rgb("lightgrey")


# -- pairs + class -----------------------------------------------------------------------------
def test_confusion_matrices_and_accuracy_of_the_classifiers(before, after):
    classes = [0, 1, 2] * 4
    rows = datasets.Dataset.from_dict({"premise": QUERIES, "hypothesis": ANSWERS, "label": classes})
    torch.manual_seed(0)
    heads = [torch.nn.Linear(3 * 64, 3), torch.nn.Linear(3 * 64, 3)]

    def classifier(head):
        return lambda u, v: head(torch.cat([u, v, (u - v).abs()], dim=1))  # SoftmaxLoss's features

    result = outcome(
        "confusion",
        before,
        after,
        rows,
        columns=["premise", "hypothesis"],
        label_column="label",
        classifier_before=classifier(heads[0]),
        classifier_after=classifier(heads[1]),
    )
    expected, matrices = [], []
    for model, head in zip((before, after), heads):
        u, v = model.encode(QUERIES), model.encode(ANSWERS)
        with torch.no_grad():
            predicted = head(torch.cat([u, v, (u - v).abs()], dim=1)).argmax(dim=1).tolist()
        matrix = np.zeros((3, 3), dtype=int)
        for gold, guess in zip(classes, predicted):
            matrix[gold, guess] += 1
        matrices.append(matrix)
        expected.append(np.trace(matrix) / 12)
    _check_numbers(result, "confusion", *expected, rows=12)
    assert len(result.figure.axes) == 3  # two matrices and their one colour bar
    for ax, matrix in zip(_panels(result), matrices):
        np.testing.assert_array_equal(ax.get_images()[0].get_array(), matrix)
        assert [int(text.get_text()) for text in ax.texts] == matrix.ravel().tolist()
        assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2"]

    with pytest.raises(ValueError, match="classifier_before= and classifier_after="):
        outcome("confusion", before, after, rows, columns=["premise", "hypothesis"], label_column="label")


# -- teacher and student -----------------------------------------------------------------------
def test_teacher_student_mse_of_consecutive_similarities_from_a_teacher_or_its_embeddings(before, after):
    teacher = tiny_model(seed=2, hidden_size=32)
    rows = datasets.Dataset.from_dict({"sentence": ANSWERS})
    result = outcome("teacher-student", before, after, rows, columns=["sentence"], label_column=None, teacher=teacher)

    def consecutive(e: np.ndarray) -> np.ndarray:
        return np.array([e[i] @ e[i + 1] for i in range(len(e) - 1)])

    teacher_sim = consecutive(_embed(teacher, ANSWERS))
    students = [consecutive(_embed(model, ANSWERS)) for model in (before, after)]
    expected = [np.mean((student - teacher_sim) ** 2) for student in students]
    _check_numbers(result, "teacher-student", *expected, rows=12)
    assert len(result.figure.axes) == 2
    for ax, student in zip(_panels(result), students):
        np.testing.assert_allclose(ax.collections[0].get_offsets(), np.column_stack([teacher_sim, student]), atol=1e-6)
        (identity,) = ax.get_lines()
        np.testing.assert_array_equal(identity.get_xdata(), identity.get_ydata())
        assert ax.get_xlim() == ax.get_ylim()

    # The teacher's embeddings in the label column (sentence + teacher embedding) give the same numbers.
    labelled = rows.add_column("label", teacher.encode(ANSWERS).tolist())
    from_labels = outcome("teacher-student", before, after, labelled, columns=["sentence"], label_column="label")
    assert from_labels.before == pytest.approx(result.before, rel=1e-5)
    assert from_labels.after == pytest.approx(result.after, rel=1e-5)


# -- formats and bad input ---------------------------------------------------------------------
def test_kind_for_format_covers_every_format():
    kinds = {key: kind_for_format(key) for key in FORMATS}
    assert all(kind is None or kind in KINDS for kind in kinds.values())
    assert set(kinds.values()) == set(KINDS) | {None}  # every kind serves some format
    assert kinds["pair-score"] == "scored-pairs" and kinds["pair-binary"] == "binary-pairs"
    assert kinds["pair"] == kinds["triplet"] == kinds["n-tuple"] == "in-batch"
    assert (kinds["sentence-class"], kinds["pair-class"]) == ("classes", "confusion")
    assert kinds["sentence-teacher-embedding"] == "teacher-student"
    assert kinds["sentences"] is None and kinds["any"] is None
    with pytest.raises(ValueError, match="Did you mean 'pair-score'"):
        kind_for_format("pair-scores")


_PAIRS = {"sentence1": QUERIES[:4], "sentence2": ANSWERS[:4], "score": [0.1, 0.9, 0.4, 0.6], "label": [1, 0, 1, 0]}


@pytest.mark.parametrize(
    ("kind", "data", "columns", "label_column", "message"),
    [
        ("scored-pair", _PAIRS, ["sentence1", "sentence2"], "score", "Did you mean 'scored-pairs'"),
        ("scored-pairs", _PAIRS, ["sentence1", "sentence9"], "score", r"no column \['sentence9'\].*sentence1"),
        ("scored-pairs", _PAIRS, ["sentence1"], "score", "at least 2 text column"),
        ("scored-pairs", _PAIRS, ["sentence1", "sentence2"], None, "needs label_column="),
        ("binary-pairs", _PAIRS, ["sentence1", "sentence2"], "score", r"1 \(matching pair\) or 0"),
        ("scored-pairs", {k: v[:1] for k, v in _PAIRS.items()}, ["sentence1", "sentence2"], "score", "at least 2"),
        ("scored-pairs", {**_PAIRS, "score": [0.5] * 4}, ["sentence1", "sentence2"], "score", "not all equal"),
        ("classes", {**_PAIRS, "label": [1] * 4}, ["sentence1"], "label", "at least 2 different classes"),
        ("teacher-student", _PAIRS, ["sentence1"], None, "teacher="),
        ("in-batch", {**_PAIRS, "sentence2": [1, 2, 3, 4]}, ["sentence1", "sentence2"], None, "must hold texts"),
    ],
)
def test_bad_input_is_refused_with_what_to_pass(before, kind, data, columns, label_column, message):
    rows = datasets.Dataset.from_dict(data)
    with pytest.raises(ValueError, match=message):
        outcome(kind, before, before, rows, columns=columns, label_column=label_column)


def test_rows_and_models_of_the_wrong_type_are_refused(before):
    with pytest.raises(ValueError, match="datasets.Dataset"):
        outcome("in-batch", before, before, dict(_PAIRS), columns=["sentence1", "sentence2"], label_column=None)
    rows = datasets.Dataset.from_dict(_PAIRS)
    with pytest.raises(ValueError, match="load_model"):
        outcome("in-batch", "all-MiniLM-L6-v2", before, rows, columns=["sentence1", "sentence2"], label_column=None)
    with pytest.raises(ValueError, match="max_rows"):
        outcome("in-batch", before, before, rows, columns=["sentence1", "sentence2"], label_column=None, max_rows=1)


def test_plots_refuse_inputs_of_different_lengths():
    with pytest.raises(ValueError, match="one length"):
        plots.scored_pairs_outcome([0.1, 0.2], [0.3, 0.4, 0.5], [1, 2], spearman_before=0.1, spearman_after=0.2)
    with pytest.raises(ValueError, match="square"):
        plots.in_batch_outcome(np.zeros((2, 3)), np.zeros((2, 3)), mrr_before=0.5, mrr_after=0.5)
    with pytest.raises(ValueError, match="3 x 3"):
        plots.confusion_outcome(np.eye(2), np.eye(2), ["a", "b", "c"], accuracy_before=1, accuracy_after=1)
