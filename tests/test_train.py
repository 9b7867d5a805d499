"""train(): every loss family learns on the tiny model; interrupt, stop, NaN, determinism, fast mode, errors."""

from __future__ import annotations

import threading

import datasets
import pytest
import torch

from lossbook import convert, losses
from lossbook.batching import TokenizedColumns
from lossbook.data import load_dataset
from lossbook.detect import detect_format
from lossbook.history import History
from lossbook.model import tiny_model
from lossbook.train import TrainingError, train


@pytest.fixture(autouse=True)
def _bundled_only(monkeypatch):
    monkeypatch.delenv("LOSSBOOK_DATA", raising=False)


def _rows(name: str, n: int = 32, split: str = "train") -> datasets.Dataset:
    return load_dataset(name, split, verbose=False).select(range(n))


def _intents(classes: int = 4) -> datasets.Dataset:
    data = load_dataset("banking77", verbose=False)
    return data.filter(lambda row: row["label"] < classes)


def _batch_loss(model, loss, data: datasets.Dataset) -> float:
    """The loss over the whole (small) data set as one batch, in eval mode: a fixed yardstick."""
    detection = detect_format(data)
    tokens = TokenizedColumns.build(model, data, detection.input_columns, detection.label_column, 64)
    rows = list(range(len(data)))
    from lossbook.batching import label_tensor

    model.eval(), loss.eval()
    torch.manual_seed(0)
    with torch.no_grad():
        value = loss(
            tokens.features(rows, model.tokenizer.pad_token_id, model.device),
            label_tensor(tokens.labels, rows, model.device),
        )
    return float(sum(value.values()) if isinstance(value, dict) else value)


def _case(name: str, model):
    teacher = tiny_model(seed=7)
    triplets = _rows("nli-triplets")
    cases = {
        "MultipleNegativesRankingLoss": (lambda: losses.MultipleNegativesRankingLoss(model), _rows("qa-pairs")),
        "CachedMultipleNegativesRankingLoss": (
            lambda: losses.CachedMultipleNegativesRankingLoss(model, mini_batch_size=4),
            _rows("qa-pairs"),
        ),
        "CoSENTLoss": (lambda: losses.CoSENTLoss(model), _rows("stsb")),
        "ContrastiveLoss": (lambda: losses.ContrastiveLoss(model), _rows("paws")),
        "SoftmaxLoss": (lambda: losses.SoftmaxLoss(model, model.embedding_dim, num_labels=3), _rows("nli", 30)),
        "TripletLoss": (lambda: losses.TripletLoss(model), triplets),
        "BatchAllTripletLoss": (lambda: losses.BatchAllTripletLoss(model, margin=0.5), _intents()),
        "ContrastiveTensionLoss": (
            lambda: losses.ContrastiveTensionLoss(model),
            convert.sentences_to_anchor_pairs(_rows("sentences"), pos_neg_ratio=2),
        ),
        "ContrastiveTensionLossInBatchNegatives": (
            lambda: losses.ContrastiveTensionLossInBatchNegatives(model),
            _rows("sentences"),
        ),
        "DenoisingAutoEncoderLoss": (
            lambda: losses.DenoisingAutoEncoderLoss(model),
            convert.add_deletion_noise(_rows("sentences", 16)),
        ),
        "MSELoss": (lambda: losses.MSELoss(model), convert.add_teacher_embeddings(_rows("sentences"), teacher)),
        "MarginMSELoss": (lambda: losses.MarginMSELoss(model), convert.add_teacher_margins(triplets, teacher)),
        "DistillKLDivLoss": (lambda: losses.DistillKLDivLoss(model), convert.add_teacher_scores(triplets, teacher)),
        "MatryoshkaLoss": (lambda: losses.MatryoshkaLoss(model, losses.CoSENTLoss(model), [64, 32, 16]), _rows("stsb")),
        "AdaptiveLayerLoss": (
            lambda: losses.AdaptiveLayerLoss(model, losses.MultipleNegativesRankingLoss(model), n_layers_per_step=-1),
            _rows("qa-pairs"),
        ),
    }
    make_loss, data = cases[name]
    return make_loss(), data


