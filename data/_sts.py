"""STS-B-style pairs (stsb/): scene pairs whose second sentence changes what the pair type allows, and
pairs from the hand-written clusters of _sts_clusters*.py. Scores on STS-B's 0-5 scale.

About a quarter of the pairs are hard on purpose: high word overlap with another meaning (negation, swapped
roles, a changed number, the opposite action, another time of day) or little word overlap with the
same meaning (passive voice, synonyms, paraphrases). The same pair types appear in every split.
"""

import _sts_clusters_a
import _sts_clusters_b
import _sts_clusters_c
import _sts_clusters_d
import _templates as T
import _templates_acts as A
import _templates_hand as H
import _templates_sts as S
from _common import R, cap, low, unique_take, write

SUBJ = {
    k: dict(zip(("kind", "a", "the", "be", "syn", "details", "hyper", "contrast"), v)) for k, v in T.SUBJECTS.items()
}
ACTS = [dict(zip(("domain", "who", "verbs", "objs", "places", "ent", "con"), a)) for a in A.ACTS]
# each opposite pair is its own "domain": no other action counts as the same topic
ANT_ACTS = [
    dict(domain=f"opposite:{v}", who=who, verbs=[v], objs=objs, places=places, ent=None, con=None, anto=u)
    for v, u, objs, places, who in S.ANTONYM_ACTS
]
ALL_ACTS = ACTS + ANT_ACTS
CLUSTERS = _sts_clusters_a.CLUSTERS + _sts_clusters_c.CLUSTERS + _sts_clusters_b.CLUSTERS + _sts_clusters_d.CLUSTERS


def tail(place, time):
    return "".join(f" {x}" for x in (place, time) if x)


def active(subj, be, verb, obj, place=None, time=None, front=False):
    vp = f"{verb} {obj}".strip()
    if front and (place or time):
        lead, rest = (place, time) if place else (time, None)
        return f"{cap(lead)}, {low(subj)} {be} {vp}{tail(rest, None)}."
    return f"{subj} {be} {vp}{tail(place, time)}."


def passive(subj, verb, obj, place=None, time=None):
    be = "are" if obj in S.PLURAL_OBJS else "is"
    return f"{cap(obj)} {be} being {S.PARTICIPLE[verb]} by {low(subj)}{tail(place, time)}."


def can_passive(verb, obj):
    return bool(obj) and verb in S.PARTICIPLE


def scene(acts, p_place=0.65, p_time=0.2, p_detail=0.3):
    a = R.choice(acts)
    k = R.choice(a["who"])
    s = SUBJ[k]
    p = R.choice(a["places"]) if a["places"] and R.random() < p_place else None
    t = R.choice(sorted(S.TIMES)) if R.random() < p_time else None
    subj = R.choice(s["details"]) if R.random() < p_detail else s["a"]
    return dict(a=a, k=k, s=s, subj=subj, be=s["be"], verb=a["verbs"][0], obj=R.choice(a["objs"]), p=p, t=t)


def phrases(c):
    return (T.PLACES[c["p"]][0] if c["p"] else None), (S.TIMES[c["t"]][0] if c["t"] else None)


