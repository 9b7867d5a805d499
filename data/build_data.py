#!/usr/bin/env python3
"""Rebuild lossbook's offline data sets (data/<set>/*.csv) from hand-written templates.

Every row is generated from the word lists, templates and sentences in the _templates_*.py,
_sts_clusters_*.py and _intents_*.py files next to this one, which were written for lossbook (no
third-party data). Pure standard library, one random stream seeded with 0 (_common.R): running it
again writes byte-identical files.

    python3 data/build_data.py

Modules: _common (writing, helpers), _sts (stsb/), _nli (nli/, nli_triplets/); PAWS-style pairs,
the invented world (qa_pairs/, retrieval/), intents and plain sentences are built here.
"""

import itertools  # standard library only
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # keep data/ free of __pycache__
import _intents_banking  # noqa: E402
import _intents_clinc  # noqa: E402
import _intents_more  # noqa: E402
import _templates_hand as H  # noqa: E402
import _templates_names as N  # noqa: E402
import _templates_paws as P  # noqa: E402
import _templates_world as W  # noqa: E402
from _common import R, cap, expand, write  # noqa: E402
from _nli import build_nli  # noqa: E402
from _sts import CLUSTERS, build_sts  # noqa: E402


# ---------------------------------------------------------------- invented names
def name_pool(a, b, fmt="{}"):
    return R.sample([fmt.format(x + y) for x in a for y in b], len(a) * len(b))


TOWNS = name_pool(N.NAME_A, N.NAME_B)
RIVERS = name_pool(N.RIVER_A, N.RIVER_B)
PEAKS = name_pool(N.PEAK_A, N.PEAK_B, "Mount {}")
ISLES = name_pool(N.ISLE_A, N.ISLE_B)
COMPANIES = name_pool(N.COMPANY_A, N.COMPANY_B)
FILLER_TOWNS, ENTITY_TOWNS, PAWS_TOWNS = TOWNS[:150], TOWNS[150:220], TOWNS[220:]
PAWS_RIVERS, FILLER_RIVERS, ENTITY_RIVERS = RIVERS[:12], RIVERS[12:60], RIVERS[60:]
PAWS_PEAKS, FILLER_PEAKS, ENTITY_PEAKS = PEAKS[:12], PEAKS[12:50], PEAKS[50:]


def person():
    return f"{R.choice(P.PEOPLE_NAMES)[0]} {R.choice(P.SURNAMES)}"


# ---------------------------------------------------------------- PAWS-style pairs
def paws_slots(t):
    """Random slot values for one PAWS template of type t; returns (sentence, paraphrase, non-paraphrase)."""
    d = {}
    if t in ("role", "animal", "give"):
        pool = [n for n, _ in P.PEOPLE_NAMES] + P.ROLES if t != "animal" else R.choice(P.ANIMAL_PAIRS)
        d["x"], d["y"] = R.sample(pool, 2)
        d["v"], d["c"] = (
            (R.choice(P.ANIMAL_VERBS), R.choice(P.ANIMAL_CONTEXTS))
            if t == "animal"
            else (R.choice(P.ROLE_VERBS), R.choice(P.ROLE_CONTEXTS))
        )
        d["obj"] = R.choice(P.GIFTS)
    elif t in ("move", "born", "career"):
        first, d["pron"] = R.choice(P.PEOPLE_NAMES)
        d["n"], (d["c1"], d["c2"], d["c3"]) = f"{first} {R.choice(P.SURNAMES)}", R.sample(P.CITIES, 3)
        d["y1"] = R.randint(1985, 2012) if t == "move" else R.randint(1820, 1935)
        d["y2"] = d["y1"] + (R.randint(2, 9) if t == "move" else R.randint(48, 92))
        d["j1"], d["j2"] = R.sample(P.JOBS, 2)
    elif t in ("replace", "age"):
        d["x"], d["y"] = (person() for _ in range(2))
        d["post"], d["y1"], d["k"] = R.choice(P.POSTS), R.randint(1975, 2023), R.choice(P.AGE_GAPS)
    elif t == "trip":
        d["veh"], (d["c1"], d["c2"]), d["day"] = R.choice(P.VEHICLES), R.sample(P.CITIES, 2), R.choice(P.DAYS)
        d["late"] = R.choice([5, 10, 12, 15, 20, 25, 30, 40, 45, 50])
    elif t == "sport":
        (d["t1"], d["t2"]), (d["a"], d["b"]), d["r"] = R.sample(P.TEAMS, 2), R.choice(P.SCORES), R.choice(P.ROUNDS)
    elif t == "compare":
        kind, d["er"], d["opp"], d["adj"] = R.choice(P.COMPARE)
        d["x"], d["y"] = R.sample(
            {
                "river": [f"the {x} River" for x in PAWS_RIVERS],
                "mountain": PAWS_PEAKS,
                "town": PAWS_TOWNS[:12],
                "bridge": [f"the {x} Bridge" for x in PAWS_TOWNS[12:24]],
            }[kind],
            2,
        )
    elif t == "items":
        d["n"], (d["j1"], d["j2"]), (d["x"], d["y"]) = (
            R.choice(P.PEOPLE_NAMES)[0],
            R.sample(R.choice(P.ADJ_PAIRS), 2),
            R.sample(P.ITEMS, 2),
        )
        d["v"] = R.choice(sorted(P.ITEM_VERBS))
        d["c"] = R.choice(P.ITEM_VERBS[d["v"]])
    else:  # open
        d["n"], (d["x"], d["y"]), (d["m1"], d["m2"]) = (
            R.choice(PAWS_TOWNS),
            R.sample(P.INSTITUTIONS, 2),
            R.sample(P.MONTHS, 2),
        )
        d["y1"] = R.randint(1990, 2022)
    d.update({k.upper(): cap(v) for k, v in d.items() if isinstance(v, str)})
    base, paras, nons = P.PAWS[t]
    return base.format(**d), R.choice(paras).format(**d), R.choice(nons).format(**d)


