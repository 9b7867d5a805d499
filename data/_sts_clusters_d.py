"""Hand-written STS clusters, part 4 (everyday life, continued). Written for lossbook; nothing copied.

Same layout as _sts_clusters_a.py: (base, [(paraphrase, score)], [(foil, score)]).
"""

CLUSTERS = [
    (
        "It takes about forty minutes to drive to the airport.",
        [
            ("The drive to the airport is roughly forty minutes.", 5.0),
            ("Getting to the airport by car takes around three quarters of an hour.", 4.2),
        ],
        [
            ("It takes about four minutes to drive to the airport.", 2.8),
            ("It takes about forty minutes to walk to the airport.", 3.0),
            ("It takes about forty minutes to drive to the station.", 3.2),
        ],
    ),
    (
        "The woman paid the taxi driver and got out of the car.",
        [("After paying the cab driver, the woman stepped out.", 4.8)],
        [
            ("The taxi driver paid the woman and got out of the car.", 1.6),
            ("The woman paid the taxi driver and got into the car.", 2.6),
            ("The woman did not pay the taxi driver and ran out of the car.", 1.8),
        ],
    ),
    (
        "The heating comes on at six and goes off at ten.",
        [("From six until ten the heating is switched on.", 4.8)],
        [
            ("The heating comes on at ten and goes off at six.", 2.2),
            ("The heating comes on at five and goes off at ten.", 3.6),
            ("The lights come on at six and go off at ten.", 2.8),
        ],
    ),
    (
        "My grandmother grows strawberries in her garden.",
        [("Strawberries are grown by my gran in her back garden.", 4.8)],
        [
            ("My grandmother buys strawberries at the market.", 2.0),
            ("My grandfather grows strawberries in his garden.", 3.2),
            ("My grandmother grows potatoes in her garden.", 3.0),
        ],
    ),
    (
        "The students finished the exam before the teacher collected the papers.",
        [("By the time the teacher gathered the papers, the students had completed the test.", 4.8)],
        [
            ("The students had not finished the exam when the teacher collected the papers.", 2.0),
            ("The teacher finished the exam before the students collected the papers.", 1.4),
            ("The students finished the homework before the teacher collected the papers.", 3.2),
        ],
    ),
    (
        "We booked a table for four at the Italian restaurant.",
        [("I reserved a table for the four of us at the Italian place.", 4.8)],
        [
            ("We booked a table for two at the Italian restaurant.", 3.4),
            ("We booked a table for four at the Chinese restaurant.", 3.2),
            ("We cancelled our table for four at the Italian restaurant.", 2.0),
        ],
    ),
    (
        "The old bridge is only open to walkers and cyclists.",
        [("Cars are not allowed on the old bridge; only people on foot or on bikes may cross.", 4.6)],
        [
            ("The old bridge is only open to cars and buses.", 1.6),
            ("The new bridge is only open to walkers and cyclists.", 3.0),
            ("The old bridge is closed to walkers and cyclists.", 1.4),
        ],
    ),
    (
        "A man is teaching his daughter to drive in an empty car park.",
        [("In a deserted parking lot, a father is giving his girl a driving lesson.", 4.6)],
        [
            ("A girl is teaching her father to drive in an empty car park.", 1.6),
            ("A man is teaching his son to drive in an empty car park.", 3.2),
            ("A man is teaching his daughter to drive on a busy road.", 3.4),
        ],
    ),
    (
        "The nurse gave the patient a glass of water.",
        [
            ("The patient was handed a glass of water by the nurse.", 5.0),
            ("The nurse brought the sick man something to drink.", 4.0),
        ],
        [
            ("The patient gave the nurse a glass of water.", 1.8),
            ("The nurse gave the patient a cup of tea.", 3.4),
            ("The nurse refused to give the patient a glass of water.", 1.6),
        ],
    ),
    (
        "The child is hiding behind the curtain in the living room.",
        [("A kid is concealed behind the living room curtains.", 4.6)],
        [
            ("The child is hiding under the table in the living room.", 3.2),
            ("The curtain is hiding behind the child in the living room.", 0.8),
            ("The child is not hiding; she is standing in the middle of the living room.", 1.4),
        ],
    ),
    (
        "The concert starts at eight, but the doors open an hour earlier.",
        [("You can go in from seven o'clock; the music begins at eight.", 4.6)],
        [
            ("The concert starts at seven, but the doors open an hour later.", 2.0),
            ("The concert starts at eight, and the doors open at the same time.", 3.2),
            ("The concert starts at nine, but the doors open an hour earlier.", 3.4),
        ],
    ),
    (
        "Most of the guests left before midnight.",
        [("By twelve o'clock, the majority of the visitors had gone home.", 4.8)],
        [
            ("Most of the guests stayed until after midnight.", 1.4),
            ("A few of the guests left before midnight.", 2.6),
            ("Most of the guests arrived before midnight.", 1.8),
        ],
    ),
    (
        "The lamp on the desk is brighter than the one by the bed.",
        [("The bedside light is dimmer than the desk lamp.", 5.0)],
        [
            ("The lamp by the bed is brighter than the one on the desk.", 1.6),
            ("The lamp on the desk is older than the one by the bed.", 2.4),
            ("The lamp on the desk is as bright as the one by the bed.", 2.8),
        ],
    ),
    (
        "She lost her glasses on the beach and found them a day later.",
        [("Her glasses went missing at the seaside, but she got them back the next day.", 4.8)],
        [
            ("She lost her glasses on the beach and never found them.", 2.6),
            ("She lost her keys on the beach and found them a day later.", 3.0),
            ("She found her glasses on the beach a day before she lost them.", 1.2),
        ],
    ),
    (
        "The dog barks every time the postman comes to the door.",
        [("Whenever the mail carrier arrives, the dog starts barking.", 5.0)],
        [
            ("The postman barks every time the dog comes to the door.", 0.8),
            ("The dog never barks when the postman comes to the door.", 1.6),
            ("The dog hides every time the postman comes to the door.", 2.4),
        ],
    ),
    (
        "The farmer sold twenty sheep at the market.",
        [("Twenty of the farmer's sheep were sold at market.", 5.0)],
        [
            ("The farmer bought twenty sheep at the market.", 2.2),
            ("The farmer sold twelve sheep at the market.", 3.4),
            ("The farmer sold twenty cows at the market.", 3.0),
        ],
    ),
    (
        "The hikers turned back because the path was covered in ice.",
        [("Ice on the trail forced the walkers to go back the way they came.", 4.8)],
        [
            ("The hikers kept going although the path was covered in ice.", 1.8),
            ("The hikers turned back because the path was covered in mud.", 3.2),
            ("The hikers turned back because it was getting dark.", 2.6),
        ],
    ),
    (
        "Please switch off your phone during the performance.",
        [("Mobile phones must be turned off while the show is on.", 4.8)],
        [
            ("Please switch on your phone during the performance.", 1.2),
            ("Please switch off your phone after the performance.", 2.6),
            ("Please do not use the camera during the performance.", 2.4),
        ],
    ),
    (
        "The supermarket is cheaper than the shop on the corner.",
        [("Things cost less at the supermarket than at the corner shop.", 5.0)],
        [
            ("The shop on the corner is cheaper than the supermarket.", 1.6),
            ("The supermarket is more expensive than the shop on the corner.", 1.6),
            ("The supermarket is bigger than the shop on the corner.", 2.0),
        ],
    ),
    (
        "The baby started crying when the music stopped.",
        [("As soon as the music ended, the infant began to cry.", 5.0)],
        [
            ("The baby stopped crying when the music started.", 2.0),
            ("The baby started laughing when the music stopped.", 2.2),
            ("The baby started crying when the music began.", 3.0),
        ],
    ),
    (
        "He fixed the leaking tap in the bathroom himself.",
        [("He repaired the dripping bathroom tap without any help.", 5.0)],
        [
            ("He paid a plumber to fix the leaking tap in the bathroom.", 3.0),
            ("He fixed the leaking tap in the kitchen himself.", 3.6),
            ("He could not fix the leaking tap in the bathroom.", 1.8),
        ],
    ),
    (
        "The train from the north arrives on platform two.",
        [("Northern trains pull in at platform number two.", 4.4)],
        [
            ("The train from the north leaves from platform two.", 2.8),
            ("The train from the south arrives on platform two.", 3.0),
            ("The train from the north arrives on platform nine.", 3.4),
        ],
    ),
    (
        "My son gave his old bicycle to a friend from school.",
        [("A school friend received my boy's old bike as a gift.", 4.6)],
        [
            ("A friend from school gave his old bicycle to my son.", 1.8),
            ("My son sold his old bicycle to a friend from school.", 3.2),
            ("My son gave his new bicycle to a friend from school.", 3.4),
        ],
    ),
    (
        "The rain stopped just before the wedding began.",
        [("Moments before the wedding started, it stopped raining.", 5.0)],
        [
            ("The rain started just before the wedding began.", 1.8),
            ("The rain stopped just after the wedding began.", 3.2),
            ("The snow stopped just before the wedding began.", 3.2),
        ],
    ),
]
