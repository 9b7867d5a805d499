"""The ``lossbook`` command, end to end in-process: table, formats, train (tiny model, bundled data), errors."""

from __future__ import annotations

import json

import datasets
import pytest

from lossbook.cli import main
from lossbook.history import History


@pytest.fixture(autouse=True)
def _bundled_only(monkeypatch):
    monkeypatch.delenv("LOSSBOOK_DATA", raising=False)
    monkeypatch.delenv("LOSSBOOK_DEBUG", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- table and formats -----------------------------------------------------------------------------
def test_table_prints_markdown_by_default(capsys):
    code, out, _ = run(capsys, "table")
    assert code == 0
    assert "## Losses by data format" in out and "| **CoSENTLoss**" in out
    assert "MatryoshkaLoss" in out


def test_table_text_with_conversions(capsys):
    code, out, _ = run(capsys, "table", "--text", "--conversions")
    assert code == 0
    assert "LOSSES BY DATA FORMAT" in out and "|" not in out.splitlines()[1]
    assert "after pair_class_to_triplets" in out


def test_formats_of_a_named_set(capsys):
    code, out, _ = run(capsys, "formats", "stsb")
    assert code == 0
    assert "stsb [train]" in out and "bundled" in out
    assert "[pair-score]" in out
    assert "Checks: no problems found." in out
    assert "CoSENTLoss*" in out
    assert "scored_pairs_to_pairs" in out  # a loss reachable after conversion, with its converter


def test_formats_of_a_split_and_of_files(capsys, tmp_path):
    code, out, _ = run(capsys, "formats", "paws", "--split", "test")
    assert code == 0 and "paws [test]" in out and "[pair-binary]" in out

    csv_file = tmp_path / "scores.csv"
    csv_file.write_text("sentence1,sentence2,score\na cat,a kitten,0.9\na cat,a car,0.1\na dog,a puppy,1.5\n")
    code, out, _ = run(capsys, "formats", str(csv_file))
    assert code == 0 and "[pair-score]" in out
    assert "[label-range]" in out  # check() found the score outside 0..1

    jsonl = tmp_path / "pairs.jsonl"
    jsonl.write_text(
        '{"anchor": "what is a cat", "positive": "a cat is an animal"}\n'
        '{"anchor": "what is a cat", "positive": "cats are pets"}\n'
    )
    code, out, _ = run(capsys, "formats", str(jsonl))
    assert code == 0 and "[pair]" in out and "MultipleNegativesRankingLoss*" in out
    assert "[duplicates]" in out


# -- train -----------------------------------------------------------------------------------------
def test_train_writes_history_metrics_model_and_plots(capsys, tmp_path):
    out_dir = tmp_path / "run"
    code, out, err = run(
        capsys,
        "train",
        "--data",
        "stsb",
        "--loss",
        "CoSENTLoss",
        "--steps",
        "3",
        "--batch-size",
        "8",
        "--tiny",
        "--lr",
        "1e-3",
        "--eval-rows",
        "24",
        "--out",
        str(out_dir),
        "--no-progress",
    )
    assert code == 0, err
    assert "stsb [validation]" in out  # the default evaluation data: the set's validation split
    assert "Plan: " in out and "s per step of 8 rows" in out
    assert "spearman:" in out and "->" in out
    history = History.load(out_dir / "history.json")
    assert history.steps == [1, 2, 3] and history.stopped == "completed"
    assert [entry["step"] for entry in history.evaluations] == [0, 3]
    metrics = json.loads((out_dir / "metrics.json").read_text())
    assert metrics["primary"] == "spearman" and metrics["eval_rows"] == 24
    assert set(metrics["before"]) == {"spearman", "pearson"} and set(metrics["after"]) == {"spearman", "pearson"}
    assert metrics["after"] != metrics["before"]  # lr 1e-3 for 3 steps moves the tiny model
    for png in ("loss.png", "metrics.png"):
        assert (out_dir / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from lossbook.model import load_model

    reloaded = load_model(out_dir / "model", device="cpu")
    assert reloaded.embedding_dim == 64


def test_train_writes_a_model_card_with_the_run_and_its_evaluation(capsys, tmp_path):
    from huggingface_hub import ModelCard

    out_dir = tmp_path / "run"
    argv = ["train", "--data", "stsb", "--loss", "CoSENTLoss", "--steps", "2", "--batch-size", "8", "--tiny"]
    code, _, err = run(capsys, *argv, "--eval-rows", "16", "--out", str(out_dir), "--no-progress")
    assert code == 0, err
    card = ModelCard.load(out_dir / "model" / "README.md")
    assert card.data.library_name == "sentence-transformers" and "loss:CoSENTLoss" in card.data.tags
    assert "datasets" not in card.data.to_dict()  # the bundled stsb is not the Hub's
    metrics = json.loads((out_dir / "metrics.json").read_text())
    results = {result.metric_type: result.metric_value for result in card.data.eval_results}
    assert results == pytest.approx(metrics["after"])
    assert "### Run 1: CoSENTLoss on stsb [train]" in card.text and "| Steps | 2 of 2 (completed) |" in card.text
    assert "Evaluation (Spearman on stsb [validation]):" in card.text
    assert f"| spearman | {metrics['before']['spearman']:.4f} | {metrics['after']['spearman']:.4f} |" in card.text
    assert str(tmp_path) not in card.text


def test_train_with_matryoshka_dims_evaluates_each_dim(capsys, tmp_path):
    code, out, err = run(
        capsys,
        "train",
        "--data",
        "stsb",
        "--loss",
        "cosent",
        "--matryoshka-dims",
        "64,32,16",
        "--steps",
        "2",
        "--batch-size",
        "8",
        "--tiny",
        "--eval-rows",
        "16",
        "--out",
        str(tmp_path),
        "--no-progress",
    )
    assert code == 0, err
    assert "MatryoshkaLoss(CoSENTLoss), dims [64, 32, 16]" in out
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["loss"] == "MatryoshkaLoss" and metrics["base_loss"] == "CoSENTLoss"
    assert {"spearman", "spearman@64", "spearman@32", "spearman@16"} <= set(metrics["after"])


def test_train_softmax_takes_num_labels_from_data_and_skips_unevaluable(capsys, tmp_path):
    code, out, err = run(
        capsys,
        "train",
        "--data",
        "nli",
        "--loss",
        "SoftmaxLoss",
        "--steps",
        "2",
        "--batch-size",
        "6",
        "--tiny",
        "--out",
        str(tmp_path),
        "--no-progress",
    )
    assert code == 0, err
    assert "No evaluation" in out
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["before"] is None and metrics["after"] is None
    assert not (tmp_path / "metrics.png").exists() and (tmp_path / "loss.png").exists()


def test_train_on_a_csv_file_with_explicit_eval_data(capsys, tmp_path):
    data = tmp_path / "qa.csv"
    rows = [f"question {i} about topic {i},answer {i} on topic {i}" for i in range(12)]
    data.write_text("anchor,positive\n" + "\n".join(rows) + "\n")
    code, out, err = run(
        capsys,
        "train",
        "--data",
        str(data),
        "--loss",
        "MultipleNegativesRankingLoss",
        "--steps",
        "2",
        "--batch-size",
        "4",
        "--tiny",
        "--eval-data",
        "nli-triplets",
        "--eval-rows",
        "8",
        "--freeze-encoder",
        "--out",
        str(tmp_path / "run"),
        "--no-progress",
    )
    assert code == 0, err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["primary"] == "accuracy" and metrics["eval_data"] == "nli-triplets [train]"


def test_a_teacher_loss_trains_on_a_file_that_already_holds_teacher_labels(capsys, tmp_path):
    data = tmp_path / "teacher.jsonl"
    data.write_text(
        "".join(json.dumps({"sentence": f"sentence {i}", "label": [i / 100] * 64}) + "\n" for i in range(8))
    )
    code, out, err = run(
        capsys,
        "train",
        "--data",
        str(data),
        "--loss",
        "MSELoss",
        "--steps",
        "1",
        "--batch-size",
        "4",
        "--tiny",
        "--out",
        str(tmp_path / "run"),
        "--no-progress",
    )
    assert code == 0, err
    assert History.load(tmp_path / "run" / "history.json").loss_name == "MSELoss"


# -- errors: one line on stderr, exit code 2 --------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--loss", "CoSENTLos"], "Unknown loss 'CoSENTLos'. Did you mean CoSENTLoss"),
        (["--data", "stsbb"], "Unknown data 'stsbb'"),
        (["--data", "stsb:nosplit"], "has no split 'nosplit'"),
        (["--data", "missing.csv"], "No such file: missing.csv"),
        (["--data", "qa-pairs"], "CoSENTLoss cannot train on qa-pairs [train]"),
        (["--loss", "GISTEmbedLoss"], "needs a guide model"),
        (["--loss", "MatryoshkaLoss"], "--matryoshka-dims"),
        (["--data", "sentences", "--loss", "MSELoss"], "add_teacher_embeddings"),
        (["--matryoshka-dims", "128,64"], "exceed the model's embedding size (64)"),
        (["--eval-data", "nli"], "cannot be evaluated"),
        (["--steps", "0"], "--steps must be at least 1"),
    ],
)
def test_train_errors_are_one_line_with_exit_code_2(capsys, tmp_path, argv, expected):
    options = {"--data": "stsb", "--loss": "CoSENTLoss"}
    flags = []
    for key, value in zip(argv[::2], argv[1::2]):
        if key in options:
            options[key] = value
        else:
            flags += [key, value]
    full = [
        "train",
        *[x for kv in options.items() for x in kv],
        *flags,
        "--tiny",
        "--out",
        str(tmp_path / "run"),
        "--no-progress",
    ]
    code, _, err = run(capsys, *full)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lossbook: error: "), err
    assert expected in lines[0]
    assert "Traceback" not in err
    assert not (tmp_path / "run" / "history.json").exists()


