"""Helpers shared by the generator modules of build_data.py (standard library only).

R is the one random stream of the whole build, seeded with 0: every module draws from it in a fixed
order, so a rerun writes byte-identical files. Never iterate over a set without sorting it first
(string hashing differs between runs).
"""

import csv  # noqa: E401  (standard library only)
import itertools
import os
import random
import re

HERE = os.path.dirname(os.path.abspath(__file__))
R = random.Random(0)


def write(rel, header, rows):
    rows = [tuple(str(x) for x in r) for r in rows]
    assert len(set(rows)) == len(rows), f"duplicate rows in {rel}"
    assert all(x.strip() for r in rows for x in r), f"empty cell in {rel}"
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    print(f"{rel:40s} {len(rows):5d} rows")


def cap(s):  # first letter upper-case
    return s[:1].upper() + s[1:]


def low(s):  # first letter lower-case, unless the sentence starts with a name ("Two", "A" and "An" do not count)
    return s[:1].lower() + s[1:] if re.match(r"(A|An|The|Two|Three|Four|Five|Six|Some|Nobody|Someone)\b", s) else s


def unique_take(gen, n, key=lambda x: x, tries=50000, seen=None):
    """Call gen() until n items with distinct keys were collected (None results are skipped).

    `seen` (a set of keys) may be shared between calls so that items stay distinct across them."""
    out, seen = [], set() if seen is None else seen
    for _ in range(tries):
        item = gen()
        if item is None or key(item) in seen:
            continue
        seen.add(key(item))
        out.append(item)
        if len(out) == n:
            return out
    raise RuntimeError(f"could only make {len(out)} of {n} items")


def expand(frame):
    """All expansions of a frame with "[a|b]" alternatives, in order."""
    parts = re.split(r"\[([^\]]*)\]", frame)
    out = []
    for combo in itertools.product(*[p.split("|") if i % 2 else [p] for i, p in enumerate(parts)]):
        s = re.sub(r"\s+", " ", "".join(combo)).strip()
        out.append(re.sub(r" ([,.?!])", r"\1", s))
    return out