PAWS_PLAN = {
    "role": 120,
    "animal": 60,
    "give": 90,
    "move": 85,
    "born": 85,
    "sport": 80,
    "compare": 50,
    "items": 80,
    "career": 85,
    "open": 60,
    "replace": 70,
    "trip": 60,
    "age": 55,
}
PAWS_TEST = 205  # sources; the other sources go to train (two rows each: one paraphrase, one not)


def build_paws():
    inst, used = [], set()
    for t, n in PAWS_PLAN.items():  # no sentence may appear in two instances
        while sum(1 for x in inst if x[3] == t) < n:
            r = paws_slots(t)
            if len(set(r)) == 3 and not used & set(r):
                used.update(r)
                inst.append(r + (t,))
    R.shuffle(inst)
    splits = []
    for name, part in (("train", inst[PAWS_TEST:]), ("test", inst[:PAWS_TEST])):
        rows = []
        for s, para, non, _ in part:
            for other, label in ((para, 1), (non, 0)):
                rows.append((s, other, label) if R.random() < 0.5 else (other, s, label))
        R.shuffle(rows)
        write(f"paws/{name}.csv", ["sentence1", "sentence2", "label"], rows)
        splits += rows
    return splits


# ---------------------------------------------------------------- invented world: QA + retrieval
def make_entity(typ, i):
    c = {
        "person": person(),
        "year": R.randint(1150, 1890),
        "year2": R.randint(1948, 2016),
        "year3": R.randint(1850, 1975),
        "year4": R.randint(1780, 1935),
        "year5": R.randint(8, 15) * 100,
        "year6": R.randint(1880, 2015),
        "recent": R.randint(2010, 2023),
        "pop": f"{R.randint(18, 950) * 100:,}",
        "staff": f"{R.choice([40, 85, 120, 230, 410, 900, 1500, 2300]):,}",
        "length": R.randint(40, 420),
        "height": f"{R.randint(1800, 4300):,}",
        "area": R.randint(12, 240),
        "hillh": R.randint(150, 640),
        "visitors": f"{R.randint(8, 120) * 1000:,}",
        "town": R.choice(FILLER_TOWNS),
        "mountain": R.choice(FILLER_PEAKS),
        "river": R.choice(FILLER_RIVERS),
        "month": R.choice(P.MONTHS),
    }
    c.update({k: R.choice(v) for k, v in W.SLOTS.items()})
    if typ == "town":
        c["n"] = ENTITY_TOWNS[i]
    elif typ == "company":
        kind = R.choice(sorted(W.COMPANY_TYPES))
        c["n"] = f"{COMPANIES[i]} {kind}"
        c["product"] = R.choice(W.COMPANY_TYPES[kind])
    elif typ == "river":
        c["n"] = f"the {ENTITY_RIVERS[i]} River"
    elif typ == "mountain":
        c["n"] = ENTITY_PEAKS[i]
    elif typ == "invention":
        dev = R.choice(sorted(W.DEVICES))
        j = R.randrange(2)
        c.update(
            n=f"the {FILLER_TOWNS[i]} {dev}",
            purpose=W.DEVICES[dev][0][j],
            firstplace=W.DEVICES[dev][1][j],
            material=R.choice(W.DEVICES[dev][2]),
        )
    elif typ == "festival":
        kind = sorted(W.FESTIVALS)[i % len(W.FESTIVALS)]
        c.update(
            n=f"the {FILLER_TOWNS[70 + i]} {kind} Festival", celebrates=W.FESTIVALS[kind][0], month=W.FESTIVALS[kind][1]
        )
    elif typ == "island":
        c["n"] = ISLES[i]
    else:
        c["n"] = f"the {P.SURNAMES[i]} Museum"
    facts = []
    for attr, qs, ans, extra in W.WORLD[typ]:
        facts.append(
            (
                attr,
                [cap(q.format(**c)) for q in qs],
                cap(R.choice(ans).format(**c)),
                cap(R.choice(extra).format(**c)) if extra else None,
                [cap(q.format(**c)) for q in W.MORE_QUESTIONS[typ][attr]],  # no draw from R
            )
        )
    return cap(re.sub(r"^the ", "", c["n"])), facts