def test_wrong_format_names_the_converter_and_the_losses_that_fit(capsys, tmp_path):
    code, _, err = run(
        capsys, "train", "--data", "sentences", "--loss", "ContrastiveTensionLoss", "--tiny", "--out", str(tmp_path)
    )
    assert code == 2
    assert "lossbook.convert.sentences_to_anchor_pairs" in err and "ContrastiveTensionLossInBatchNegatives" in err


def test_existing_run_is_not_overwritten_without_the_flag(capsys, tmp_path):
    (tmp_path / "history.json").write_text("{}")
    code, _, err = run(capsys, "train", "--data", "stsb", "--loss", "CoSENTLoss", "--tiny", "--out", str(tmp_path))
    assert code == 2 and "--overwrite" in err


def test_formats_errors(capsys, tmp_path):
    code, _, err = run(capsys, "formats", "nope")
    assert code == 2 and "Unknown data 'nope'" in err
    word = tmp_path / "word.csv"
    word.write_text("sentence1,sentence2,score\na cat,a kitten,0.9\na cat,a car,low\n")
    code, _, err = run(capsys, "formats", str(word))
    assert code == 2 and "word.csv, line 3: column 'score' should hold a number, found 'low'" in err
    assert len(err.strip().splitlines()) == 1
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    code, _, err = run(capsys, "formats", str(bad))
    assert code == 2 and "JSON Lines" in err


