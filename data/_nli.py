"""NLI-style pairs (nli/) and the triplets built from them (nli_triplets/).

Premises come from four sources: the scene templates, the two-participant actions and the actions with
an opposite of _templates_sts.py, and the hand-written items NLI_HAND. Each premise gets exactly one
hypothesis of each class. Hypotheses are picked so that as few as possible repeat: entailed ones are
all distinct where the templates allow, so the entailment pairs survive deduplication.
"""

import itertools

import _templates as T
import _templates_hand as H
import _templates_sts as S
from _common import R, cap, unique_take, write
from _sts import ACTS, ANT_ACTS, SUBJ, active, can_passive, passive

N_PREMISES = 2000  # nli/: 3 rows each
N_EXTRA = 300  # premises only in nli_triplets/
N_TRIPLETS = 3000


def the(np_):  # "a dog" -> "the dog"
    for art in ("a ", "an "):
        if np_.startswith(art):
            return "the " + np_[len(art) :]
    return np_


def neutral(a, s, be):
    plural = be == "are"
    neu = [
        x if isinstance(x, str) else x[plural]
        for x in T.NEUTRAL.get(a["domain"], [])
        if isinstance(x, str) or s["kind"] != "kid"
    ]
    neu += T.NEUTRAL_PEOPLE if s["kind"] != "animal" else []
    return [f"{s['the']} {be} {x}." for x in neu]


def scene_item(acts):
    """(premise, [entailed], [neutral], [contradicted]) for one random scene."""
    a = R.choice(acts)
    k = R.choice(a["who"])
    s = SUBJ[k]
    p = R.choice(a["places"]) if a["places"] and R.random() < 0.85 else None
    t = R.choice(sorted(S.TIMES)) if R.random() < 0.25 else None
    subj = R.choice(s["details"]) if R.random() < 0.5 else s["a"]
    verb, be, obj, the_ = a["verbs"][0], s["be"], R.choice(a["objs"]), s["the"]
    place, flag = (T.PLACES[p][0], T.PLACES[p][2]) if p else (None, None)
    time = S.TIMES[t][0] if t else None
    vp = f"{verb} {obj}".strip()
    hyper = s["hyper"]
    ent = [active(R.choice(hyper), be, verb, obj), active(R.choice(hyper), be, verb, obj, place)]
    ent += [active(s["a"], be, x, "") for x in (a["ent"] or [])]
    ent += [active(R.choice(hyper), be, x, "", place) for x in (a["ent"] or [])]
    if flag:
        ent.append(f"{R.choice(hyper)} {be} {'indoors' if flag == 'in' else 'outdoors'}.")
    if subj != s["a"]:
        ent.append(active(s["a"], be, verb, obj, place))
    if time:
        ent.append(active(R.choice(hyper), be, verb, obj, None, time))
    if can_passive(verb, obj):
        ent.append(passive(R.choice(hyper), verb, obj, place))
    if len(a["verbs"]) > 1:
        ent.append(active(s["a"], be, R.choice(a["verbs"][1:]), obj, place))
    if "anto" in a:  # actions with an opposite: the opposite contradicts
        con = [f"{the_} {be} {a['anto']} {the(obj)}.".replace("  ", " ").replace(" .", ".")]
    else:
        con = [
            f"{the_} {be} {x}." for x in (a["con"] or (T.CONTRA_ANIMAL if s["kind"] == "animal" else T.CONTRA_PEOPLE))
        ]
    con.append(f"{'No animal' if s['kind'] == 'animal' else 'Nobody'} is {vp}.")
    con.append(f"{the_} {be} not {vp}.")
    if flag:
        con.append(f"{the_} {be} {vp} {'outdoors' if flag == 'in' else 'indoors'}.")
    return active(subj, be, verb, obj, place, time), ent, neutral(a, s, be), con


NEUTRAL_PAIR = {
    "people": [
        "{X} and {y} are members of the same family.",
        "{X} and {y} have known each other for years.",
        "{X} is doing this for the first time.",
        "{X} is trying to cheer {y} up.",
        "{X} and {y} are on holiday.",
        "{Y} asked {x} to do this.",
    ],
    "animals": [
        "{X} and {y} live on the same farm.",
        "{X} belongs to a family with children.",
        "{X} is about two years old.",
        "{X} and {y} have met before.",
    ],
    "mixed": [
        "{X} is in a hurry.",
        "{X} and {y} have met before.",
        "{X} is doing this for the first time.",
        "{X} and {y} live in the same street.",
    ],
}
ANIMAL_KINDS = {"dog", "cat", "goat", "horse"}


