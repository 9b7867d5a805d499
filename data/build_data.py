#!/usr/bin/env python3
"""Rebuild lossbook's offline data sets (data/<set>/*.csv) from hand-written templates.

Every row is generated here from the word lists, templates and sentences in _templates.py,
which were written for lossbook (no third-party data). Pure standard library, seeded with
random.Random(0): running it again writes byte-identical files.

    python3 data/build_data.py
"""
import csv, itertools, os, random, re, sys  # noqa: E401  (standard library only)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # keep data/ free of __pycache__
import _templates as T  # noqa: E402

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
    print(f"{rel:40s} {len(rows):4d} rows")


def cap(s):  # first letter upper-case
    return s[:1].upper() + s[1:]


def unique_take(gen, n, key=lambda x: x, tries=20000):
    """Call gen() until n items with distinct keys were collected (None results are skipped)."""
    out, seen = [], set()
    for _ in range(tries):
        item = gen()
        if item is None or key(item) in seen:
            continue
        seen.add(key(item))
        out.append(item)
        if len(out) == n:
            return out
    raise RuntimeError(f"could only make {len(out)} of {n} items")


# ---------------------------------------------------------------- scenes (STS-B, NLI)
SUBJ = {k: dict(zip(("kind", "a", "the", "be", "syn", "details", "hyper", "contrast"), v))
        for k, v in T.SUBJECTS.items()}
ACTS = [dict(zip(("domain", "who", "verbs", "objs", "places", "ent", "con"), a)) for a in T.ACTS]


def say(subj, be, verb, obj, place=None, front=False):
    vp = f"{verb} {obj}".strip()
    if place and front:
        return f"{cap(place)}, {subj[:1].lower() + subj[1:]} {be} {vp}."
    return f"{subj} {be} {vp}" + (f" {place}" if place else "") + "."


def scene(p_place):
    a = R.choice(ACTS)
    k = R.choice(a["who"])
    p = R.choice(a["places"]) if R.random() < p_place else None
    return a, k, SUBJ[k], R.choice(a["objs"]), p


def sts_pair(level):
    """One scene pair whose second sentence changes what `level` (0-5) allows; returns (s1, s2, score)."""
    a, k, s, o, p = scene(0.65)
    verb, obj, subj, be = a["verbs"][0], o, s["a"], s["be"]
    place = T.PLACES[p][0] if p else None
    s1, front = say(subj, be, verb, obj, place), False
    if level == 5:  # same meaning: synonyms and word order only
        ops = [n for n, ok in (("subj", s["syn"]), ("obj", o in T.OBJ_SYN), ("place", p), ("front", p),
                               ("verb", len(a["verbs"]) > 1)) if ok]
        if not ops:
            return None
        ops = R.sample(ops, min(len(ops), R.choice([1, 2])))
        subj = s["syn"] if "subj" in ops else subj
        obj = T.OBJ_SYN[o] if "obj" in ops else obj
        place = T.PLACES[p][1] if "place" in ops else place
        verb = a["verbs"][1] if "verb" in ops else verb
        front = "front" in ops
        score = R.choice([4.6, 4.8]) if "verb" in ops else R.choice([5.0, 5.0, 4.8])
    elif level == 4:  # a minor detail added or left out
        ops = ["detail"] + (["drop"] if p else [])
        ops = R.sample(ops, R.choice([1, len(ops)]))
        subj = R.choice(s["details"]) if "detail" in ops else subj
        place = None if "drop" in ops else place
        score = 3.6 if len(ops) == 2 else R.choice([4.0, 4.2] if "detail" in ops else [3.8, 4.0])
    elif level == 3:  # roughly equivalent, one important detail differs
        c = s["contrast"]
        ops = [n for n, ok in (("contrast", c in a["who"]), ("place", p and len(a["places"]) > 1)) if ok]
        if not ops:
            return None
        if R.choice(ops) == "contrast":
            subj, score = SUBJ[c]["a"], R.choice([2.8, 3.0, 3.2])
        else:
            place, score = T.PLACES[R.choice([q for q in a["places"] if q != p])][0], R.choice([3.2, 3.4])
    elif level == 2:  # same action, different object (and maybe subject)
        if len(a["objs"]) < 2:
            return None
        obj = R.choice([x for x in a["objs"] if x != o])
        if s["contrast"] in a["who"] and R.random() < 0.3:
            subj, score = SUBJ[s["contrast"]]["a"], R.choice([1.8, 2.0])
        else:
            score = R.choice([2.2, 2.4, 2.6])
    else:  # 1: same topic, different activity; 0: different topic
        same = level == 1
        others = [b for b in ACTS if (b["domain"] == a["domain"]) == same and b["verbs"][0] != a["verbs"][0]]
        b = R.choice(others)
        verb, obj = b["verbs"][0], R.choice(b["objs"])
        p2 = R.choice(b["places"]) if R.random() < 0.6 else None
        place = T.PLACES[p2][0] if p2 else None
        if k in b["who"] and R.random() < 0.6:
            score = R.choice([1.4, 1.6] if same else [0.4, 0.6])
        else:
            k2 = R.choice([x for x in b["who"] if x != k] or b["who"])
            subj, be = SUBJ[k2]["a"], SUBJ[k2]["be"]
            score = R.choice([0.8, 1.0, 1.2] if same else [0.0, 0.2] if k2 != k else [0.4, 0.6])
        if p and p == p2:
            score += 0.2 if same else 0.4
    s2 = say(subj, be, verb, obj, place, front)
    if s2 == s1:
        return None
    return (s1, s2, round(min(5.0, max(0.0, score)), 1))