FAMILIES = [
    "MultipleNegativesRankingLoss",
    "CachedMultipleNegativesRankingLoss",
    "CoSENTLoss",
    "ContrastiveLoss",
    "SoftmaxLoss",
    "TripletLoss",
    "BatchAllTripletLoss",
    "ContrastiveTensionLoss",
    "ContrastiveTensionLossInBatchNegatives",
    "DenoisingAutoEncoderLoss",
    "MSELoss",
    "MarginMSELoss",
    "DistillKLDivLoss",
    "MatryoshkaLoss",
    "AdaptiveLayerLoss",
]


@pytest.mark.parametrize("name", FAMILIES)
def test_twenty_steps_lower_the_loss(name):
    model = tiny_model(seed=0)
    loss, data = _case(name, model)
    before = _batch_loss(model, loss, data)
    history = train(model, loss, data, steps=20, batch_size=16, lr=1e-3, progress=False, seed=0)
    after = _batch_loss(model, loss, data)
    assert history.stopped == "completed" and len(history.losses) == 20
    assert after < before, f"{name}: {before:.4f} -> {after:.4f}"


def test_a_run_starts_and_ends_without_gradients():
    """Stale gradients from before the run do not leak into its first step; none are left after it (memory)."""

    def run(stale: bool):
        model = tiny_model(seed=0)
        torch.manual_seed(0)  # the classifier's initial weights
        loss = losses.SoftmaxLoss(model, model.embedding_dim, num_labels=3)
        if stale:
            for parameter in list(model.parameters()) + list(loss.parameters()):
                parameter.grad = torch.full_like(parameter, 100.0)
        history = train(model, loss, _rows("nli", 30), steps=3, batch_size=8, lr=1e-3, progress=False, seed=0)
        assert all(p.grad is None for p in list(model.parameters()) + list(loss.parameters()))
        return history.losses, [p.detach().clone() for p in model.parameters()]

    clean_losses, clean_weights = run(stale=False)
    stale_losses, stale_weights = run(stale=True)
    assert clean_losses == stale_losses
    assert all(torch.equal(a, b) for a, b in zip(clean_weights, stale_weights))


def test_same_seed_same_history():
    runs = []
    for _ in range(2):
        model = tiny_model(seed=0)
        runs.append(
            train(
                model,
                losses.MultipleNegativesRankingLoss(model),
                _rows("qa-pairs"),
                steps=6,
                batch_size=8,
                lr=1e-3,
                progress=False,
                seed=3,
            ).losses
        )
    assert runs[0] == runs[1]
    model = tiny_model(seed=0)
    other = train(
        model,
        losses.MultipleNegativesRankingLoss(model),
        _rows("qa-pairs"),
        steps=6,
        batch_size=8,
        lr=1e-3,
        progress=False,
        seed=4,
    ).losses
    assert other != runs[0]


def test_stop_event_ends_cleanly_and_keeps_the_model():
    model = tiny_model(seed=0)
    stop = threading.Event()
    history = train(
        model,
        losses.CoSENTLoss(model),
        _rows("stsb"),
        steps=50,
        batch_size=8,
        lr=1e-3,
        progress=False,
        stop_event=stop,
        callbacks=[lambda step, h: stop.set() if step == 3 else None],
    )
    assert history.stopped == "stopped" and history.steps == [1, 2, 3]
    assert not model.training


def test_keyboard_interrupt_keeps_the_history():
    model = tiny_model(seed=0)

    def interrupt(step, history):
        if step == 2:
            raise KeyboardInterrupt

    history = train(
        model, losses.CoSENTLoss(model), _rows("stsb"), steps=10, batch_size=8, progress=False, callbacks=[interrupt]
    )
    assert history.stopped == "interrupted" and len(history.losses) == 2