def scene_pair(kind):
    """(s1, s2, score) for one random scene and pair type `kind`, or None when the scene does not allow it."""
    c = scene(ANT_ACTS if kind == "ant" else ALL_ACTS, p_time=0.6 if kind == "time" else 0.2)
    a, s, subj, be, verb, obj = c["a"], c["s"], c["subj"], c["be"], c["verb"], c["obj"]
    place, time = phrases(c)
    s1 = active(subj, be, verb, obj, place, time)
    front = False
    if kind == "syn":  # same meaning: synonyms, word order, passive voice
        syns = ([s["syn"]] if s["syn"] else []) + S.SUBJ_SYN.get(c["k"], []) if subj == s["a"] else []
        ops = [
            n
            for n, ok in (
                ("subj", syns),
                ("obj", obj in T.OBJ_SYN),
                ("place", c["p"]),
                ("time", c["t"]),
                ("front", place or time),
                ("verb", len(a["verbs"]) > 1),
                ("passive", can_passive(verb, obj)),
            )
            if ok
        ]
        if not ops:
            return None
        ops = R.sample(ops, min(len(ops), R.choice([1, 2, 2, 3])))
        score = 5.0
        if "subj" in ops:
            subj, score = R.choice(syns), score - R.choice([0, 0, 0.2])
        if "obj" in ops:
            obj, score = T.OBJ_SYN[obj], score - R.choice([0, 0.2])
        if "place" in ops:
            place = T.PLACES[c["p"]][1]
        if "time" in ops:
            time, score = S.TIMES[c["t"]][1], score - R.choice([0, 0.2])
        if "verb" in ops:
            verb, score = R.choice(a["verbs"][1:]), score - R.choice([0.2, 0.4])
        if "passive" in ops and can_passive(verb, obj):
            s2 = passive(subj, verb, obj, place, time)
            return s1, s2, round(max(4.2, score), 1)
        front = "front" in ops
    elif kind == "detail":  # a minor detail added or left out
        ops = (
            (["detail"] if subj == s["a"] else ["undetail"])
            + (["drop"] if place else [])
            + (["droptime"] if time else [])
        )
        ops = R.sample(ops, R.choice([1, len(ops)]))
        if "detail" in ops:
            subj = R.choice(s["details"])
        if "undetail" in ops:
            subj = s["a"]
        place = None if "drop" in ops else place
        time = None if "droptime" in ops else time
        score = {1: R.choice([3.8, 4.0, 4.2]), 2: R.choice([3.6, 3.8])}.get(len(ops), 3.4)
    elif kind == "contrast":  # roughly equivalent, one important detail differs (other gender, other place)
        ct = s["contrast"]
        ops = [
            n
            for n, ok in (("contrast", ct in a["who"] and subj == s["a"]), ("place", c["p"] and len(a["places"]) > 1))
            if ok
        ]
        if not ops:
            return None
        if R.choice(ops) == "contrast":
            subj, score = SUBJ[ct]["a"], R.choice([2.8, 3.0, 3.2])
        else:
            place, score = T.PLACES[R.choice([q for q in a["places"] if q != c["p"]])][0], R.choice([3.0, 3.2, 3.4])
    elif kind == "time":  # the same scene at another time of day, or in other weather
        if not c["t"]:
            return None
        other = [y if x == c["t"] else x for x, y in S.TIME_CLASH if c["t"] in (x, y)]
        time, score = S.TIMES[R.choice(other)][0], R.choice([3.0, 3.2, 3.4])
    elif kind == "num":  # another number of people or animals
        if not subj.startswith("Two "):
            return None
        subj, score = R.choice(S.NUMBERS) + subj[3:], R.choice([3.0, 3.2, 3.4])
    elif kind == "neg":  # the same scene, denied
        if R.random() < 0.7:
            be, score = be + " not", R.choice([1.6, 1.8, 2.0, 2.2])
        else:
            subj, be = ("No animal" if s["kind"] == "animal" else "Nobody"), "is"
            score = R.choice([1.4, 1.6, 1.8])
    elif kind == "ant":  # the opposite action on the same thing
        verb, score = a["anto"], R.choice([1.6, 1.8, 2.0, 2.2])
        if R.random() < 0.25 and can_passive(verb, obj):
            return s1, passive(subj, verb, obj, place, time), score
    elif kind == "obj":  # same action, another object (and maybe the other gender)
        if len(a["objs"]) < 2:
            return None
        obj = R.choice([x for x in a["objs"] if x != obj])
        if s["contrast"] in a["who"] and subj == s["a"] and R.random() < 0.3:
            subj, score = SUBJ[s["contrast"]]["a"], R.choice([1.8, 2.0])
        else:
            score = R.choice([2.2, 2.4, 2.6])
    else:  # "topic": same topic, another activity; "other": another topic
        same = kind == "topic"
        others = [b for b in ALL_ACTS if (b["domain"] == a["domain"]) == same and b["verbs"][0] != verb]
        if not others:
            return None
        b = R.choice(others)
        verb, obj = b["verbs"][0], R.choice(b["objs"])
        p2 = R.choice(b["places"]) if b["places"] and R.random() < 0.6 else None
        place = T.PLACES[p2][0] if p2 else None
        if c["k"] in b["who"] and R.random() < 0.6:
            score = R.choice([1.4, 1.6] if same else [0.4, 0.6])
        else:
            k2 = R.choice([x for x in b["who"] if x != c["k"]] or b["who"])
            subj, be = SUBJ[k2]["a"], SUBJ[k2]["be"]
            score = R.choice([0.8, 1.0, 1.2] if same else [0.0, 0.2] if k2 != c["k"] else [0.4, 0.6])
        if c["p"] and c["p"] == p2:
            score += 0.2 if same else 0.4
    s2 = active(subj, be, verb, obj, place, time, front)
    return None if s2 == s1 else (s1, s2, round(min(5.0, max(0.0, score)), 1))