def build_sts():
    pairs = []
    for level in (5, 4, 3, 2, 1, 0):
        pairs += unique_take(lambda: sts_pair(level), 92, key=lambda r: frozenset(r[:2]))
    seen = {frozenset(r[:2]) for r in pairs}
    pairs += [r for r in T.STS_HAND if frozenset(r[:2]) not in seen]
    pairs = [(b, a, sc) if R.random() < 0.5 else (a, b, sc) for a, b, sc in pairs]
    R.shuffle(pairs)
    rows = [(a, b, f"{sc:.1f}") for a, b, sc in pairs]
    for name, part in (("train", rows[:400]), ("dev", rows[400:500]), ("test", rows[500:600])):
        write(f"stsb/{name}.csv", ["sentence1", "sentence2", "score"], part)
    return pairs


def nli_item():
    """(premise, [entailed], [neutral], [contradicted]) for one random scene."""
    a, k, s, o, p = scene(0.85)
    subj = R.choice(s["details"]) if R.random() < 0.5 else s["a"]
    verb, be, the = a["verbs"][0], s["be"], s["the"]
    place, flag = (T.PLACES[p][0], T.PLACES[p][2]) if p else (None, None)
    vp = f"{verb} {o}".strip()
    ent = [say(R.choice(s["hyper"]), be, verb, o), say(s["a"], be, R.choice(a["ent"]), "")]
    if flag:
        ent.append(f"{R.choice(s['hyper'])} {be} {'indoors' if flag == 'in' else 'outdoors'}.")
    if subj != s["a"] and place:
        ent.append(say(s["a"], be, verb, o, place))
    plural = be == "are"
    neu = [x if isinstance(x, str) else x[plural] for x in T.NEUTRAL[a["domain"]]
           if isinstance(x, str) or s["kind"] != "kid"]
    neu += T.NEUTRAL_PEOPLE if s["kind"] != "animal" else []
    con = [f"{the} {be} {x}." for x in (a["con"] or (T.CONTRA_ANIMAL if s["kind"] == "animal" else T.CONTRA_PEOPLE))]
    con.append(f"{'No animal' if s['kind'] == 'animal' else 'Nobody'} is {vp}.")
    if flag:
        con.append(f"{the} {be} {vp} {'outdoors' if flag == 'in' else 'indoors'}.")
    return say(subj, be, verb, o, place), ent, [f"{the} {be} {x}." for x in neu], con


