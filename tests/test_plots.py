"""lossbook.plots: every plot returns a Figure with the expected axes, lines, bars, images, legends and titles.

Real inputs throughout: the bundled data sets (with LOSSBOOK_DATA unset), the tiny model, and
lossbook.evaluate's Grid; plus the plain arrays and dicts the plots also accept.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from lossbook import plots  # noqa: E402
from lossbook.data import load_dataset  # noqa: E402
from lossbook.evaluate import evaluate_sts  # noqa: E402
from lossbook.history import History  # noqa: E402
from lossbook.losses.ranking import MultipleNegativesRankingLoss  # noqa: E402
from lossbook.losses.scored_pairs import CoSENTLoss  # noqa: E402
from lossbook.model import tiny_model  # noqa: E402
from lossbook.similarity import cos_sim  # noqa: E402

DIMS, LAYERS = [8, 16, 32, 64], [1, 2]


@pytest.fixture(autouse=True)
def _bundled_data_and_close_figures(monkeypatch):
    monkeypatch.delenv("LOSSBOOK_DATA", raising=False)
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def stsb():
    return load_dataset("stsb", "validation", verbose=False).select(range(30))


@pytest.fixture(scope="module")
def grids(stsb):
    """Real dims x layers grids (STS-B Spearman) of two differently seeded tiny models."""
    return {f"seed {seed}": evaluate_sts(tiny_model(seed=seed), stsb, dims=DIMS, layers=LAYERS) for seed in (0, 1)}


def _history(name: str, rate: float, steps: int = 120, label: str = "", stopped: str = "completed") -> History:
    rng = np.random.default_rng(int(rate * 1000))
    history = History(loss_name=name, label=label, stopped=stopped)
    for step in range(1, steps + 1):
        history.record(step, float(2.5 * math.exp(-rate * step) + 0.2 * rng.random()), 2e-5, 0.05 * step)
    return history


def _legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    return [] if legend is None else [t.get_text() for t in legend.get_texts()]


# -- loss curves -------------------------------------------------------------------------------
def test_loss_curves_one_run_draws_raw_and_smoothed_lines():
    history = _history("MultipleNegativesRankingLoss", 0.03)
    fig = plots.loss_curves(history, smooth=10)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    raw, smoothed = ax.get_lines()
    assert raw.get_alpha() < 1 and raw.get_linewidth() < smoothed.get_linewidth()
    np.testing.assert_array_equal(raw.get_xdata(), history.steps)
    np.testing.assert_allclose(smoothed.get_ydata()[20], np.mean(history.losses[15:25]))  # centred window of 10
    assert _legend_texts(ax) == ["MultipleNegativesRankingLoss, mean of 10"]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("step", "training loss", "Training loss")


def test_loss_curves_overlays_runs_named_by_history_name_and_dict_key():
    runs = [
        _history("MultipleNegativesRankingLoss", 0.03),
        _history("CoSENTLoss", 0.06, label="CoSENT, lr 1e-4"),
        _history("AnglELoss", 0.5, steps=30, stopped="diverged"),
    ]
    runs[2].record(31, float("nan"), 2e-5, 1.6)
    fig = plots.loss_curves(runs)  # smooth="auto": a tenth of each run
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 6
    assert _legend_texts(ax) == [
        "MultipleNegativesRankingLoss, mean of 12",
        "CoSENT, lr 1e-4, mean of 12",
        "AnglELoss (diverged), mean of 3",
    ]
    assert ax.get_title() == "Training loss of 3 runs"
    assert np.isfinite(ax.get_lines()[5].get_ydata()[:-1]).all()  # the NaN step is left out of its neighbours' means

    fig = plots.loss_curves({"plain list": [3.0, 2.0, 1.5, 1.0]}, smooth=None)
    (line,) = fig.axes[0].get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4])
    assert _legend_texts(fig.axes[0]) == ["plain list"]
    fig = plots.loss_curves(np.array([3.0, 2.0, 1.5, 1.0, 0.9]), smooth=2)
    assert len(fig.axes[0].get_lines()) == 2 and _legend_texts(fig.axes[0]) == ["run 1, mean of 2"]


def test_loss_curves_draws_into_a_given_axes_and_handles_an_empty_history():
    fig, (left, right) = plt.subplots(1, 2)
    assert plots.loss_curves(History(loss_name="CoSENTLoss"), ax=right) is fig
    assert not right.get_lines() and right.texts[0].get_text() == "no steps recorded yet"
    assert not left.get_lines()


# -- similarity matrix -------------------------------------------------------------------------
def _gids(ax, gid: str) -> list[tuple[int, int]]:
    return sorted((round(p.get_y() + 0.5), round(p.get_x() + 0.5)) for p in ax.patches if p.get_gid() == gid)


def test_similarity_matrix_of_a_real_batch_marks_positives_duplicates_and_shows_the_loss(tiny):
    rows = load_dataset("qa-triplets", verbose=False)[:5]
    anchors, positives, negatives = rows["anchor"], rows["positive"], rows["negative"]
    positives[3] = positives[1]  # the same answer twice: for row 1, column 3 is a false negative (and back)
    loss = MultipleNegativesRankingLoss(tiny)
    fig = plots.similarity_matrix(tiny, anchors, positives + negatives, loss=loss)

    ax, colorbar = fig.axes
    (image,) = ax.get_images()
    a, c = tiny.encode(anchors), tiny.encode(positives + negatives)
    sim = cos_sim(a, c).numpy()
    np.testing.assert_allclose(image.get_array(), sim, atol=1e-6)
    assert colorbar.get_ylabel() == "cosine similarity"
    assert _gids(ax, "positive") == [(i, i) for i in range(5)]
    assert _gids(ax, "duplicate") == [(1, 3), (3, 1)]
    beats = [
        (i, j)
        for i in range(5)
        for j in range(10)
        if j != i and (i, j) not in [(1, 3), (3, 1)] and sim[i, j] > sim[i, i]
    ]
    assert _gids(ax, "beats-positive") == beats
    legend = _legend_texts(ax)
    assert legend[:2] == ["positive (diagonal) (5)", "false negative: same text (2)"]
    assert len(legend) == 2 + bool(beats)
    expected = float(loss.compute_loss_from_embeddings([a, c[:5], c[5:]], None))
    assert ax.get_title().splitlines() == [
        "In-batch cosine similarity (5 x 10)",
        f"MultipleNegativesRankingLoss = {expected:.4f}",
    ]
    assert len(ax.texts) == 50  # every cell annotated
    assert [t.get_text() for t in ax.get_xticklabels()][5].startswith("(neg) ")
    assert ax.get_ylabel() == "anchors" and ax.get_xlabel().startswith("candidates")


def test_similarity_matrix_from_embeddings_duplicate_anchors_and_a_loss_that_needs_labels(tiny):
    anchors = ["A man plays a guitar.", "A dog runs.", "A man plays a guitar."]
    embeddings = (torch.eye(3, 4), torch.eye(3, 4))
    with pytest.warns(UserWarning, match="CoSENTLoss could not be computed"):
        fig = plots.similarity_matrix(
            embeddings, anchors, ["guitar", "dog", "music"], loss=CoSENTLoss(tiny), annotate=False
        )
    ax = fig.axes[0]
    assert _gids(ax, "duplicate") == [(0, 2), (2, 0)]  # same anchor: each row's positive is the other's too
    assert _gids(ax, "beats-positive") == [] and not ax.texts
    assert ax.get_title().endswith("CoSENTLoss = n/a (needs labels or other columns)")
    with pytest.raises(ValueError, match="at least as many candidates"):
        plots.similarity_matrix(embeddings, anchors, ["only one"])
    fig = plots.similarity_matrix(
        (torch.ones(2, 4), torch.tensor([[3.0, 4, 0, 0], [1, 0, 0, 0]])), ["a", "b"], ["c", "d"], dim=2
    )
    np.testing.assert_allclose(fig.axes[0].get_images()[0].get_array(), [[0.98995, 0.70711]] * 2, atol=1e-5)
    with pytest.raises(ValueError, match="whole columns of 3"):
        plots.similarity_matrix((torch.eye(3, 4), torch.eye(4)), anchors, ["a", "b", "c", "d"], loss=CoSENTLoss(tiny))


# -- projections -------------------------------------------------------------------------------
def test_pca_2d_shares_one_basis_and_fixes_signs():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 5)) * [5, 2, 1, 0.1, 0.1]
    (p,), share = plots.pca_2d(x)
    (p_neg,), _ = plots.pca_2d(-x)
    np.testing.assert_allclose(p, -p_neg, atol=1e-9)  # same axes, the points mirrored
    assert p.shape == (30, 2) and share[0] > share[1] > 0 and share.sum() <= 1
    np.testing.assert_allclose(np.var(p, axis=0) * 30 / np.sum((x - x.mean(0)) ** 2), share)
    (a, b), _ = plots.pca_2d(x, x)
    np.testing.assert_allclose(a, b)
    (one,), share = plots.pca_2d(rng.normal(size=(6, 1)))  # one dimension: the second axis is zero
    assert one.shape == (6, 2) and not one[:, 1].any() and share[1] == 0


def test_embedding_projection_colours_real_sentences_by_intent(tiny):
    data = load_dataset("banking77", "test", verbose=False)
    six = set(sorted(set(data["label"]))[:6])  # up to 20 classes get a colour each, whatever the source holds
    rows = data.filter(lambda row: row["label"] in six)[:40]
    assert len(rows["sentence"]) == 40
    fig = plots.embedding_projection(tiny, rows["sentence"], rows["label"])
    ax = fig.axes[0]
    classes = sorted(set(rows["label"]))
    assert len(ax.collections) == len(classes)
    assert sum(len(c.get_offsets()) for c in ax.collections) == 40
    assert _legend_texts(ax) == [str(c) for c in classes]  # sorted as numbers
    assert ax.get_xlabel().startswith("PC1 (") and ax.get_ylabel().endswith("% of variance)")
    assert ax.get_title() == "Embeddings, 2-D PCA" and not ax.texts  # 40 texts: too many to write


def test_embedding_projection_joins_pairs_and_shows_movement_from_before(tiny):
    rows = load_dataset("qa-pairs", verbose=False)[:6]
    texts = rows["anchor"] + rows["positive"]
    fig = plots.embedding_projection(
        tiny, texts, ["question"] * 6 + ["answer"] * 6, pairs=True, before=tiny_model(seed=1)
    )
    ax = fig.axes[0]
    (lines,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(lines.get_segments()) == 6
    answers, questions = ax.collections[-2:]
    np.testing.assert_allclose(
        lines.get_segments()[2], [questions.get_offsets()[2], answers.get_offsets()[2]]
    )  # i to i + 6
    assert _legend_texts(ax) == ["before", "pair", "answer", "question"]
    assert len(ax.texts) == 12 and "hollow: before training" in ax.get_title()
    quiver = next(c for c in ax.collections if type(c).__name__ == "Quiver")
    assert quiver.N == 12
    with pytest.raises(ValueError, match="even number"):
        plots.embedding_projection(np.eye(3), pairs=True)
    with pytest.raises(ValueError, match="Give the texts"):
        plots.embedding_projection(tiny)


def test_before_after_projection_uses_one_basis_for_both_panels(tiny):
    rows = load_dataset("banking77", "test", verbose=False)[:20]
    before, after = tiny_model(seed=1).encode(rows["sentence"]), tiny.encode(rows["sentence"])
    fig = plots.before_after_projection(before, after, rows["label"])
    left, right = fig.axes
    (p_before, p_after), share = plots.pca_2d(before, after)
    np.testing.assert_allclose(
        np.concatenate([c.get_offsets() for c in left.collections]),
        np.concatenate([p_before[np.array(rows["label"]) == k] for k in sorted(set(rows["label"]))]),
    )
    assert left.get_xlim() == right.get_xlim() and left.get_ylim() == right.get_ylim()
    assert (left.get_title(), right.get_title()) == ("Before training", "After training")
    assert left.get_legend() is None and len(_legend_texts(right)) == len(set(rows["label"]))
    assert left.get_xlabel() == f"PC1 ({share[0]:.0%} of variance)"
    assert "one PCA basis" in fig.get_suptitle()
    # The same embeddings twice: both panels identical.
    fig = plots.before_after_projection(after, after, texts=rows["sentence"])
    np.testing.assert_allclose(fig.axes[0].collections[0].get_offsets(), fig.axes[1].collections[0].get_offsets())


# -- curves over dims and layers ---------------------------------------------------------------
def test_matryoshka_curves_of_real_grids_with_full_dimension_lines(grids):
    fig = plots.matryoshka_curves(grids)
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert len(lines) == 4  # per model: the curve and its dotted full-dimension line
    for (name, grid), curve, full in zip(grids.items(), lines[::2], lines[1::2]):
        np.testing.assert_array_equal(curve.get_xdata(), DIMS)
        np.testing.assert_allclose(curve.get_ydata(), grid.values[-1])  # the last layer
        assert full.get_linestyle() == ":" and full.get_ydata()[0] == pytest.approx(grid.values[-1, -1])
        assert full.get_color() == curve.get_color()
    assert _legend_texts(ax) == ["seed 0", "seed 1", "value at full dimension"]
    assert ax.get_xscale() == "log" and list(ax.get_xticks()) == DIMS
    assert [t.get_text() for t in ax.get_xticklabels()] == ["8", "16", "32", "64"]
    assert ax.get_ylabel() == "spearman" and ax.get_title() == "spearman by Matryoshka dimension"


def test_matryoshka_curves_from_plain_dicts_tuples_results_and_a_picked_layer(grids):
    grid = grids["seed 0"]
    fig = plots.matryoshka_curves(
        {"trained": {768: 0.84, 64: 0.80, 128: 0.82}, "baseline": ([64, 768], [0.7, 0.75])}, metric="spearman"
    )
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [64, 128, 768])  # sorted by dim
    assert list(ax.get_xticks()) == [64, 128, 768] and ax.get_ylabel() == "spearman"
    fig = plots.matryoshka_curves({d: grid.result(layer=1, dim=d) for d in DIMS})  # STSResult values: .score
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), grid.values[0])
    assert _legend_texts(fig.axes[0]) == ["value at full dimension"]
    fig = plots.matryoshka_curves(grid, layer=1)
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), grid.values[0])
    with pytest.raises(TypeError, match="Cannot read a curve"):
        plots.matryoshka_curves({"model": 0.5})


def test_layer_curves_of_grids_and_plain_dicts(grids):
    fig = plots.layer_curves({"seed 0": grids["seed 0"], "table": {1: 0.4, None: 0.6, 2: 0.5}})
    ax = fig.axes[0]
    curve, table = ax.get_lines()
    np.testing.assert_array_equal(curve.get_xdata(), LAYERS)
    np.testing.assert_allclose(curve.get_ydata(), grids["seed 0"].values[:, -1])  # the largest dim
    np.testing.assert_array_equal(table.get_xdata(), [1, 2, 3])  # None (the output) after the numbered layers
    np.testing.assert_allclose(table.get_ydata(), [0.4, 0.5, 0.6])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "output"]
    assert _legend_texts(ax) == ["seed 0", "table"]
    assert (
        ax.get_ylabel() == "spearman" and ax.get_title() == "spearman by layer" and ax.get_xlabel().startswith("layer")
    )
    fig = plots.layer_curves(grids["seed 1"], dim=8)
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), grids["seed 1"].values[:, 0])
    assert fig.axes[0].get_legend() is None


def test_dims_layers_heatmap_of_a_grid_another_metric_a_dict_and_an_array(grids):
    grid = grids["seed 0"]
    fig = plots.dims_layers_heatmap(grid)
    ax, colorbar = fig.axes
    (image,) = ax.get_images()
    np.testing.assert_allclose(image.get_array(), grid.values)
    assert [t.get_text() for t in ax.texts] == [f"{v:.3f}" for v in grid.values.ravel()]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["8", "16", "32", "64"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1", "2"]
    assert (ax.get_xlabel(), ax.get_ylabel(), colorbar.get_ylabel()) == ("embedding dimension", "layer", "spearman")
    assert ax.get_title() == "spearman by layer and dimension"

    fig = plots.dims_layers_heatmap(grid, metric="pearson")
    np.testing.assert_allclose(fig.axes[0].get_images()[0].get_array(), grid.values_of("pearson"))
    assert fig.axes[1].get_ylabel() == "pearson"

    fig = plots.dims_layers_heatmap(
        {"dims": [32, 64], "layers": [None], "values": [[0.5, float("nan")]], "metric": "ndcg@10"}
    )
    assert [t.get_text() for t in fig.axes[0].texts] == ["0.500", "n/a"]
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["output"]
    fig = plots.dims_layers_heatmap(
        np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]), dims=[32, 64], layers=[2, 4, 6], fmt="{:.0%}"
    )
    assert [t.get_text() for t in fig.axes[0].texts][-1] == "60%" and fig.axes[1].get_ylabel() == "score"
    with pytest.raises(ValueError, match="needs dims"):
        plots.dims_layers_heatmap(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="expected \\(layers, dims\\)"):
        plots.dims_layers_heatmap(np.zeros((2, 2)), dims=[1, 2, 3], layers=[1, 2])


# -- comparing losses --------------------------------------------------------------------------
def test_loss_comparison_bars_with_runs_single_values_results_and_a_baseline(grids):
    untrained = grids["seed 1"].result()
    results = {
        "MultipleNegativesRankingLoss": [0.80, 0.82, 0.78],
        "CoSENTLoss": 0.75,
        "seed 0": grids["seed 0"].result(),
    }
    fig = plots.loss_comparison_bars(results, metric="spearman", baseline=untrained)
    ax = fig.axes[0]
    bars = ax.patches
    assert len(bars) == 3
    np.testing.assert_allclose([b.get_height() for b in bars], [0.80, 0.75, grids["seed 0"].result().score])
    assert [t.get_text() for t in ax.get_xticklabels()] == list(results)
    assert [t.get_text() for t in ax.texts][:2] == ["0.800\n± 0.020", "0.750"]
    assert _legend_texts(ax) == [f"untrained: {untrained.score:.3f}"]
    (baseline,) = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert baseline.get_ydata()[0] == pytest.approx(untrained.score)
    assert (
        ax.get_ylabel() == "spearman" and ax.get_xlabel() == "loss" and ax.get_title().startswith("spearman by loss\n")
    )
    assert len(ax.collections[-1].get_offsets()) == 3  # one dot per run of the listed loss
    student = plots.loss_comparison_bars({"MSELoss": 0.8}, baseline=0.67, baseline_label="student before distillation")
    assert _legend_texts(student.axes[0]) == ["student before distillation: 0.670"]

    fig, ax = plt.subplots()
    assert plots.loss_comparison_bars({"a": 0.5, "b": 0.6}, ax=ax) is fig
    assert len(ax.patches) == 2 and ax.get_legend() is None and ax.get_title() == "score by loss"
    with pytest.raises(ValueError, match="empty"):
        plots.loss_comparison_bars({})