def pair_item():
    """A two-participant action: the passive voice entails it, the negation contradicts it."""
    act, pas, pool, places = R.choice(S.INTERACTIONS)
    (kx, x), (ky, y) = R.sample(pool, 2)
    if kx == ky:
        return None
    place = T.PLACES[R.choice(places)][0] if places and R.random() < 0.7 else None

    def say(tpl, x, y, where=place):
        return cap(tpl.format(x=x, y=y)) + (f" {where}." if where else ".")

    hyper = {
        "man": "a person",
        "woman": "a person",
        "oldman": "an elderly person",
        "oldwoman": "an elderly person",
        "boy": "a child",
        "girl": "a child",
        "dog": "an animal",
        "cat": "an animal",
        "goat": "an animal",
        "horse": "an animal",
    }
    ent = [say(pas, x, y), say(pas, x, y, None), say(act, hyper[kx], y, None), say(act, x, hyper[ky], None)]
    neg = act.replace(" is ", " is not ", 1)
    con = [
        say(neg, the(x), the(y), None),
        cap(the(x)) + " is asleep and not moving.",
        say(act.replace("{x} is", "Nobody is"), x, y, None),
    ]
    kind = {2: "animals", 0: "people"}.get((kx in ANIMAL_KINDS) + (ky in ANIMAL_KINDS), "mixed")
    neu = [cap(n.format(x=the(x), y=the(y), X=cap(the(x)), Y=cap(the(y)))) for n in NEUTRAL_PAIR[kind]]
    return say(act, x, y), ent, neu, con


def pick(options, used):
    """A random option that was not used yet (any option when all were)."""
    fresh = [o for o in options if o not in used]
    choice = R.choice(fresh or options)
    used.add(choice)
    return choice


def build_nli():
    key = lambda r: r[0]  # noqa: E731
    seen = {p for p, *_ in H.NLI_HAND}
    hand = [(p, [e], [n], [c]) for p, e, n, c in H.NLI_HAND]
    pairs = unique_take(pair_item, 330, key=key, seen=seen)
    ants = unique_take(lambda: scene_item(ANT_ACTS), 300, key=key, seen=seen)
    scenes = unique_take(lambda: scene_item(ACTS), N_PREMISES + N_EXTRA, key=key, seen=seen)
    pool = pairs + ants + scenes[N_EXTRA:]
    R.shuffle(pool)
    extra = scenes[:N_EXTRA]
    used = {p for p, *_ in hand + pool + extra}  # a hypothesis should not also be a premise
    used |= {h for _, e, n, c in hand for h in e + n + c}
    premises, chosen = list(hand), {}
    for p, e, n, c in hand:
        chosen[p] = (e[0], n[0], c[0])
    for p, ent, neu, con in pool:  # keep a premise only if it can have an entailed hypothesis of its own
        if len(premises) == N_PREMISES:
            break
        if any(e not in used for e in ent):
            premises.append((p, ent, neu, con))
            chosen[p] = (pick(ent, used), pick(neu, used), pick(con, used))
    assert len(premises) == N_PREMISES, len(premises)
    R.shuffle(premises)
    rows = []
    for p, *_ in premises:
        rows += [(p, chosen[p][0], 0), (p, chosen[p][1], 1), (p, chosen[p][2], 2)]
    write("nli/train.csv", ["premise", "hypothesis", "label"], rows)
    write("nli/labels.csv", ["label", "label_name"], [(0, "entailment"), (1, "neutral"), (2, "contradiction")])
    trip = []  # anchor = premise, positive = entailed, negative = contradicted
    for p, ent, _, con in premises:  # the nli/ choice first, then one more combination where there is one
        e, _, c = chosen[p]
        trip.append((p, e, c))
        more = [x for x in itertools.product(ent, con) if x != (e, c)]
        if more:
            trip.append((p,) + R.choice(more))
    for p, ent, _, con in extra:
        trip += [(p, e, c) for e, c in R.sample(list(itertools.product(ent, con)), 2)]
    R.shuffle(trip)
    write("nli_triplets/train.csv", ["anchor", "positive", "negative"], trip[:N_TRIPLETS])
    return rows