def build_nli():
    scenes = unique_take(nli_item, 140, key=lambda r: r[0])
    hand = [(p, [e], [n], [c]) for p, e, n, c in T.NLI_HAND]
    premises = scenes[:125] + hand
    R.shuffle(premises)
    rows = []
    for p, ent, neu, con in premises:
        rows += [(p, R.choice(ent), 0), (p, R.choice(neu), 1), (p, R.choice(con), 2)]
    write("nli/train.csv", ["premise", "hypothesis", "label"], rows)
    write("nli/labels.csv", ["label", "label_name"], [(0, "entailment"), (1, "neutral"), (2, "contradiction")])
    trip = [(p, e[0], c[0]) for p, e, _, c in hand]
    for p, ent, _, con in scenes:
        trip += [(p, e, c) for e, c in R.sample(list(itertools.product(ent, con)), 2)]
    R.shuffle(trip)
    write("nli_triplets/train.csv", ["anchor", "positive", "negative"], trip[:300])
    return rows


# ---------------------------------------------------------------- invented names
def name_pool(a, b, fmt="{}"):
    return R.sample([fmt.format(x + y) for x in a for y in b], len(a) * len(b))


TOWNS = name_pool(T.NAME_A, T.NAME_B)
RIVERS = name_pool(T.RIVER_A, T.RIVER_B)
PEAKS = name_pool(T.PEAK_A, T.PEAK_B, "Mount {}")
ISLES = name_pool(T.ISLE_A, T.ISLE_B)
FILLER_TOWNS, ENTITY_TOWNS, PAWS_TOWNS = TOWNS[:60], TOWNS[60:73], TOWNS[73:]


def person():
    return f"{R.choice(T.PEOPLE_NAMES)[0]} {R.choice(T.SURNAMES)}"


# ---------------------------------------------------------------- PAWS-style pairs
def paws_slots(t):
    """Random slot values for one PAWS template of type t."""
    d = {}
    if t in ("role", "animal"):
        pool = [n for n, _ in T.PEOPLE_NAMES] + T.ROLES if t == "role" else R.choice(T.ANIMAL_PAIRS)
        d["x"], d["y"] = R.sample(pool, 2)
        d["v"], d["c"] = (R.choice(T.ROLE_VERBS), R.choice(T.ROLE_CONTEXTS)) if t == "role" else \
            (R.choice(T.ANIMAL_VERBS), R.choice(T.ANIMAL_CONTEXTS))
    elif t in ("move", "born", "career"):
        first, d["pron"] = R.choice(T.PEOPLE_NAMES)
        d["n"], (d["c1"], d["c2"], d["c3"]) = f"{first} {R.choice(T.SURNAMES)}", R.sample(T.CITIES, 3)
        d["y1"] = R.randint(1985, 2012) if t == "move" else R.randint(1820, 1935)
        d["y2"] = d["y1"] + (R.randint(2, 9) if t == "move" else R.randint(48, 92))
        d["j1"], d["j2"] = R.sample(T.JOBS, 2)
    elif t == "sport":
        (d["t1"], d["t2"]), (d["a"], d["b"]), d["r"] = R.sample(T.TEAMS, 2), R.choice(T.SCORES), R.choice(T.ROUNDS)
    elif t == "compare":
        kind, d["er"], d["opp"], d["adj"] = R.choice(T.COMPARE)
        d["x"], d["y"] = R.sample({"river": [f"the {x} River" for x in RIVERS[:12]], "mountain": PEAKS[:12],
                                   "town": PAWS_TOWNS[:12], "bridge": [f"the {x} Bridge" for x in PAWS_TOWNS[12:24]]}[kind], 2)
    elif t == "items":
        d["n"], (d["j1"], d["j2"]), (d["x"], d["y"]) = R.choice(T.PEOPLE_NAMES)[0], R.sample(R.choice(T.ADJ_PAIRS), 2), R.sample(T.ITEMS, 2)
        d["v"] = R.choice(sorted(T.ITEM_VERBS))
        d["c"] = R.choice(T.ITEM_VERBS[d["v"]])
    else:  # open
        d["n"], (d["x"], d["y"]), (d["m1"], d["m2"]) = R.choice(PAWS_TOWNS), R.sample(T.INSTITUTIONS, 2), R.sample(T.MONTHS, 2)
        d["y1"] = R.randint(1990, 2022)
    d.update({k.upper(): cap(v) for k, v in d.items() if isinstance(v, str)})
    base, paras, nons = T.PAWS[t]
    return base.format(**d), R.choice(paras).format(**d), R.choice(nons).format(**d)