WORLD_PLAN = {
    "town": 53,
    "company": 52,
    "river": 52,
    "mountain": 52,
    "invention": 53,
    "festival": 53,
    "island": 52,
    "museum": 53,
}
QA_ENTITIES = 320  # the other entities are the retrieval corpus
QA_ASKED_AGAIN = 150  # facts that qa_pairs/train.csv asks with two or three questions (one answer sentence) ...
QA_ASKED_THRICE = 50  # ... of them with three


def repeat_questions(pairs, others, order):
    """qa_pairs/train.csv rows: pairs in `order`, where QA_ASKED_AGAIN facts get one more question (QA_ASKED_THRICE
    of them two more) with the same positive, right after the first. The first row's fact is asked three times, so
    the first rows show a repeated positive. These choices use their own stream, so R and every other file stay as
    they were without the repeats."""
    rng = random.Random(1)
    again = [order[0]] + rng.sample(order[1:], QA_ASKED_AGAIN - 1)
    thrice = set([order[0]] + rng.sample(again[1:], QA_ASKED_THRICE - 1))
    again = set(again)
    rows = []
    for i in order:
        rows.append(pairs[i])
        if i in again:
            rows += [(q, pairs[i][1]) for q in rng.sample(others[i], 2 if i in thrice else 1)]
    assert len({q for q, _ in rows}) == len(rows) == len(pairs) + QA_ASKED_AGAIN + QA_ASKED_THRICE
    assert len({a for _, a in rows}) == len(pairs)
    return rows


def build_world():
    ents = [make_entity(t, i) for t, n in WORLD_PLAN.items() for i in range(n)]
    assert len({e[0] for e in ents}) == len(ents)
    R.shuffle(ents)
    qa, ret = ents[:QA_ENTITIES], ents[QA_ENTITIES:]
    pairs, trips, others = [], [], []
    for _, facts in qa:
        for attr, qs, ans, _, more in facts:
            q = R.choice(qs)
            pairs.append((q, ans))
            trips.append((q, ans, R.choice([f[2] for f in facts if f[0] != attr])))
            others.append([x for x in qs if x != q] + more)  # other ways to ask the same fact
    assert len({q for q, _ in pairs}) == len(pairs) and len({a for _, a in pairs}) == len(pairs)
    order = list(range(len(pairs)))
    R.shuffle(order)
    write("qa_pairs/train.csv", ["anchor", "positive"], repeat_questions(pairs, others, order))
    write("qa_pairs/triplets.csv", ["anchor", "positive", "negative"], [trips[i] for i in order])
    passages = []  # every entity: 5 passages, 2 of them asked about, the other 3 are distractors
    for title, facts in ret:
        asked = R.sample(range(len(facts)), 2)
        passages += [
            (title, f"{ans} {extra}" if extra and R.random() < 0.5 else ans, j in asked and R.choice(qs))
            for j, (_, qs, ans, extra, _) in enumerate(facts)
        ]
    R.shuffle(passages)
    corpus = [(f"p{i + 1:03d}", title, text) for i, (title, text, _) in enumerate(passages)]
    queries = [(q, f"p{i + 1:03d}") for i, (_, _, q) in enumerate(passages) if q]
    R.shuffle(queries)
    qrows = [(f"q{i + 1:03d}", q) for i, (q, _) in enumerate(queries)]
    qrels = [(f"q{i + 1:03d}", pid, 1) for i, (_, pid) in enumerate(queries)]
    write("retrieval/queries.csv", ["qid", "text"], qrows)
    write("retrieval/corpus.csv", ["pid", "title", "text"], corpus)
    write("retrieval/qrels.csv", ["qid", "pid", "score"], qrels)
    return pairs, corpus  # one question per fact (the sentences/ pool), without the repeats


