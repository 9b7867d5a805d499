"""Hand-written STS pairs and NLI items (build_data.py, _sts.py, _nli.py).

Everything in this file was written for lossbook. No row of any public data set was
copied or paraphrased. Names of people, towns, rivers, companies, etc. are invented.
"""

# Hand-written STS pairs (sentence1, sentence2, score 0-5).
STS_HAND = [
    ("The train to the airport was delayed by twenty minutes.", "The airport train arrived twenty minutes late.", 4.6),
    (
        "The city council approved the new budget on Tuesday.",
        "On Tuesday, the new budget was approved by the city council.",
        5.0,
    ),
    (
        "The city council approved the new budget on Tuesday.",
        "The city council rejected the new budget on Tuesday.",
        1.8,
    ),
    (
        "Heavy rain caused flooding in several coastal towns.",
        "Several towns on the coast were flooded after heavy rain.",
        4.8,
    ),
    (
        "Heavy rain caused flooding in several coastal towns.",
        "Strong winds damaged roofs in several coastal towns.",
        2.2,
    ),
    (
        "The museum will stay open late on Friday evenings this summer.",
        "This summer the museum is open until late on Fridays.",
        4.8,
    ),
    (
        "The museum will stay open late on Friday evenings this summer.",
        "The museum will be closed on Fridays this summer.",
        1.6,
    ),
    ("Prices for fresh vegetables rose sharply last month.", "Vegetable prices went up steeply last month.", 4.8),
    ("Prices for fresh vegetables rose sharply last month.", "Fuel prices rose slightly last month.", 1.6),
    ("A small earthquake shook the region early on Sunday.", "A minor earthquake hit the area on Sunday morning.", 4.6),
    ("A small earthquake shook the region early on Sunday.", "A powerful earthquake hit the region on Sunday.", 3.2),
    ("The school will hire five new teachers next year.", "Next year the school plans to hire new teachers.", 3.8),
    ("The school will hire five new teachers next year.", "The hospital will hire fifty new nurses next year.", 1.4),
    (
        "She finished the marathon in just under four hours.",
        "She completed the marathon in a little less than four hours.",
        5.0,
    ),
    ("She finished the marathon in just under four hours.", "She finished the half marathon in two hours.", 2.4),
    (
        "The bakery on the corner sells fresh bread every morning.",
        "Every morning, fresh bread is sold at the corner bakery.",
        5.0,
    ),
    ("The bakery on the corner sells fresh bread every morning.", "The corner shop sells newspapers and milk.", 0.8),
    ("The bridge will be closed for repairs until March.", "Repairs will keep the bridge closed until March.", 5.0),
    ("The bridge will be closed for repairs until March.", "The tunnel will be closed for repairs until June.", 2.0),
    ("Our flight was cancelled because of the snowstorm.", "The snowstorm led to the cancellation of our flight.", 4.8),
    ("Our flight was cancelled because of the snowstorm.", "Our flight was delayed because of fog.", 2.4),
    ("The company reported higher profits this quarter.", "Profits at the company went up this quarter.", 4.6),
    (
        "The company reported higher profits this quarter.",
        "The company announced that it would open a new office.",
        1.0,
    ),
    (
        "He forgot his umbrella and got soaked on the way home.",
        "He got wet walking home because he had left his umbrella behind.",
        4.6,
    ),
    ("He forgot his umbrella and got soaked on the way home.", "He forgot his keys and had to wait outside.", 1.0),
    ("The library has extended its opening hours.", "The library is now open for longer each day.", 4.4),
    ("The library has extended its opening hours.", "The library has added thousands of new books.", 1.6),
    (
        "Two climbers reached the summit after a six-hour ascent.",
        "After climbing for six hours, two climbers made it to the top.",
        4.8,
    ),
    ("Two climbers reached the summit after a six-hour ascent.", "Two hikers got lost on the mountain overnight.", 1.2),
    (
        "The recipe calls for two cups of flour and one egg.",
        "You need two cups of flour and an egg for this recipe.",
        5.0,
    ),
    (
        "The recipe calls for two cups of flour and one egg.",
        "The recipe calls for three cups of flour and two eggs.",
        3.0,
    ),
    (
        "Voters in the town elected a new mayor on Sunday.",
        "A new mayor was chosen by the town's voters on Sunday.",
        5.0,
    ),
    ("Voters in the town elected a new mayor on Sunday.", "The mayor of the town resigned on Sunday.", 1.8),
    (
        "The concert was postponed because the singer was ill.",
        "The singer's illness forced the concert to be postponed.",
        4.8,
    ),
    ("The concert was postponed because the singer was ill.", "The concert went ahead despite the rain.", 1.2),
    (
        "The new phone has a larger screen and a longer battery life.",
        "The new phone's screen is bigger and its battery lasts longer.",
        5.0,
    ),
    (
        "The new phone has a larger screen and a longer battery life.",
        "The new phone has a larger screen but a weaker battery.",
        3.0,
    ),
    ("The stock market fell sharply on Monday morning.", "A local choir won a singing contest on Monday.", 0.2),
    (
        "Scientists discovered a new species of frog in the rainforest.",
        "A new kind of frog has been found by scientists in the rainforest.",
        5.0,
    ),
    (
        "Scientists discovered a new species of frog in the rainforest.",
        "Scientists discovered a new species of beetle in the desert.",
        2.2,
    ),
    (
        "The hospital opened a new children's ward this week.",
        "A new ward for children opened at the hospital this week.",
        5.0,
    ),
    ("The hospital opened a new children's ward this week.", "The price of train tickets will rise in January.", 0.0),
    ("I usually walk to work when the weather is nice.", "When it's sunny I normally go to work on foot.", 4.4),
    ("I usually walk to work when the weather is nice.", "I usually take the bus to work.", 2.0),
    ("The children built a snowman in the garden.", "The kids made a snowman in the yard.", 4.8),
    ("The children built a snowman in the garden.", "The children had a snowball fight in the park.", 2.0),
    (
        "Tickets for the match sold out within an hour.",
        "All the tickets for the game were gone in less than an hour.",
        4.8,
    ),
    ("Tickets for the match sold out within an hour.", "The match was cancelled because of the storm.", 1.2),
]