def build_paws():
    plan = {"role": 40, "animal": 25, "move": 28, "born": 28, "sport": 28, "compare": 25, "items": 28,
            "career": 28, "open": 20}
    inst, used = [], set()
    for t, n in plan.items():  # no sentence may appear in two instances
        while sum(1 for x in inst if x[3] == t) < n:
            r = paws_slots(t)
            if not used & set(r):
                used.update(r)
                inst.append(r + (t,))
    R.shuffle(inst)
    splits = []
    for name, part in (("train", inst[:200]), ("test", inst[200:250])):
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
    c = {"person": person(), "year": R.randint(1150, 1890), "year2": R.randint(1948, 2016),
         "year3": R.randint(1850, 1975), "year4": R.randint(1780, 1935), "year5": R.randint(8, 15) * 100,
         "year6": R.randint(1880, 2015), "recent": R.randint(2010, 2023), "pop": f"{R.randint(18, 950) * 100:,}",
         "staff": f"{R.choice([40, 85, 120, 230, 410, 900, 1500, 2300]):,}",
         "length": R.randint(40, 420), "height": f"{R.randint(1800, 4300):,}", "area": R.randint(12, 240),
         "hillh": R.randint(150, 640), "visitors": f"{R.randint(8, 120) * 1000:,}", "town": R.choice(FILLER_TOWNS),
         "mountain": R.choice(PEAKS[12:40]), "river": R.choice(RIVERS[12:52]), "month": R.choice(T.MONTHS)}
    c.update({k: R.choice(v) for k, v in T.SLOTS.items()})
    if typ == "town":
        c["n"] = ENTITY_TOWNS[i]
    elif typ == "company":
        kind = R.choice(sorted(T.COMPANY_TYPES))
        c["n"] = f"{T.COMPANY_A[i]}{R.choice(T.COMPANY_B)} {kind}"
        c["product"] = R.choice(T.COMPANY_TYPES[kind])
    elif typ == "river":
        c["n"] = f"the {RIVERS[12 + 40 + i]} River"
    elif typ == "mountain":
        c["n"] = PEAKS[40 + i]
    elif typ == "invention":
        dev = R.choice(sorted(T.DEVICES))
        j = R.randrange(2)
        c.update(n=f"the {FILLER_TOWNS[i]} {dev}", purpose=T.DEVICES[dev][0][j], firstplace=T.DEVICES[dev][1][j],
                 material=R.choice(T.DEVICES[dev][2]))
    elif typ == "festival":
        kind = sorted(T.FESTIVALS)[i % len(T.FESTIVALS)]
        c.update(n=f"the {FILLER_TOWNS[20 + i]} {kind} Festival", celebrates=T.FESTIVALS[kind][0],
                 month=T.FESTIVALS[kind][1])
    elif typ == "island":
        c["n"] = ISLES[i]
    else:
        c["n"] = f"the {T.SURNAMES[i]} Museum"
    facts = []
    for attr, qs, ans, extra in T.WORLD[typ]:
        facts.append((attr, [cap(q.format(**c)) for q in qs], cap(R.choice(ans).format(**c)),
                      cap(R.choice(extra).format(**c)) if extra else None))
    return cap(re.sub(r"^the ", "", c["n"])), facts