# ---------------------------------------------------------------- intents
# Openers and closers that fill an intent up to its size when its frames have too few expansions.
DECOR = {
    "banking77": (
        ["Hi, ", "Hello, ", "Hi there, ", "Sorry, ", "Quick question: "],
        [" Thanks.", " Thank you.", " Can you help?"],
    ),
    "clinc150": (["Hey, ", "Hi, ", "Okay, ", "Excuse me, "], [" Thanks.", " Thank you."]),
}
NO_DECOR = {"greeting"}


def decorate(u, openers, closers):
    w = u.split()[0].rstrip(",?.")
    keep = w in ("I", "I'm", "I'd", "I've", "I'll", "Apple", "Google") or w.isupper()
    return [o + (u if keep else u[:1].lower() + u[1:]) for o in openers] + [u + c for c in closers]


def round_robin(lists):
    return list(dict.fromkeys(u for group in itertools.zip_longest(*lists) for u in group if u))


def pick_utterances(frames, n, decor):
    """n distinct expansions, taken round-robin over the frames so that every phrasing is used; when the
    frames have fewer than n, expansions with an opener ("Hi, ...") or a closer ("... Thanks.") fill up."""
    plain = [R.sample(e, len(e)) for e in map(expand, frames)]
    out = round_robin(plain)[:n]
    if len(out) < n and decor:
        dec = [R.sample(d, len(d)) for d in ([x for u in lst for x in decorate(u, *decor)] for lst in plain)]
        out += [u for u in round_robin(dec) if u not in out][: n - len(out)]
    assert len(out) == n, f"only {len(out)} of {n} utterances for {frames[0]}"
    R.shuffle(out)
    return out


def build_intents(folder, intents, more, n_train, n_test, with_domain):
    train, test, labels, seen = [], [], [], set()
    for label, item in enumerate(intents):
        name, frames = item[0], item[-1] + more.get(item[0], [])
        utts = pick_utterances(frames, n_train + n_test, None if name in NO_DECOR else DECOR[folder])
        assert not seen & set(utts), f"{name} shares an utterance with another intent"
        seen.update(utts)
        test += [(u, label) for u in utts[:n_test]]
        train += [(u, label) for u in utts[n_test:]]
        labels.append((label, name, item[1]) if with_domain else (label, name))
    R.shuffle(train)
    R.shuffle(test)
    write(f"{folder}/train.csv", ["sentence", "label"], train)
    write(f"{folder}/test.csv", ["sentence", "label"], test)
    write(f"{folder}/labels.csv", ["label", "label_name"] + (["domain"] if with_domain else []), labels)
    return [u for u, _ in train + test]


# ---------------------------------------------------------------- plain sentences
def build_sentences(pools):
    out, seen = [], set()
    for pool, n in pools:
        cand = sorted(set(pool) - seen)
        R.shuffle(cand)
        assert len(cand) >= n, (n, len(cand))
        out += cand[:n]
        seen.update(cand[:n])
    R.shuffle(out)
    write("sentences/train.csv", ["sentence"], [(s,) for s in out])


def main():
    sts = build_sts()
    nli = build_nli()
    paws = build_paws()
    qa, corpus = build_world()
    banking = build_intents("banking77", _intents_banking.BANKING, _intents_more.BANKING_MORE, 50, 14, False)
    clinc = build_intents("clinc150", _intents_clinc.CLINC, _intents_more.CLINC_MORE, 50, 14, True)
    hand = {s for p in H.STS_HAND for s in p[:2]} | {s for p in H.NLI_HAND for s in p}
    hand |= {s for base, paras, foils in CLUSTERS for s in [base] + [x for x, _ in paras + foils]}
    build_sentences(
        [
            ([s for p in sts for s in p[:2] if s not in hand], 560),
            ([p for p, _, _ in nli if p not in hand], 220),
            ([h for _, h, _ in nli if h not in hand], 220),
            (hand, 330),
            ([s for p in paws for s in p[:2]], 300),
            ([a for _, a in qa], 230),
            ([t for _, _, t in corpus], 80),
            ([q for q, _ in qa], 60),
            (banking + clinc, 200),
        ]
    )


if __name__ == "__main__":
    main()