# Hand-written NLI items: (premise, entailed, neutral, contradicted)
NLI_HAND = [
    (
        "The museum is closed on Mondays and opens at ten on other days.",
        "The museum does not open on Mondays.",
        "The museum is popular with school groups.",
        "The museum opens at ten every Monday.",
    ),
    (
        "Anna missed the last bus, so she walked home in the rain.",
        "Anna walked home.",
        "Anna lives more than two miles from the bus stop.",
        "Anna took the last bus home.",
    ),
    (
        "The bakery sold out of bread before noon.",
        "By noon the bakery had sold all of its bread.",
        "The bakery bakes more bread on weekends.",
        "The bakery did not sell any bread that morning.",
    ),
    (
        "Three students passed the exam and one student failed it.",
        "At least one student failed the exam.",
        "The exam was harder than last year's.",
        "Every student passed the exam.",
    ),
    (
        "The concert was cancelled because the singer lost her voice.",
        "The concert did not take place.",
        "The singer had performed every night that week.",
        "The concert went ahead as planned.",
    ),
    (
        "Mark has lived in the same small flat for twenty years.",
        "Mark has lived in his flat for a long time.",
        "Mark would like to move to a bigger home.",
        "Mark moved into his flat last month.",
    ),
    (
        "The restaurant only serves vegetarian dishes.",
        "The restaurant does not serve meat dishes.",
        "The restaurant is expensive.",
        "The restaurant is famous for its beef steaks.",
    ),
    (
        "The bridge was closed all week while workers repaired the road surface.",
        "Workers were repairing the road surface of the bridge.",
        "The repairs cost more than expected.",
        "Traffic crossed the bridge normally all week.",
    ),
    (
        "Lena forgot her keys and had to wait outside until her brother came home.",
        "Lena could not get into the house right away.",
        "Lena's brother was annoyed with her.",
        "Lena unlocked the door with her own keys.",
    ),
    (
        "The library lends laptops to students for up to two weeks.",
        "Students can borrow laptops from the library.",
        "The laptops are quite old.",
        "The library does not lend laptops to students.",
    ),
    (
        "It snowed heavily overnight, and the schools stayed closed the next day.",
        "The schools were closed the day after the snowfall.",
        "The children were happy about the day off.",
        "The schools opened as usual the next morning.",
    ),
    (
        "The team won its last five matches without conceding a goal.",
        "The team did not concede a goal in its last five matches.",
        "The team has a new coach this season.",
        "The team lost two of its last five matches.",
    ),
    (
        "A new cafe opened next to the train station last spring.",
        "There is a cafe near the train station.",
        "The cafe serves breakfast all day.",
        "There are no cafes near the train station.",
    ),
    (
        "Omar speaks Arabic at home and English at work.",
        "Omar speaks at least two languages.",
        "Omar also speaks French.",
        "Omar speaks only one language.",
    ),
    (
        "The parcel arrived two days later than promised.",
        "The parcel was delivered late.",
        "The parcel contained a birthday present.",
        "The parcel arrived earlier than expected.",
    ),
    (
        "The price of the tickets includes lunch and a guided tour.",
        "Lunch is included in the ticket price.",
        "The guided tour lasts two hours.",
        "Lunch must be paid for separately.",
    ),
    (
        "The old factory was turned into apartments in 2019.",
        "The building used to be a factory.",
        "The apartments are expensive to rent.",
        "The factory is still producing goods today.",
    ),
    (
        "Sara drank a glass of water after her run.",
        "Sara had been running.",
        "Sara was very thirsty.",
        "Sara did not drink anything after her run.",
    ),
    (
        "All the windows in the house were left open during the storm.",
        "The windows were open during the storm.",
        "Rain came into the living room.",
        "Every window in the house was shut during the storm.",
    ),
    (
        "The film is three hours long and has no intermission.",
        "The film lasts three hours.",
        "The film won several awards.",
        "The film has a short break in the middle.",
    ),
    (
        "Because the printer was broken, Ravi copied the notes by hand.",
        "Ravi wrote out the notes by hand.",
        "Ravi has neat handwriting.",
        "Ravi printed the notes on the office printer.",
    ),
    (
        "The village has one shop, which closes at six.",
        "The village shop is closed after six.",
        "The shop sells fresh fruit.",
        "The village shop stays open until midnight.",
    ),
    (
        "The committee postponed the vote until next month.",
        "The vote has been delayed.",
        "Most committee members support the proposal.",
        "The committee held the vote as planned this month.",
    ),
    (
        "The twins were born in May, ten minutes apart.",
        "The twins were born in May.",
        "The twins look exactly alike.",
        "The twins were born a year apart.",
    ),
    (
        "The company moved its headquarters from the capital to a smaller city.",
        "The company's headquarters are no longer in the capital.",
        "The move saved the company money.",
        "The company's headquarters are still in the capital.",
    ),
]
