"""Hand-written STS clusters, part 2 (everyday life, travel, work, home). Written for lossbook; nothing copied.

Same layout as _sts_clusters_a.py: (base, [(paraphrase, score)], [(foil, score)]).
"""

CLUSTERS = [
    (
        "I missed the bus, so I walked to work.",
        [
            ("Having missed my bus, I went to the office on foot.", 5.0),
            ("The bus left without me and I had to walk to my job.", 4.6),
        ],
        [
            ("I caught the bus, so I did not walk to work.", 1.4),
            ("I missed the bus, so I took a taxi to work.", 2.8),
            ("I missed the bus, so I walked home.", 3.0),
        ],
    ),
    (
        "My sister is three years older than me.",
        [("I was born three years after my sister.", 4.8)],
        [
            ("My sister is three years younger than me.", 1.6),
            ("My sister is ten years older than me.", 3.0),
            ("I am three years older than my sister.", 1.6),
        ],
    ),
    (
        "The children fed the ducks at the pond after lunch.",
        [
            ("After their midday meal, the kids gave bread to the ducks on the pond.", 4.4),
            ("Once lunch was over, the ducks by the pond were fed by the children.", 4.8),
        ],
        [
            ("The ducks fed the children at the pond after lunch.", 1.0),
            ("The children fed the ducks at the pond before lunch.", 3.6),
            ("The children chased the ducks at the pond after lunch.", 2.4),
        ],
    ),
    (
        "He forgot to lock the front door when he left the house.",
        [("On his way out, he left the front door unlocked by mistake.", 4.8)],
        [
            ("He remembered to lock the front door when he left the house.", 1.4),
            ("He forgot to lock the back door when he left the house.", 3.4),
            ("He forgot to lock the front door when he came home.", 3.2),
        ],
    ),
    (
        "She bought a second-hand car for four thousand euros.",
        [
            ("She paid 4,000 euros for a used car.", 5.0),
            ("For four grand she got herself a car that had already had an owner.", 4.2),
        ],
        [
            ("She sold a second-hand car for four thousand euros.", 2.0),
            ("She bought a second-hand car for fourteen thousand euros.", 3.2),
            ("She bought a brand-new car for four thousand euros.", 3.0),
        ],
    ),
    (
        "The meeting has been moved from Wednesday morning to Thursday afternoon.",
        [("We will now meet on Thursday afternoon instead of Wednesday morning.", 5.0)],
        [
            ("The meeting has been moved from Thursday afternoon to Wednesday morning.", 2.2),
            ("The meeting has been moved from Wednesday morning to Thursday morning.", 3.4),
            ("The meeting on Wednesday morning has been cancelled.", 2.0),
        ],
    ),
    (
        "The soup needs more salt and a little pepper.",
        [("It would taste better with extra salt and a pinch of pepper.", 4.4)],
        [
            ("The soup needs less salt and a little pepper.", 2.4),
            ("The soup needs more pepper and a little salt.", 3.4),
            ("The soup does not need any more salt.", 1.6),
        ],
    ),
    (
        "Our neighbours are looking after our cat while we are away.",
        [
            ("While we're on holiday, the people next door are taking care of our cat.", 4.8),
            ("The cat stays with the family next door when we travel.", 4.0),
        ],
        [
            ("We are looking after our neighbours' cat while they are away.", 2.0),
            ("Our neighbours are looking after our dog while we are away.", 3.2),
            ("Our neighbours refused to look after our cat while we are away.", 1.6),
        ],
    ),
    (
        "The plane landed twenty minutes early.",
        [
            ("The flight touched down a third of an hour ahead of schedule.", 4.8),
            ("We arrived twenty minutes before the planned landing time.", 4.4),
        ],
        [
            ("The plane landed twenty minutes late.", 2.4),
            ("The plane landed two minutes early.", 3.6),
            ("The plane took off twenty minutes early.", 2.6),
        ],
    ),
    (
        "He always drinks two cups of tea before breakfast.",
        [("Every morning he has a couple of cups of tea before he eats.", 4.6)],
        [
            ("He always drinks two cups of tea after breakfast.", 3.2),
            ("He never drinks tea before breakfast.", 1.4),
            ("He always drinks two cups of coffee before breakfast.", 3.0),
        ],
    ),
    (
        "The kitchen is on the ground floor and the bedrooms are upstairs.",
        [("The bedrooms are on the upper floor, while the kitchen is downstairs.", 5.0)],
        [
            ("The bedrooms are on the ground floor and the kitchen is upstairs.", 1.8),
            ("The kitchen is on the ground floor and the bathroom is upstairs.", 3.0),
            ("The kitchen and the bedrooms are all on the ground floor.", 2.6),
        ],
    ),
    (
        "The doctor told him to rest for a week and drink plenty of water.",
        [("He was advised by his GP to take seven days off and keep hydrated.", 4.6)],
        [
            ("He told the doctor to rest for a week and drink plenty of water.", 1.6),
            ("The doctor told him to rest for a month and drink plenty of water.", 3.4),
            ("The doctor told him not to rest and to keep working.", 1.0),
        ],
    ),
    (
        "We stayed in a small hotel by the sea for five nights.",
        [
            ("Our seaside hotel was a little place, and we spent five nights there.", 4.6),
            ("For five nights we were guests at a modest hotel on the coast.", 4.6),
        ],
        [
            ("We stayed in a large hotel by the sea for five nights.", 3.4),
            ("We stayed in a small hotel in the mountains for five nights.", 2.8),
            ("We stayed in a small hotel by the sea for two nights.", 3.6),
        ],
    ),
    (
        "The printer on the second floor is out of paper.",
        [("There's no paper left in the second-floor printer.", 5.0)],
        [
            ("The printer on the third floor is out of paper.", 3.4),
            ("The printer on the second floor is out of ink.", 3.0),
            ("The printer on the second floor has plenty of paper.", 1.4),
        ],
    ),
    (
        "My brother taught me how to swim when I was six.",
        [("When I was six years old, I learned to swim from my brother.", 5.0)],
        [
            ("I taught my brother how to swim when I was six.", 1.6),
            ("My brother taught me how to swim when I was sixteen.", 3.2),
            ("My brother taught me how to ride a bike when I was six.", 2.6),
        ],
    ),
    (
        "The train was so crowded that we had to stand all the way.",
        [("There were no free seats on the packed train, so we stood for the whole trip.", 4.8)],
        [
            ("The train was so empty that we could choose any seat.", 1.0),
            ("The bus was so crowded that we had to stand all the way.", 3.2),
            ("The train was crowded, but we found seats all the way.", 2.0),
        ],
    ),
    (
        "You should water the tomatoes every evening in summer.",
        [("In the summer months, give the tomato plants water each night.", 4.8)],
        [
            ("You should water the tomatoes every morning in summer.", 3.6),
            ("You should not water the tomatoes every evening in summer.", 1.4),
            ("You should water the tomatoes every evening in winter.", 3.0),
        ],
    ),
    (
        "The cat is sleeping on top of the washing machine.",
        [("On the washing machine, the cat has fallen asleep.", 4.8)],
        [
            ("The cat is sleeping under the washing machine.", 3.2),
            ("The cat is sleeping on top of the fridge.", 3.0),
            ("The cat is playing on top of the washing machine.", 3.0),
        ],
    ),
    (
        "I lent my neighbour a ladder last weekend.",
        [("Last weekend my neighbour borrowed a ladder from me.", 5.0)],
        [
            ("My neighbour lent me a ladder last weekend.", 1.8),
            ("I lent my neighbour a ladder last month.", 3.6),
            ("I lent my neighbour a lawnmower last weekend.", 3.0),
        ],
    ),
    (
        "The restaurant does not take bookings on Saturdays.",
        [
            ("You can't reserve a table there on a Saturday.", 4.8),
            ("Saturday reservations are not accepted at the restaurant.", 5.0),
        ],
        [
            ("The restaurant only takes bookings on Saturdays.", 1.4),
            ("The restaurant does not take bookings on Sundays.", 3.4),
            ("The restaurant does not open on Saturdays.", 2.8),
        ],
    ),
    (
        "Anna arrived at the party before her brother.",
        [("Anna's brother got to the party after she did.", 4.8)],
        [
            ("Anna's brother arrived at the party before her.", 1.6),
            ("Anna arrived at the party after her brother.", 1.6),
            ("Anna arrived at the wedding before her brother.", 3.2),
        ],
    ),
    (
        "The shop replaced my broken phone free of charge.",
        [("I got a new phone from the store in place of the broken one, and it cost me nothing.", 4.6)],
        [
            ("The shop repaired my broken phone free of charge.", 3.4),
            ("The shop replaced my broken phone for a large fee.", 2.8),
            ("The shop refused to replace my broken phone.", 1.4),
        ],
    ),
    (
        "The film was so boring that half the audience fell asleep.",
        [("The movie was so dull that many of the viewers nodded off.", 4.6)],
        [
            ("The film was so exciting that nobody in the audience fell asleep.", 1.0),
            ("The film was so boring that half the audience walked out.", 3.2),
            ("The play was so boring that half the audience fell asleep.", 3.2),
        ],
    ),
    (
        "The boy kicked the ball over the fence into the neighbours' garden.",
        [("The ball ended up in the garden next door after the boy booted it over the fence.", 4.6)],
        [
            ("The boy threw the ball over the fence into the neighbours' garden.", 3.6),
            ("The neighbours kicked the ball over the fence into the boy's garden.", 1.8),
            ("The boy kicked the ball against the fence in the neighbours' garden.", 3.0),
        ],
    ),
]