def build_world():
    counts = {"town": 13, "company": 12, "river": 12, "mountain": 12, "invention": 13, "festival": 13,
              "island": 12, "museum": 13}
    ents = [make_entity(t, i) for t, n in counts.items() for i in range(n)]
    assert len({e[0] for e in ents}) == len(ents)
    R.shuffle(ents)
    qa, ret = ents[:60], ents[60:]
    pairs, trips = [], []
    for _, facts in qa:
        for attr, qs, ans, _ in facts:
            q = R.choice(qs)
            pairs.append((q, ans))
            trips.append((q, ans, R.choice([f[2] for f in facts if f[0] != attr])))
    order = list(range(len(pairs)))
    R.shuffle(order)
    write("qa_pairs/train.csv", ["anchor", "positive"], [pairs[i] for i in order])
    write("qa_pairs/triplets.csv", ["anchor", "positive", "negative"], [trips[i] for i in order])
    passages = []  # every entity: 5 passages, 2 of them asked about, the other 3 are distractors
    for title, facts in ret:
        asked = R.sample(range(len(facts)), 2)
        passages += [(title, f"{ans} {extra}" if extra and R.random() < 0.5 else ans, j in asked and R.choice(qs))
                     for j, (_, qs, ans, extra) in enumerate(facts)]
    R.shuffle(passages)
    corpus = [(f"p{i + 1:03d}", title, text) for i, (title, text, _) in enumerate(passages)]
    queries = [(q, f"p{i + 1:03d}") for i, (_, _, q) in enumerate(passages) if q]
    R.shuffle(queries)
    qrows = [(f"q{i + 1:03d}", q) for i, (q, _) in enumerate(queries)]
    qrels = [(f"q{i + 1:03d}", pid, 1) for i, (_, pid) in enumerate(queries)]
    write("retrieval/queries.csv", ["qid", "text"], qrows)
    write("retrieval/corpus.csv", ["pid", "title", "text"], corpus)
    write("retrieval/qrels.csv", ["qid", "pid", "score"], qrels)
    return pairs, corpus


# ---------------------------------------------------------------- intents
def expand(frame):
    parts = re.split(r"\[([^\]]*)\]", frame)
    out = []
    for combo in itertools.product(*[p.split("|") if i % 2 else [p] for i, p in enumerate(parts)]):
        s = re.sub(r"\s+", " ", "".join(combo)).strip()
        out.append(re.sub(r" ([,.?!])", r"\1", s))
    return out


def pick_utterances(frames, n):
    """n distinct expansions, taken round-robin over the frames so that every phrasing is used."""
    lists = [R.sample(e, len(e)) for e in map(expand, frames)]
    out = list(dict.fromkeys(u for group in itertools.zip_longest(*lists) for u in group if u))[:n]
    assert len(out) == n, f"not enough utterances for {frames[0]}"
    R.shuffle(out)
    return out


def build_intents(folder, intents, n_train, n_test, with_domain):
    train, test, labels = [], [], []
    for label, item in enumerate(intents):
        name, frames = item[0], item[-1]
        utts = pick_utterances(frames, n_train + n_test)
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
    banking = build_intents("banking77", T.BANKING, 15, 5, False)
    clinc = build_intents("clinc150", T.CLINC, 12, 4, True)
    hand = {s for p in T.STS_HAND for s in p[:2]} | {s for p in T.NLI_HAND for s in p}
    build_sentences([
        ([s for p in sts for s in p[:2] if s not in hand], 170),
        ([p for p, _, _ in nli if p not in hand], 40),
        ([h for _, h, _ in nli if h not in hand], 40),
        (hand, 80),
        ([s for p in paws for s in p[:2]], 100),
        ([a for _, a in qa], 90),
        ([t for _, _, t in corpus], 30),
        ([q for q, _ in qa], 20),
        (banking + clinc, 30),
    ])


if __name__ == "__main__":
    main()