def test_nan_loss_names_the_step_and_a_cause():
    model = tiny_model(seed=0)
    with torch.no_grad():
        model.transformer.embeddings.word_embeddings.weight.fill_(float("nan"))
    # At step 1 no update has been applied yet: the cause named is the weights, not the learning rate (issue #13).
    with pytest.raises(TrainingError, match=r"at step 1.*weights already hold NaN.*before training started") as caught:
        train(model, losses.CoSENTLoss(model), _rows("stsb"), steps=5, batch_size=8, progress=False)
    assert caught.value.history.stopped == "diverged" and caught.value.history.losses == []


def test_wrong_format_names_the_converter():
    model = tiny_model(seed=0)
    with pytest.raises(TrainingError, match="pair_class_to_triplets"):
        train(model, losses.TripletLoss(model), _rows("nli"), steps=2, progress=False)


def test_evaluator_runs_before_during_and_after(tmp_path):
    model = tiny_model(seed=0)
    calls = []

    def evaluator(m):
        calls.append(m.training)
        return {"score": float(len(calls))}

    history = train(
        model,
        losses.CoSENTLoss(model),
        _rows("stsb"),
        steps=4,
        batch_size=8,
        progress=False,
        evaluator=evaluator,
        eval_every=2,
    )
    assert [e["step"] for e in history.evaluations] == [0, 2, 4] and not any(calls)
    again = History.load(history.save(tmp_path / "history.json"))
    assert again.losses == history.losses and again.evaluations == history.evaluations


def test_frozen_encoder_trains_only_the_head_without_running_the_transformer_per_step():
    model = tiny_model(seed=0)
    encoder_before = [p.detach().clone() for p in model.transformer.parameters()]
    data = _rows("stsb", 64)
    loss = losses.CoSENTLoss(model)
    before = _batch_loss(model, loss, data)
    calls = []
    hook = model.transformer.register_forward_hook(lambda *args: calls.append(1))
    history = train(model, loss, data, steps=300, batch_size=16, lr=1e-3, progress=False, freeze_encoder=True)
    hook.remove()
    # The transformer runs only to fill the cache (at most 128 distinct texts, 64 per pass), never per step.
    assert model.head is not None and len(history.losses) == 300 and 1 <= len(calls) <= 2
    assert all(torch.equal(a, b) for a, b in zip(encoder_before, model.transformer.parameters()))
    assert all(p.requires_grad for p in model.transformer.parameters()), "the encoder is trainable again afterwards"
    assert _batch_loss(model, loss, data) < before


@pytest.mark.parametrize("name", ["DenoisingAutoEncoderLoss", "ContrastiveTensionLoss", "AdaptiveLayerLoss"])
def test_frozen_encoder_refuses_losses_that_need_tokens(name):
    model = tiny_model(seed=0)
    loss, data = _case(name, model)
    with pytest.raises(TrainingError, match="freeze_encoder"):
        train(model, loss, data, steps=2, progress=False, freeze_encoder=True)


def test_sentence_class_data_uses_group_by_label_batches():
    model = tiny_model(seed=0)
    history = train(model, losses.BatchHardTripletLoss(model), _intents(), steps=3, batch_size=8, progress=False)
    assert history.config["sampler"] == "group-by-label"
    history = train(
        model, losses.MultipleNegativesRankingLoss(model), _rows("qa-pairs"), steps=2, batch_size=8, progress=False
    )
    assert history.config["sampler"] == "no-duplicates"