def test_a_column_of_numbers_not_named_as_the_label_stays_text_and_is_flagged(capsys, tmp_path):
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("text,similarity\na cat,0.5\na dog,0.7\n")
    code, out, _ = run(capsys, "formats", str(numbers))
    assert code == 0 and "[pair]" in out  # only label/labels/score/scores columns are read as numbers
    assert "[numbers-as-text]" in out and "rename_column('similarity', 'score')" in out


def test_usage_errors_and_help(capsys):
    code, _, err = run(capsys, "train", "--data", "stsb")
    assert code == 2 and "required" in err
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "table" in out and "formats" in out and "train" in out
    code, _, err = run(
        capsys, "train", "--data", "stsb", "--loss", "CoSENTLoss", "--out", "x", "--tiny", "--model", "m"
    )
    assert code == 2 and "not allowed with" in err


def test_console_script_is_declared():
    tomllib = pytest.importorskip("tomllib")
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"]["lossbook"] == "lossbook.cli:main"


# -- the evaluation a run gets (lossbook.run_setup.choose_evaluation) --------------------------------------
def test_choose_evaluation_holds_rows_out_or_refuses_with_the_formats_it_scores():
    from lossbook.run_data import Data, SetupError, load_data
    from lossbook.run_setup import choose_evaluation

    banking = load_data("banking77", rows=200, verbose=False)
    held_out = choose_evaluation(banking, hold_out=30)
    assert held_out.description == "k-NN accuracy on 30 held-out sentences"
    assert len(held_out.train_data) == 170 and held_out.reference is held_out.train_data
    stsb = load_data("stsb", verbose=False)
    assert choose_evaluation(stsb, hold_out=20).description == "Spearman on stsb validation"
    assert choose_evaluation(stsb) is None
    on_split = choose_evaluation(stsb, load_data("stsb:test", verbose=False), rows=12)
    assert on_split.description == "Spearman on stsb [test]" and len(on_split.data.dataset) == 12
    nli = load_data("nli", verbose=False)
    with pytest.raises(SetupError, match=r"nli \[train\] cannot be evaluated: .* and 'single sentences \+ class' data"):
        choose_evaluation(stsb, nli, required=True)
    assert choose_evaluation(banking, Data(stsb.dataset, "scores")).reference is None


