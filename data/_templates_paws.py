"""Hand-written slot fillers and templates for the PAWS-style pairs (build_data.py).

Everything in this file was written for lossbook. No row of any public data set was
copied or paraphrased. Names of people, towns, rivers, companies, etc. are invented.
"""

# ---------------------------------------------------------------- PAWS-style slots
PEOPLE_NAMES = [
    ("Maria", "she"),
    ("Daniel", "he"),
    ("Aisha", "she"),
    ("Tomas", "he"),
    ("Priya", "she"),
    ("Lukas", "he"),
    ("Sofia", "she"),
    ("Omar", "he"),
    ("Hannah", "she"),
    ("Kenji", "he"),
    ("Elena", "she"),
    ("Marcus", "he"),
    ("Ingrid", "she"),
    ("Rafael", "he"),
    ("Chloe", "she"),
    ("Samuel", "he"),
    ("Nadia", "she"),
    ("Victor", "he"),
    ("Leila", "she"),
    ("Felix", "he"),
]
SURNAMES = [
    "Halloway",
    "Brenning",
    "Osterlund",
    "Varga",
    "Castellan",
    "Myrdal",
    "Abara",
    "Whitcombe",
    "Ferreira",
    "Nakamura",
    "Okafor",
    "Lindqvist",
    "Petrova",
    "Sandoval",
    "Thorne",
    "Kowalczyk",
    "Haddad",
    "Quigley",
    "Marlowe",
    "Vennick",
    "Dellamore",
    "Harwin",
    "Rasmussen",
    "Adeyemi",
    "Ambrose",
    "Belcourt",
    "Corrigan",
    "Dunmore",
    "Eastwick",
    "Fairbrother",
    "Gallant",
    "Hesketh",
    "Ingleby",
    "Jarrow",
    "Kettering",
    "Lockridge",
    "Merriweather",
    "Northcott",
    "Ormond",
    "Pennington",
    "Quenby",
    "Rowntree",
    "Stanhope",
    "Tolliver",
    "Underhill",
    "Velasco",
    "Wainwright",
    "Yardley",
    "Aldous",
    "Brightwell",
    "Cardew",
    "Delacourt",
    "Ellery",
    "Fenwick",
    "Garside",
    "Ivanova",
    "Jessop",
    "Kovacs",
    "Larkin",
    "Moravec",
    "Nyberg",
    "Oyelaran",
    "Pietrowski",
    "Quist",
    "Rourke",
    "Szabo",
    "Tanabe",
    "Ulrich",
    "Vance",
    "Wexley",
]
ROLES = [
    "the coach",
    "the captain",
    "the mayor",
    "the journalist",
    "the new manager",
    "the head nurse",
    "the senior editor",
    "the lawyer",
    "the landlord",
    "the young pilot",
    "the referee",
    "the professor",
]
ROLE_VERBS = [
    "thanked",
    "called",
    "interviewed",
    "visited",
    "criticized",
    "praised",
    "warned",
    "invited",
    "replaced",
    "hired",
    "recognized",
    "blamed",
    "congratulated",
    "ignored",
]
ROLE_CONTEXTS = [
    "last Tuesday",
    "after the meeting",
    "in March 2015",
    "on Friday morning",
    "before the election",
    "during the conference",
    "in the summer of 2011",
    "a week later",
]
ANIMAL_PAIRS = [
    ("the cat", "the dog"),
    ("the fox", "the rabbit"),
    ("the hawk", "the pigeon"),
    ("the goose", "the boy"),
    ("the farmer", "the bull"),
    ("the puppy", "the kitten"),
    ("the horse", "the goat"),
    ("the crow", "the squirrel"),
]
ANIMAL_VERBS = ["chased", "followed", "pursued"]
ANIMAL_CONTEXTS = [
    "across the yard",
    "around the garden",
    "through the field",
    "along the riverbank",
    "past the old barn",
    "down the lane",
]
CITIES = [
    "Lisbon",
    "Oslo",
    "Prague",
    "Dublin",
    "Vienna",
    "Krakow",
    "Seville",
    "Montreal",
    "Glasgow",
    "Turin",
    "Bergen",
    "Porto",
    "Leipzig",
    "Valencia",
    "Gdansk",
    "Lyon",
    "Bologna",
    "Tampere",
]
TEAMS = [
    "the Harbor Hawks",
    "the Eastfield Rangers",
    "the Millbrook Comets",
    "the Redstone Foxes",
    "the Northgate Owls",
    "the Lakeside Pirates",
    "the Westmoor Wolves",
    "the Brookhaven Bears",
]
ROUNDS = ["final", "semi-final", "opening match", "quarter-final", "second round"]
SCORES = [(3, 1), (2, 0), (4, 2), (1, 0), (5, 3), (2, 1), (3, 2)]
# (kind, comparative, opposite comparative, base adjective)
COMPARE = [
    ("river", "longer", "shorter", "long"),
    ("mountain", "higher", "lower", "high"),
    ("town", "larger", "smaller", "large"),
    ("bridge", "older", "newer", "old"),
]
ADJ_PAIRS = [("an old", "a new"), ("a small", "a large"), ("a red", "a blue"), ("a cheap", "an expensive")]
ITEMS = ["bicycle", "laptop", "camera", "sofa", "piano", "car", "desk", "tent", "lamp", "guitar", "kettle"]
ITEM_VERBS = {
    "bought": ["last spring", "at the market", "for the new flat", "from a neighbour"],
    "sold": ["last spring", "at the market", "before moving abroad"],
    "repaired": ["last weekend", "in the garage", "before the holidays"],
    "borrowed": ["from a neighbour", "for the weekend", "from a cousin"],
}
JOBS = [
    "a teacher",
    "an engineer",
    "a nurse",
    "a journalist",
    "an architect",
    "a pilot",
    "a chef",
    "a librarian",
    "a translator",
    "a lawyer",
    "a photographer",
    "a pharmacist",
]
INSTITUTIONS = [
    "museum",
    "library",
    "swimming pool",
    "railway station",
    "primary school",
    "concert hall",
    "hospital",
    "sports centre",
    "fire station",
]
GIFTS = [
    "a book",
    "a scarf",
    "a birthday card",
    "a small painting",
    "a bag of oranges",
    "an old camera",
    "a bunch of flowers",
    "a pair of gloves",
    "a wooden chess set",
    "a letter",
    "a box of chocolates",
    "a pot of honey",
    "a silver pen",
    "a map of the city",
]
POSTS = [
    "team captain",
    "head coach",
    "editor of the school paper",
    "chair of the board",
    "lead singer",
    "club president",
    "head of the department",
    "festival director",
    "conductor of the orchestra",
    "director of the museum",
]
AGE_GAPS = ["two", "three", "four", "five", "six", "seven", "eight", "ten", "twelve"]
VEHICLES = ["train", "bus", "ferry", "night train", "coach", "morning flight"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

# PAWS-style templates: type -> (sentence, [paraphrases], [non-paraphrases]); every version
# keeps almost all words. An upper-case slot is the same slot with a capital first letter.
ROLE_SWAP = (
    "{X} {v} {y} {c}.",
    ["{Y} was {v} by {x} {c}.", "{C}, {x} {v} {y}."],
    ["{Y} {v} {x} {c}.", "{X} was {v} by {y} {c}.", "{C}, {y} {v} {x}."],
)
PAWS = {
    "role": ROLE_SWAP,
    "give": (
        "{X} gave {y} {obj} {c}.",
        ["{X} gave {obj} to {y} {c}.", "{Y} was given {obj} by {x} {c}.", "{C}, {x} gave {obj} to {y}."],
        ["{Y} gave {x} {obj} {c}.", "{X} was given {obj} by {y} {c}.", "{Y} gave {obj} to {x} {c}."],
    ),
    "replace": (
        "{x} replaced {y} as {post} in {y1}.",
        ["{y} was replaced by {x} as {post} in {y1}.", "In {y1}, {x} took over from {y} as {post}."],
        [
            "{y} replaced {x} as {post} in {y1}.",
            "In {y1}, {y} took over from {x} as {post}.",
            "{x} was replaced by {y} as {post} in {y1}.",
        ],
    ),
    "age": (
        "{x} is {k} years older than {y}.",
        ["{y} is {k} years younger than {x}.", "{y} was born {k} years after {x}."],
        ["{y} is {k} years older than {x}.", "{x} is {k} years younger than {y}.", "{x} was born {k} years after {y}."],
    ),
    "trip": (
        "The {veh} from {c1} to {c2} was {late} minutes late on {day}.",
        [
            "On {day}, the {veh} from {c1} to {c2} arrived {late} minutes late.",
            "On {day} the {veh} that runs from {c1} to {c2} was {late} minutes behind schedule.",
        ],
        [
            "The {veh} from {c2} to {c1} was {late} minutes late on {day}.",
            "On {day}, the {veh} from {c2} to {c1} arrived {late} minutes late.",
        ],
    ),
    "animal": ROLE_SWAP,
    "move": (
        "{n} moved from {c1} to {c2} in {y1} and then to {c3} in {y2}.",
        ["In {y1}, {n} moved from {c1} to {c2}, and in {y2} {pron} moved on to {c3}."],
        [
            "{n} moved from {c1} to {c3} in {y1} and then to {c2} in {y2}.",
            "{n} moved from {c2} to {c1} in {y1} and then to {c3} in {y2}.",
        ],
    ),
    "born": (
        "{n} was born in {c1} in {y1} and died in {c2} in {y2}.",
        ["Born in {c1} in {y1}, {n} died in {c2} in {y2}.", "{n}, who was born in {c1} in {y1}, died in {c2} in {y2}."],
        ["{n} was born in {c2} in {y1} and died in {c1} in {y2}.", "Born in {c2} in {y1}, {n} died in {c1} in {y2}."],
    ),
    "sport": (
        "{T1} beat {t2} {a}-{b} in the {r}.",
        ["In the {r}, {t1} defeated {t2} {a}-{b}.", "{T2} lost {a}-{b} to {t1} in the {r}."],
        [
            "{T2} beat {t1} {a}-{b} in the {r}.",
            "In the {r}, {t2} defeated {t1} {a}-{b}.",
            "{T1} lost {a}-{b} to {t2} in the {r}.",
        ],
    ),
    "compare": (
        "{X} is {er} than {y}.",
        ["{Y} is {opp} than {x}.", "{Y} is not as {adj} as {x}."],
        ["{Y} is {er} than {x}.", "{X} is {opp} than {y}.", "{X} is not as {adj} as {y}."],
    ),
    "items": (
        "{n} {v} {j1} {x} and {j2} {y} {c}.",
        ["{n} {v} {j2} {y} and {j1} {x} {c}."],
        ["{n} {v} {j2} {x} and {j1} {y} {c}.", "{n} {v} {j1} {y} and {j2} {x} {c}."],
    ),
    "career": (
        "{n} worked as {j1} in {c1} before becoming {j2} in {c2}.",
        [
            "Before becoming {j2} in {c2}, {n} worked as {j1} in {c1}.",
            "{n} became {j2} in {c2} after working as {j1} in {c1}.",
        ],
        [
            "{n} worked as {j2} in {c1} before becoming {j1} in {c2}.",
            "{n} worked as {j1} in {c2} before becoming {j2} in {c1}.",
            "Before becoming {j1} in {c2}, {n} worked as {j2} in {c1}.",
        ],
    ),
    "open": (
        "In {y1}, {n} opened a new {x} in {m1} and a new {y} in {m2}.",
        ["In {y1}, {n} opened a new {y} in {m2} and a new {x} in {m1}."],
        [
            "In {y1}, {n} opened a new {x} in {m2} and a new {y} in {m1}.",
            "In {y1}, {n} opened a new {y} in {m1} and a new {x} in {m2}.",
        ],
    ),
}