@pytest.mark.slow
def test_cosent_on_stsb_raises_dev_spearman(minilm):
    """The real thing: a short CoSENT run on STS-B train raises STS-B dev Spearman (on whichever source serves it)."""
    import copy

    from scipy.stats import spearmanr

    model = copy.deepcopy(minilm)
    dev = load_dataset("stsb", "validation", verbose=False)

    def spearman(m):
        a, b = m.encode(list(dev["sentence1"])), m.encode(list(dev["sentence2"]))
        return {"spearman": spearmanr((a * b).sum(-1).numpy(), list(dev["score"])).statistic}

    train_rows = load_dataset("stsb", verbose=False).shuffle(seed=0)
    train_rows = train_rows.select(range(min(480, len(train_rows))))
    history = train(
        model,
        losses.CoSENTLoss(model),
        train_rows,
        steps=30,
        batch_size=16,
        lr=2e-5,
        progress=False,
        evaluator=spearman,
        max_seq_length=64,
    )
    first, last = history.evaluations[0]["spearman"], history.evaluations[-1]["spearman"]
    assert last > first, (first, last)


def _without_dropout(model):
    """Dropout draws differ between one process and two, so the equality is checked without it."""
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    return model


# How each kind of loss gets its gradients averaged under several processes: a plain loss through the
# DDP wrapper (sorted chunks), a cached one through DDP once per replayed mini-batch, SoftmaxLoss's own
# classifier by the leftover all-reduce, and the frozen-encoder head and AdaptiveLayerLoss (its own forward)
# by the leftover all-reduce alone.
_DISTRIBUTED_CASES = {
    "mnrl": ("qa-pairs", lambda model: losses.MultipleNegativesRankingLoss(model), {}),
    "cached-mnrl": ("qa-pairs", lambda model: losses.CachedMultipleNegativesRankingLoss(model, mini_batch_size=3), {}),
    "softmax": (
        "nli",
        lambda model: losses.SoftmaxLoss(model, model.get_sentence_embedding_dimension(), num_labels=3),
        {},
    ),
    "frozen-head": ("qa-pairs", lambda model: losses.MultipleNegativesRankingLoss(model), {"freeze_encoder": True}),
    "adaptive-layer": (
        "qa-pairs",
        lambda model: losses.AdaptiveLayerLoss(model, losses.MultipleNegativesRankingLoss(model)),
        {},
    ),
}
_THROUGH_DDP = {"mnrl", "cached-mnrl", "softmax"}  # the others never call the model they are handed


def _distributed_run(case: str, batch_size: int, loss_seed: int = 0):
    """Train the case's loss 4 steps; the losses, what trained, the loss's own parameters, and what the loss called."""
    data_name, make_loss, options = _DISTRIBUTED_CASES[case]
    model = _without_dropout(tiny_model(seed=0))
    # Process 1 draws another SoftmaxLoss classifier: train() must start every process from process 0's.
    torch.manual_seed(loss_seed)
    loss = make_loss(model)
    called = []
    history = train(
        model,
        loss,
        _rows(data_name),
        steps=4,
        batch_size=batch_size,
        lr=1e-3,
        progress=False,
        seed=0,
        device="cpu",
        callbacks=[lambda step, history: called.append(type(loss.model))],
        **options,
    )
    trained = model.head.weight if options else model.transformer.embeddings.word_embeddings.weight[:50]
    model_ids = {id(p) for p in model.parameters()}
    own = [p.detach().clone() for p in loss.parameters() if id(p) not in model_ids]
    return {"losses": history.losses, "trained": trained.detach().clone(), "own": own, "called": called, "after": loss}


def _train_in_process(rank: int, world_size: int, init_file: str, out_file: str, case: str) -> None:
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world_size)
    torch.set_num_threads(1)
    run = _distributed_run(case, batch_size=4, loss_seed=rank)
    if rank == 0:
        run["called"] = [issubclass(kind, DistributedDataParallel) for kind in run["called"]]
        run["after"] = isinstance(run["after"].model, DistributedDataParallel)
        torch.save(run, out_file)
    dist.destroy_process_group()


