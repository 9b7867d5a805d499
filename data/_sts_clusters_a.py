"""Hand-written STS clusters, part 1 (news and public life). Written for lossbook; nothing copied.

Each cluster: (base sentence, [(paraphrase, score)], [(foil, score)]). A paraphrase says the same with
other words (score 4.2-5.0 against the base); a foil keeps most words of the base but changes what it
means: negation, swapped roles, another number, the opposite verb, another place or day.
"""

CLUSTERS = [
    (
        "The city council approved the new budget on Tuesday.",
        [
            ("On Tuesday, councillors voted to accept next year's spending plan.", 4.4),
            ("The town's new budget got the green light from the council on Tuesday.", 4.8),
        ],
        [
            ("The city council rejected the new budget on Tuesday.", 1.4),
            ("The city council approved the new budget on Friday.", 3.6),
            ("The city council did not approve the new budget on Tuesday.", 1.4),
        ],
    ),
    (
        "Police arrested two men after a robbery at a jewellery shop.",
        [
            ("Two suspects were taken into custody following a jewellery store hold-up.", 4.6),
            ("After a jeweller's was robbed, officers detained a pair of men.", 4.6),
        ],
        [
            ("Police arrested five men after a robbery at a jewellery shop.", 3.0),
            ("Two men arrested police after a robbery at a jewellery shop.", 1.0),
            ("Police released two men after a robbery at a jewellery shop.", 2.0),
        ],
    ),
    (
        "The government raised the minimum wage by five percent.",
        [
            ("Ministers increased the lowest legal hourly pay by 5%.", 4.8),
            ("Workers on the minimum wage will earn five percent more after a government decision.", 4.2),
        ],
        [
            ("The government cut the minimum wage by five percent.", 1.2),
            ("The government raised the minimum wage by fifteen percent.", 3.0),
            ("The government raised the price of fuel by five percent.", 1.2),
        ],
    ),
    (
        "A fire destroyed an old warehouse near the harbour last night.",
        [
            ("Flames gutted a disused storage building by the docks overnight.", 4.6),
            ("Yesterday evening a blaze burned down an aging depot close to the port.", 4.4),
        ],
        [
            ("A fire destroyed an old warehouse near the station last night.", 3.0),
            ("Firefighters saved an old warehouse near the harbour last night.", 1.8),
            ("A fire destroyed an old warehouse near the harbour ten years ago.", 2.8),
        ],
    ),
    (
        "The prime minister met the president of the farmers' union on Monday.",
        [("On Monday the head of government held talks with the leader of the farmers' association.", 4.6)],
        [
            ("The prime minister refused to meet the president of the farmers' union on Monday.", 1.6),
            ("The prime minister met the president of the teachers' union on Monday.", 2.6),
            ("The prime minister met the president of the farmers' union on Monday and Tuesday.", 4.0),
        ],
    ),
    (
        "Unemployment fell to its lowest level in ten years.",
        [
            ("Fewer people are out of work now than at any time in the past decade.", 4.8),
            ("The jobless rate dropped to a ten-year low.", 5.0),
        ],
        [
            ("Unemployment rose to its highest level in ten years.", 1.0),
            ("Unemployment fell to its lowest level in two years.", 3.2),
            ("Inflation fell to its lowest level in ten years.", 1.4),
        ],
    ),
    (
        "The airline cancelled forty flights because of a strike by pilots.",
        [
            ("A pilots' walkout forced the carrier to scrap 40 departures.", 4.8),
            ("Forty of the airline's flights were called off as pilots stopped work.", 4.6),
        ],
        [
            ("The airline cancelled four flights because of a strike by pilots.", 3.0),
            ("The airline cancelled forty flights because of a storm.", 2.8),
            ("The airline added forty flights despite a strike by pilots.", 1.2),
        ],
    ),
    (
        "The new hospital will open in the north of the city next spring.",
        [("Next spring a newly built hospital opens its doors in the city's northern district.", 4.8)],
        [
            ("The new hospital will open in the south of the city next spring.", 3.0),
            ("The new hospital will not open in the north of the city next spring.", 1.4),
            ("The new hospital will close in the north of the city next spring.", 1.2),
        ],
    ),
    (
        "The mayor thanked the volunteers who cleaned the beach.",
        [
            ("Volunteers who tidied up the shoreline received thanks from the mayor.", 4.8),
            ("The people who gave their time to clear litter from the beach were praised by the mayor.", 4.2),
        ],
        [
            ("The volunteers thanked the mayor who cleaned the beach.", 1.6),
            ("The mayor criticised the volunteers who cleaned the beach.", 1.6),
            ("The mayor thanked the volunteers who cleaned the park.", 3.2),
        ],
    ),
    (
        "Voters elected a woman as mayor for the first time in the town's history.",
        [("For the first time ever, the town's residents chose a female mayor.", 5.0)],
        [
            ("Voters elected a woman as mayor for the third time in the town's history.", 2.6),
            ("Voters did not elect a woman as mayor for the first time in the town's history.", 1.6),
            ("Voters elected a man as mayor for the first time in the town's history.", 1.8),
        ],
    ),
    (
        "The court found the former manager guilty of fraud.",
        [
            ("A judge ruled that the ex-manager had committed fraud.", 4.8),
            ("The one-time boss was convicted of fraud.", 4.6),
        ],
        [
            ("The court found the former manager not guilty of fraud.", 1.2),
            ("The former manager found the court guilty of fraud.", 0.8),
            ("The court found the former manager guilty of theft.", 3.0),
        ],
    ),
    (
        "Heavy snow closed several roads in the mountains on Sunday.",
        [("On Sunday, a lot of snowfall blocked a number of mountain routes.", 4.8)],
        [
            ("Heavy snow closed several roads in the mountains on Thursday.", 3.6),
            ("Heavy rain closed several roads in the mountains on Sunday.", 3.0),
            ("Despite heavy snow, all roads in the mountains stayed open on Sunday.", 1.4),
        ],
    ),
    (
        "The bank lowered its interest rate to two percent.",
        [
            ("Borrowing costs at the bank were cut to 2%.", 4.6),
            ("The bank's rate of interest has come down to two per cent.", 5.0),
        ],
        [
            ("The bank raised its interest rate to two percent.", 2.0),
            ("The bank lowered its interest rate to three percent.", 3.0),
            ("The bank kept its interest rate at two percent.", 2.4),
        ],
    ),
    (
        "Thousands of people marched through the capital to protest against the new law.",
        [
            ("A huge crowd walked through the capital in opposition to the new legislation.", 4.6),
            ("The new law brought thousands onto the streets of the capital in protest.", 4.4),
        ],
        [
            ("Hundreds of people marched through the capital to protest against the new law.", 3.4),
            ("Thousands of people marched through the capital to celebrate the new law.", 1.6),
            ("Thousands of people marched through the capital to protest against the old law.", 2.8),
        ],
    ),
    (
        "The school closed early because the heating had broken down.",
        [
            ("Pupils were sent home ahead of time after the heating system failed.", 4.6),
            ("A broken boiler meant the school shut before the usual time.", 4.4),
        ],
        [
            ("The school opened late because the heating had broken down.", 2.8),
            ("The school closed early because the roof had broken down.", 3.0),
            ("The school stayed open although the heating had broken down.", 1.6),
        ],
    ),
    (
        "A local company has won a contract to build the new bridge.",
        [("The job of constructing the new bridge has gone to a firm from the area.", 4.8)],
        [
            ("A local company has lost a contract to build the new bridge.", 1.8),
            ("A foreign company has won a contract to build the new bridge.", 2.8),
            ("A local company has won a contract to repair the old bridge.", 2.8),
        ],
    ),
    (
        "The minister resigned after a week of criticism.",
        [
            ("Following seven days of attacks on her record, the minister stepped down.", 4.4),
            ("A week of harsh criticism ended with the minister quitting.", 4.6),
        ],
        [
            ("The minister refused to resign after a week of criticism.", 1.4),
            ("The minister resigned after a year of criticism.", 3.2),
            ("The minister was promoted after a week of criticism.", 1.2),
        ],
    ),
    (
        "Train fares will go up by three percent in January.",
        [
            ("From January, rail tickets will cost 3% more.", 5.0),
            ("Passengers face a three per cent rise in the price of train travel at the start of the year.", 4.4),
        ],
        [
            ("Train fares will go down by three percent in January.", 1.6),
            ("Train fares will go up by thirteen percent in January.", 3.0),
            ("Bus fares will go up by three percent in January.", 2.6),
        ],
    ),
    (
        "The museum received a painting from a private collector.",
        [
            ("A privately owned painting was donated to the museum.", 4.6),
            ("A collector gave one of his pictures to the museum.", 4.2),
        ],
        [
            ("The museum sold a painting to a private collector.", 1.6),
            ("A private collector received a painting from the museum.", 1.6),
            ("The museum received a sculpture from a private collector.", 3.0),
        ],
    ),
    (
        "The team's captain was injured in the first half and did not return.",
        [("Hurt before half-time, the skipper sat out the rest of the game.", 4.6)],
        [
            ("The team's captain was injured in the second half and did not return.", 3.4),
            ("The team's captain was injured in the first half but soon returned.", 2.4),
            ("The team's coach was injured in the first half and did not return.", 2.6),
        ],
    ),
    (
        "The home side won the match by two goals to one.",
        [
            ("The hosts claimed a 2-1 victory.", 4.8),
            ("Playing at their own ground, the team came out on top, two-one.", 4.4),
        ],
        [
            ("The home side lost the match by two goals to one.", 1.4),
            ("The home side won the match by three goals to one.", 3.2),
            ("The away side won the match by two goals to one.", 1.6),
        ],
    ),
    (
        "She beat her rival in straight sets to reach the final.",
        [("She made it to the final after defeating her opponent without dropping a set.", 4.8)],
        [
            ("Her rival beat her in straight sets to reach the final.", 1.4),
            ("She beat her rival in five sets to reach the final.", 3.4),
            ("She beat her rival in straight sets to reach the semi-final.", 3.2),
        ],
    ),
    (
        "The runner broke the national record by half a second.",
        [
            ("The athlete set a new national best, half a second quicker than the old mark.", 4.8),
            ("By 0.5 seconds, the sprinter beat the country's previous record time.", 4.6),
        ],
        [
            ("The runner missed the national record by half a second.", 1.8),
            ("The runner broke the world record by half a second.", 3.0),
            ("The runner broke the national record by two seconds.", 3.6),
        ],
    ),
    (
        "The cyclist crashed in the last kilometre but still finished the race.",
        [("Despite a fall close to the line, the rider completed the race.", 4.6)],
        [
            ("The cyclist crashed in the last kilometre and did not finish the race.", 2.0),
            ("The cyclist crashed in the first kilometre but still finished the race.", 3.2),
            ("The cyclist won the race without crashing.", 1.4),
        ],
    ),
    (
        "The coach picked three young players for Saturday's game.",
        [("Three youngsters were chosen by the manager for the match on Saturday.", 4.8)],
        [
            ("The coach dropped three young players for Saturday's game.", 1.4),
            ("The coach picked three young players for Sunday's game.", 3.6),
            ("Three young players picked the coach for Saturday's game.", 1.0),
        ],
    ),
]