def interaction_pair(kind):
    """Pairs about one participant doing something to another ("A dog is chasing a cat")."""
    i = R.randrange(len(S.INTERACTIONS))
    act, pas, pool, places = S.INTERACTIONS[i]
    (kx, x), (ky, y) = R.sample(pool, 2)
    if kx == ky:
        return None
    place = T.PLACES[R.choice(places)][0] if places and R.random() < 0.6 else None
    end = f" {place}." if place else "."

    def say(tpl, x, y, place_phrase=place):
        return cap(tpl.format(x=x, y=y)) + (f" {place_phrase}." if place_phrase else ".")

    s1 = say(act, x, y)
    if kind == "iswap":  # who does what to whom, reversed
        return s1, say(act, y, x), R.choice([2.0, 2.2, 2.4, 2.6])
    if kind == "ipassive":  # the same event in the passive voice
        return s1, say(pas, x, y), R.choice([4.8, 5.0, 5.0])
    if kind == "ipswap":  # passive voice with the roles reversed: nearly the same words, the other event
        return s1, say(pas, y, x), R.choice([2.0, 2.2, 2.4])
    if kind == "idetail":  # the place left out
        return (s1, say(act, x, y, None), R.choice([3.8, 4.0, 4.2])) if place else None
    # "iverb": the same two, another action
    js = [j for j, other in enumerate(S.INTERACTIONS) if j != i and (kx, x) in other[2] and (ky, y) in other[2]]
    if not js:
        return None
    j = R.choice(js)
    return s1, cap(S.INTERACTIONS[j][0].format(x=x, y=y)) + end, R.choice([1.6, 1.8, 2.0, 2.2])


def cluster_pairs(cluster):
    """The pairs of one hand-written cluster (base, paraphrases, foils): base-paraphrase,
    paraphrase-paraphrase (a little less than the weaker of the two) and base-foil."""
    base, paras, foils = cluster
    out = [(base, p, sc) for p, sc in paras]
    out += [(p, q, round(min(a, b) - 0.2, 1)) for i, (p, a) in enumerate(paras) for q, b in paras[i + 1 :]]
    return out + [(base, f, sc) for f, sc in foils]


# share of each pair type among the generated (not hand-written) pairs. Tuned with check_difficulty.py:
# a small share of the hard types (neg, ant, iswap, ipswap above all) is enough to pull the untrained
# model's Spearman from about 0.9 to about 0.8; more makes the set harder than the real STS-B.
PLAN = {
    "syn": 440,
    "detail": 263,
    "contrast": 202,
    "obj": 202,
    "topic": 353,
    "other": 560,
    "time": 101,
    "num": 91,
    "neg": 90,
    "ant": 55,
    "ipassive": 91,
    "idetail": 50,
    "iverb": 91,
    "iswap": 30,
    "ipswap": 15,
}
SPLITS = (("train", 2400), ("dev", 600), ("test", 600))
KIND = {}  # frozenset(pair) -> pair type, for analysis scripts (not written)


def build_sts():
    seen = set()
    key = lambda r: frozenset(r[:2])  # noqa: E731
    clusters = list(CLUSTERS)
    R.shuffle(clusters)
    total = sum(n for _, n in SPLITS)
    parts, start = [], 0  # clusters go to one split each, in proportion to its size
    for _, n in SPLITS:
        end = start + round(len(clusters) * n / total)
        parts.append([r for cl in clusters[start:end] for r in cluster_pairs(cl)])
        start = end
    hand = [r for part in parts for r in part]
    KIND.update((key(r), "cluster+" if r[2] >= 4 else "cluster-") for r in hand)
    assert len({key(r) for r in hand}) == len(hand), "a hand-written pair occurs twice"
    seen.update(key(r) for r in hand)
    sts_hand = [r for r in H.STS_HAND if key(r) not in seen]  # one of them is also in a cluster
    seen.update(key(r) for r in sts_hand)
    KIND.update((key(r), "hand") for r in sts_hand)
    needed = sum(n for _, n in SPLITS) - len(hand) - len(sts_hand)
    gen = []
    for kind, w in PLAN.items():
        n = -(-w * needed // sum(PLAN.values()))  # rounded up; the surplus is dropped below
        make = scene_pair if kind[0] != "i" else interaction_pair
        made = unique_take(lambda: make(kind), n, key=key, seen=seen)
        KIND.update((key(r), kind) for r in made)
        gen += made
    R.shuffle(gen)
    gen = gen[:needed] + sts_hand
    R.shuffle(gen)
    rows_by_split, used = {}, 0
    for (name, n), part in zip(SPLITS, parts):
        take = n - len(part)
        rows = part + gen[used : used + take]
        used += take
        rows = [(b, a, sc) if R.random() < 0.5 else (a, b, sc) for a, b, sc in rows]
        R.shuffle(rows)
        rows_by_split[name] = rows
        write(f"stsb/{name}.csv", ["sentence1", "sentence2", "score"], [(a, b, f"{sc:.1f}") for a, b, sc in rows])
    assert used == len(gen), (used, len(gen))
    return [r for rows in rows_by_split.values() for r in rows]