@pytest.mark.slow
@pytest.mark.parametrize("case", list(_DISTRIBUTED_CASES))
def test_two_processes_equal_one_process_on_the_global_batch(tmp_path, monkeypatch, case):
    """torchrun-style training with gloo on the CPU: 2 processes x 4 rows = 1 process x 8 rows."""
    import torch.multiprocessing as mp

    monkeypatch.delenv("LOSSBOOK_DATA", raising=False)
    out = tmp_path / "two.pt"
    mp.spawn(_train_in_process, args=(2, str(tmp_path / "init"), str(out), case), nprocs=2, join=True)
    two = torch.load(out)
    one = _distributed_run(case, batch_size=8)
    assert two["losses"] == pytest.approx(one["losses"], abs=1e-5)
    torch.testing.assert_close(two["trained"], one["trained"], atol=1e-5, rtol=0)
    assert len(two["own"]) == len(one["own"]) == (2 if case == "softmax" else 0)
    for theirs, ours in zip(two["own"], one["own"], strict=True):
        torch.testing.assert_close(theirs, ours, atol=1e-5, rtol=0)
    # The loss called the model through DistributedDataParallel at every step (where it calls the model
    # it is handed), and got its own model back after the run.
    assert two["called"] == [case in _THROUGH_DDP] * 4
    assert not two["after"]


def test_planner_measures_a_step_without_changing_the_model():
    from lossbook.planner import plan

    model = tiny_model(seed=0)
    before = [p.detach().clone() for p in model.parameters()]
    estimate = plan(model, losses.CoSENTLoss(model), _rows("stsb"), batch_size=8, steps=50)
    assert 0 < estimate.seconds_per_step < 5 and estimate.peak_memory_mb > 10
    assert estimate.total_seconds == pytest.approx(estimate.setup_seconds + 50 * estimate.seconds_per_step)
    assert "50 steps take about" in str(estimate)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert all(p.grad is None for p in model.parameters())


def test_adamw_is_fused_on_a_cpu_and_updates_like_the_loop():
    from lossbook.train import _adamw

    torch.manual_seed(0)
    start = [torch.randn(5, 3), torch.randn(7)]
    grads = [torch.randn(5, 3), torch.randn(7)]
    results = []
    for fused in (True, False):
        params = [torch.nn.Parameter(t.clone()) for t in start]
        optimizer = (
            _adamw(params, lr=1e-2, weight_decay=0.01)
            if fused
            else torch.optim.AdamW(params, lr=1e-2, weight_decay=0.01)
        )
        assert bool(optimizer.defaults["fused"]) is fused
        for _ in range(3):
            for p, g in zip(params, grads):
                p.grad = g.clone()
            optimizer.step()
        results.append(params)
    for fused_param, loop_param, original in zip(*results, start):
        torch.testing.assert_close(fused_param, loop_param, atol=1e-6, rtol=1e-5)
        assert not torch.allclose(fused_param, original)  # it did move


def test_a_plan_leaves_the_run_after_it_exactly_as_without_it():
    """The planner trains real steps, then puts weights, loss-only parts, trainable flags and RNG back."""
    from lossbook.planner import plan

    def run(planned: bool, freeze: bool):
        model = tiny_model(seed=0)
        torch.manual_seed(0)
        loss = losses.SoftmaxLoss(model, model.embedding_dim, num_labels=3)
        if planned:
            estimate = plan(model, loss, _rows("nli", 30), batch_size=8, steps=5, freeze_encoder=freeze, repeats=2)
            assert estimate.setup_seconds >= 0 and estimate.seconds_per_step > 0 and ":" in estimate.precision
            assert "measured" in estimate.against(estimate.seconds_per_step)
        assert model.head is None  # a plan in the fast mode adds a head, then takes it away
        history = train(model, loss, _rows("nli", 30), steps=5, batch_size=8, lr=1e-3, progress=False,
                        freeze_encoder=freeze, mixed_precision=False)  # fmt: skip
        return history.losses, [p.detach().clone() for p in list(model.parameters()) + list(loss.parameters())]

    for freeze in (False, True):
        plain_losses, plain_weights = run(planned=False, freeze=freeze)
        planned_losses, planned_weights = run(planned=True, freeze=freeze)
        assert planned_losses == plain_losses
        assert all(torch.equal(a, b) for a, b in zip(plain_weights, planned_weights))
