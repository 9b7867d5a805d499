"""Sentences per second: lossbook's ``EmbeddingModel.encode`` vs ``SentenceTransformer.encode``, same run, same texts.

    LOSSBOOK_DATA=/work/shared/data HF_HUB_OFFLINE=1 python bench/encode_speed.py [--texts 1000] [--rounds 5]
        [--batch-size 32] [--device cpu]

Both libraries embed the same 1,000 distinct STS-B sentences (the mirror, or the bundled set) from the
same all-MiniLM-L6-v2 weights, batch size 32, alternating rounds (and which library goes first) so that
machine noise hits both alike, after one warm-up call each. Prints each median, the largest difference
between the two embeddings, and the throughput ratio lossbook / sentence-transformers (target: >= 1.0).
"""

from __future__ import annotations

import argparse
import time

from _common import (
    add_common_arguments,
    apply_common_arguments,
    header,
    load_both,
    median,
    model_path,
    print_rows,
    ratio_line,
    synchronize,
)

TARGET = 1.0
BF16_TARGET = 1.5  # lossbook in bf16 (AMX, or a GPU) against sentence-transformers in fp32


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=1000, help="distinct STS-B sentences to embed (default 1000)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--mixed-precision", choices=["fp32", "auto", "bf16"], default="fp32", help="lossbook's encode precision"
    )
    add_common_arguments(parser)
    args = parser.parse_args()
    device = apply_common_arguments(args)
    header("encode throughput: lossbook EmbeddingModel.encode vs SentenceTransformer.encode", device)

    import lossbook

    pairs = lossbook.load_dataset("stsb", "train")
    texts = list(dict.fromkeys(list(pairs["sentence1"]) + list(pairs["sentence2"])))[: args.texts]
    ours, theirs = load_both(model_path(args.tiny), device)
    precision = {"fp32": False, "auto": "auto", "bf16": True}[args.mixed_precision]
    from lossbook.precision import choose_precision

    chosen = choose_precision(ours.device, precision, ours)
    print(
        f"{len(texts)} texts, batch {args.batch_size}, {args.rounds} rounds; lossbook {chosen.name} ({chosen.reason}),"
    )
    print("sentence-transformers fp32\n")

    encoders = {
        "lossbook": lambda: ours.encode(texts, batch_size=args.batch_size, mixed_precision=precision),
        "sentence-transformers": lambda: theirs.encode(texts, batch_size=args.batch_size, convert_to_tensor=True),
    }
    ours.encode(texts[:64])  # warm-up: the first calls allocate and pick kernels
    theirs.encode(texts[:64])
    seconds = {name: [] for name in encoders}
    outputs = {}
    for round_ in range(args.rounds):
        order = list(encoders) if round_ % 2 == 0 else list(encoders)[::-1]
        for name in order:
            synchronize(device)
            start = time.perf_counter()
            outputs[name] = encoders[name]()
            synchronize(device)
            seconds[name].append(time.perf_counter() - start)
    difference = (outputs["lossbook"].cpu() - outputs["sentence-transformers"].cpu()).abs().max().item()
    print(f"max |difference| between the two libraries' embeddings: {difference:.2e}\n")

    rows = []
    for name, times in seconds.items():
        rows.append(
            [name, f"{median(times):.2f}", f"{len(texts) / median(times):,.0f}", ", ".join(f"{s:.2f}" for s in times)]
        )
    print_rows(rows, ["library", "median s", "sentences/s", "rounds (s)"])
    ratio = median(seconds["sentence-transformers"]) / median(seconds["lossbook"])
    target = TARGET if chosen.dtype is None else BF16_TARGET
    print(ratio_line("throughput, lossbook / sentence-transformers", ratio, f">= {target}", ratio >= target))


if __name__ == "__main__":
    main()
