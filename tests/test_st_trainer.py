"""lossbook's losses run inside sentence-transformers' own trainer, on a SentenceTransformer."""

from __future__ import annotations

import pytest
import torch

sentence_transformers = pytest.importorskip("sentence_transformers")


@pytest.fixture
def st_tiny(tiny, tmp_path):
    """The tiny model as a SentenceTransformer (lossbook's save() writes the folder it reads)."""
    return sentence_transformers.SentenceTransformer(str(tiny.save(tmp_path / "tiny")), device="cpu")


@pytest.mark.slow
@pytest.mark.parametrize("loss_name", ["CoSENTLoss", "CachedMultipleNegativesRankingLoss", "MatryoshkaLoss"])
def test_trainer_takes_a_lossbook_loss(st_tiny, tmp_path, loss_name):
    import datasets
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments

    from lossbook import losses

    if loss_name == "CoSENTLoss":
        loss = losses.CoSENTLoss(st_tiny)
        data = {
            "sentence1": ["a cat sits", "a dog runs", "the sun is hot", "rain falls"] * 4,
            "sentence2": ["a cat is sitting", "a car drives", "it is warm", "the sky is blue"] * 4,
            "score": [0.9, 0.1, 0.7, 0.3] * 4,
        }
    else:
        inner = losses.CachedMultipleNegativesRankingLoss(st_tiny, mini_batch_size=2)
        loss = inner if loss_name != "MatryoshkaLoss" else losses.MatryoshkaLoss(st_tiny, inner, [64, 32, 16])
        data = {
            "anchor": [f"question number {i}" for i in range(16)],
            "positive": [f"answer number {i}" for i in range(16)],
        }
    before = [p.detach().clone() for p in st_tiny.parameters()]
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path / "out"),
        max_steps=3,
        per_device_train_batch_size=4,
        learning_rate=1e-3,
        report_to="none",
        save_strategy="no",
        logging_steps=1,
        use_cpu=True,
        dataloader_num_workers=0,
    )
    trainer = SentenceTransformerTrainer(
        model=st_tiny, args=args, train_dataset=datasets.Dataset.from_dict(data), loss=loss
    )
    result = trainer.train()
    assert torch.isfinite(torch.tensor(result.training_loss))
    changed = sum(not torch.equal(a, b.detach()) for a, b in zip(before, st_tiny.parameters()))
    assert changed > 0, "the trainer's optimiser never moved a weight"
