"""Hand-written STS clusters, part 3 (news and public life, continued). Written for lossbook; nothing copied.

Same layout as _sts_clusters_a.py: (base, [(paraphrase, score)], [(foil, score)]).
"""

CLUSTERS = [
    (
        "A storm knocked out power to about ten thousand homes.",
        [
            ("Around 10,000 households lost electricity because of the storm.", 5.0),
            ("Bad weather left roughly ten thousand houses without power.", 4.6),
        ],
        [
            ("A storm knocked out power to about ten homes.", 2.6),
            ("A storm knocked out water to about ten thousand homes.", 3.0),
            ("Power was restored to about ten thousand homes after the storm.", 2.0),
        ],
    ),
    (
        "Scientists found that the lake is warming faster than the sea.",
        [("Researchers discovered the lake's temperature is rising more quickly than the ocean's.", 4.8)],
        [
            ("Scientists found that the sea is warming faster than the lake.", 1.6),
            ("Scientists found that the lake is cooling faster than the sea.", 1.6),
            ("Scientists found that the lake is not warming at all.", 1.6),
        ],
    ),
    (
        "The company will cut two hundred jobs at its factory in the north.",
        [
            ("Two hundred workers at the firm's northern plant are set to lose their jobs.", 4.8),
            ("The firm plans 200 redundancies at its factory in the north.", 4.8),
        ],
        [
            ("The company will create two hundred jobs at its factory in the north.", 1.2),
            ("The company will cut two thousand jobs at its factory in the north.", 3.0),
            ("The company will cut two hundred jobs at its factory in the south.", 3.2),
        ],
    ),
    (
        "Shares in the carmaker rose sharply after strong sales figures.",
        [("Good sales results sent the car manufacturer's stock price up steeply.", 4.8)],
        [
            ("Shares in the carmaker fell sharply after strong sales figures.", 1.8),
            ("Shares in the carmaker rose sharply after weak sales figures.", 2.4),
            ("Shares in the carmaker rose slightly after strong sales figures.", 3.8),
        ],
    ),
    (
        "Oil prices dropped for the third day in a row.",
        [("For three consecutive days the price of crude has fallen.", 5.0)],
        [
            ("Oil prices rose for the third day in a row.", 1.6),
            ("Oil prices dropped for the first time in three days.", 2.4),
            ("Gold prices dropped for the third day in a row.", 2.4),
        ],
    ),
    (
        "The shop will stay open until ten at night during December.",
        [
            ("All through December, the store closes at 10 pm.", 4.6),
            ("In December you can shop there as late as ten in the evening.", 4.4),
        ],
        [
            ("The shop will close at ten in the morning during December.", 1.8),
            ("The shop will stay open until ten at night during January.", 3.2),
            ("The shop will stay open until eight at night during December.", 3.2),
        ],
    ),
    (
        "The bakery was sold to a young couple from the village.",
        [
            ("A young pair from the village bought the bakery.", 5.0),
            ("Two young villagers are the bakery's new owners.", 4.2),
        ],
        [
            ("A young couple from the village sold the bakery.", 1.8),
            ("The bakery was sold to an old couple from the village.", 3.0),
            ("The bakery was sold to a young couple from the city.", 3.2),
        ],
    ),
    (
        "The festival was moved from June to September because of the heat.",
        [("Because of hot weather, organisers pushed the festival back from June to September.", 5.0)],
        [
            ("The festival was moved from September to June because of the heat.", 1.8),
            ("The festival was moved from June to September because of the cold.", 3.0),
            ("The festival was cancelled because of the heat.", 2.2),
        ],
    ),
    (
        "Doctors warned that the flu season could start earlier this year.",
        [("Medical experts said influenza may arrive sooner than usual this year.", 4.8)],
        [
            ("Doctors warned that the flu season could start later this year.", 2.4),
            ("Doctors said that the flu season will not start earlier this year.", 1.6),
            ("Patients warned doctors that the flu season could start earlier this year.", 2.0),
        ],
    ),
    (
        "The number of tourists visiting the island doubled last year.",
        [
            ("Last year twice as many holidaymakers came to the island.", 5.0),
            ("Visitor numbers on the island went up by one hundred percent in the past year.", 4.6),
        ],
        [
            ("The number of tourists visiting the island halved last year.", 1.4),
            ("The number of tourists visiting the island tripled last year.", 3.0),
            ("The number of tourists visiting the island doubled ten years ago.", 3.0),
        ],
    ),
    (
        "The river burst its banks after a week of rain.",
        [
            ("Seven days of rainfall caused the river to flood.", 4.8),
            ("After a rainy week, water spilled over the river's edges.", 4.6),
        ],
        [
            ("The river dried up after a week of rain.", 0.8),
            ("The river burst its banks after a day of rain.", 3.4),
            ("The river did not burst its banks despite a week of rain.", 1.6),
        ],
    ),
    (
        "The teacher asked the students to hand in their essays by Friday.",
        [("Pupils were told to submit their essays before the end of Friday.", 4.8)],
        [
            ("The students asked the teacher to hand in their essays by Friday.", 1.6),
            ("The teacher asked the students to hand in their essays by Monday.", 3.4),
            ("The teacher asked the students to read their essays aloud on Friday.", 2.4),
        ],
    ),
    (
        "More than half of the town's residents voted in the election.",
        [("Turnout in the town's election was above fifty percent.", 4.8)],
        [
            ("Less than half of the town's residents voted in the election.", 1.8),
            ("More than half of the town's residents refused to vote in the election.", 1.4),
            ("More than half of the town's residents voted in the referendum.", 3.2),
        ],
    ),
    (
        "The police officer helped an old woman cross the busy road.",
        [
            ("An elderly lady was assisted across the heavy traffic by a policeman.", 4.6),
            ("A constable guided an aged woman to the other side of the crowded street.", 4.4),
        ],
        [
            ("An old woman helped the police officer cross the busy road.", 1.6),
            ("The police officer stopped an old woman from crossing the busy road.", 1.8),
            ("The police officer helped an old woman cross the quiet road.", 3.8),
        ],
    ),
    (
        "The talks between the two companies ended without an agreement.",
        [
            ("The two firms failed to reach a deal in their negotiations.", 5.0),
            ("No agreement came out of the discussions between the businesses.", 4.8),
        ],
        [
            ("The talks between the two companies ended with an agreement.", 1.2),
            ("The talks between the two countries ended without an agreement.", 2.6),
            ("The talks between the three companies ended without an agreement.", 3.4),
        ],
    ),
    (
        "The price of coffee has risen because of a poor harvest in Brazil.",
        [("A weak Brazilian crop has pushed coffee prices up.", 4.8)],
        [
            ("The price of coffee has fallen because of a good harvest in Brazil.", 1.6),
            ("The price of coffee has risen because of a poor harvest in Kenya.", 3.2),
            ("The price of cocoa has risen because of a poor harvest in Brazil.", 2.4),
        ],
    ),
    (
        "The singer cancelled the rest of her tour to look after her mother.",
        [("To care for her mum, the singer called off her remaining concerts.", 4.8)],
        [
            ("The singer extended her tour to look after her mother.", 1.2),
            ("The singer cancelled the rest of her tour to look after her son.", 3.2),
            ("The singer's mother cancelled the rest of her tour to look after her.", 1.2),
        ],
    ),
    (
        "A dog found the missing boy in the woods after two days.",
        [
            ("The lost child was discovered in the forest by a dog on the second day of the search.", 4.6),
            ("After a two-day search, a dog tracked down the boy in the woods.", 4.8),
        ],
        [
            ("The missing boy found a dog in the woods after two days.", 1.4),
            ("A dog found the missing girl in the woods after two days.", 3.0),
            ("A dog found the missing boy in the woods after two hours.", 3.4),
        ],
    ),
    (
        "The court ordered the factory to stop polluting the river.",
        [("Judges told the plant to end the pollution of the river.", 4.8)],
        [
            ("The court allowed the factory to keep polluting the river.", 1.4),
            ("The factory ordered the court to stop polluting the river.", 0.8),
            ("The court ordered the factory to stop polluting the air.", 3.0),
        ],
    ),
    (
        "The library will lend e-books to members from next month.",
        [
            ("Starting next month, library members can borrow digital books.", 5.0),
            ("Electronic books will be available on loan to members of the library soon.", 4.2),
        ],
        [
            ("The library will stop lending e-books to members from next month.", 1.4),
            ("The library will sell e-books to members from next month.", 2.4),
            ("The library will lend e-books to members from next year.", 3.4),
        ],
    ),
    (
        "The president visited the flooded villages on Thursday.",
        [("On Thursday the head of state toured the villages hit by floods.", 4.8)],
        [
            ("The president visited the flooded villages on Saturday.", 3.6),
            ("The president refused to visit the flooded villages on Thursday.", 1.4),
            ("The president visited the burned villages on Thursday.", 2.6),
        ],
    ),
    (
        "The film won three awards, including best director.",
        [("Among the movie's three prizes was the one for best director.", 4.8)],
        [
            ("The film won seven awards, including best director.", 3.0),
            ("The film won three awards, but not best director.", 2.4),
            ("The film lost three awards, including best director.", 1.2),
        ],
    ),
    (
        "The factory workers went on strike for higher pay.",
        [
            ("Staff at the plant walked out, demanding better wages.", 4.8),
            ("Demanding a raise, employees at the factory stopped work.", 4.6),
        ],
        [
            ("The factory workers went on strike for shorter hours.", 3.0),
            ("The factory workers ended their strike for higher pay.", 2.0),
            ("The factory owners went on strike for higher pay.", 2.0),
        ],
    ),
    (
        "The new law bans smoking in all public parks.",
        [("Under the new rules, lighting a cigarette in any public park is forbidden.", 4.8)],
        [
            ("The new law allows smoking in all public parks.", 1.2),
            ("The new law bans smoking in some public parks.", 3.4),
            ("The new law bans dogs in all public parks.", 2.0),
        ],
    ),
    (
        "The author's first novel sold more copies than her second.",
        [("Her debut book outsold the one that followed it.", 5.0)],
        [
            ("The author's second novel sold more copies than her first.", 1.6),
            ("The author's first novel sold fewer copies than her second.", 1.6),
            ("The author's first novel sold more copies than her third.", 3.0),
        ],
    ),
]