def test_pairs_hold_out_a_retrieval_task_of_their_own_rows():
    from lossbook.data import RetrievalSet
    from lossbook.run_data import Data
    from lossbook.run_setup import MIN_PAIRS_FOR_RETRIEVAL, choose_evaluation, retrieval_of_pairs

    # Duplicates: a shared passage is one passage relevant to both anchors; a repeated anchor is one query.
    shared = retrieval_of_pairs(["q1", "q2", "q1"], ["p", "p", "r"])
    assert list(shared.corpus.values()) == ["p", "r"] and list(shared.queries.values()) == ["q1", "q2"]
    ids = {text: pid for pid, text in shared.corpus.items()}
    assert shared.relevant == {"q0": {ids["p"], ids["r"]}, "q1": {ids["p"]}}

    rows = {"anchor": [f"question {i}" for i in range(100)], "positive": [f"answer {i}" for i in range(100)]}
    pairs = Data(datasets.Dataset.from_dict(rows), "my pairs")
    evaluation = choose_evaluation(pairs, hold_out=300)  # at most a fifth is held out
    retrieval = evaluation.data.dataset
    assert isinstance(retrieval, RetrievalSet) and len(retrieval.queries) == 20 and len(retrieval.corpus) == 20
    assert len(evaluation.train_data) == 80
    assert not set(retrieval.queries.values()) & set(evaluation.train_data["anchor"])  # held-out rows never train
    assert evaluation.description == "NDCG@10 on 20 held-out anchors, ranking all their positives"
    # Triplets: the negatives join the corpus, to be ranked below the positives.
    triplets = Data(datasets.Dataset.from_dict({**rows, "negative": [f"wrong {i}" for i in range(100)]}), "mine")
    held_triplets = choose_evaluation(triplets, hold_out=300)
    corpus = held_triplets.data.dataset.corpus.values()
    assert len(corpus) == 40 and sum(text.startswith("wrong") for text in corpus) == 20
    assert held_triplets.description == "NDCG@10 on 20 held-out anchors, ranking all their positives and negatives"
    few = Data(datasets.Dataset.from_dict({k: v[: MIN_PAIRS_FOR_RETRIEVAL - 1] for k, v in rows.items()}), "few")
    assert choose_evaluation(few, hold_out=300).description == "NDCG@10 on the xquad-retrieval set"
