"""Hand-written names, slot fillers and fact templates of the invented world (qa_pairs/, retrieval/).

Everything in this file was written for lossbook. No row of any public data set was
copied or paraphrased. Names of people, towns, rivers, companies, etc. are invented.
"""

# ---------------------------------------------------------------- invented world (QA + retrieval)
COMPANY_TYPES = {
    "Instruments": ["hand-made violins", "precision weather instruments"],
    "Cycles": ["folding electric bicycles", "cargo bikes for delivery riders"],
    "Foods": ["smoked cheese", "oat biscuits", "jars of pickled vegetables"],
    "Outfitters": ["weatherproof tents", "wool hiking socks"],
    "Textiles": ["linen bedsheets", "recycled denim"],
    "Robotics": ["warehouse robots", "robotic lawnmowers"],
    "Labs": ["water testing kits", "low-cost hearing aids"],
    "Works": ["cast-iron cookware", "garden tools"],
}
DEVICES = {  # device: (purposes, first places of use, materials)
    "pump": (
        ["lift water out of flooded mines", "drain marshland for farming"],
        ["the copper mines", "the salt marshes"],
        ["cast iron", "brass and steel"],
    ),
    "lantern": (
        ["signal to ships in thick fog", "light long railway tunnels"],
        ["the harbour", "the railway tunnel"],
        ["copper and glass", "brass and thick glass"],
    ),
    "loom": (
        ["weave narrow silk ribbons", "produce patterned carpets"],
        ["a silk mill", "a carpet workshop"],
        ["oak and iron", "beech wood and steel"],
    ),
    "stove": (
        ["heat large schoolrooms", "cook meals for field hospitals"],
        ["the village school", "the army barracks"],
        ["cast iron", "sheet steel and firebrick"],
    ),
    "kiln": (
        ["fire clay roof tiles", "dry hops for brewing"],
        ["a tile works", "a brewery"],
        ["firebrick and iron", "clay brick"],
    ),
    "clock": (
        ["time horse races", "keep accurate time at sea"],
        ["the racecourse", "the naval dockyard"],
        ["brass and walnut wood", "steel and glass"],
    ),
    "press": (
        ["print railway timetables", "squeeze oil from olives"],
        ["the railway office", "an olive farm"],
        ["oak and iron", "cast iron"],
    ),
}
FESTIVALS = {  # kind: (what it celebrates, month)
    "Lantern": ("the longest night of the year", "December"),
    "Harvest": ("the end of the grape harvest", "October"),
    "Kite": ("the first windy days of spring", "April"),
    "River": ("the return of the fishing boats", "August"),
    "Cheese": ("the region's cheese makers", "June"),
    "Folk Music": ("the town's tradition of fiddle music", "July"),
    "Boat": ("the anniversary of the first ferry crossing", "May"),
    "Winter Light": ("the return of longer days after midwinter", "January"),
}
SLOTS = {
    "founders": [
        "salt traders",
        "a group of fishermen",
        "wool merchants",
        "monks from a nearby abbey",
        "silver miners",
        "farmers from the valley",
    ],
    "famous": [
        "blue-glazed pottery",
        "wooden clock tower",
        "smoked cheese",
        "painted fishing boats",
        "stone footbridges",
        "rose gardens",
        "glassworks",
        "covered market",
    ],
    "job": ["bus driver", "carpenter", "chemistry teacher", "bank clerk", "ship's engineer", "nurse", "postman"],
    "water": ["Lake Orvell", "the Gulf of Tessary", "the Marrow Sea", "Lake Dunmere", "the Bay of Kestle"],
    "fish": [
        "brown trout and grayling",
        "large numbers of eels",
        "pike and perch",
        "a rare silver carp",
        "salmon in the autumn",
    ],
    "count": ["four", "seven", "eleven", "fifteen", "nine", "twenty-two"],
    "range": ["Orvane", "Serrat", "Kaldor", "Miren", "Tessal"],
    "veg": ["pine forest", "old vineyards", "alpine meadows", "birch woods", "terraced tea gardens"],
    "venue": ["the old market square", "the castle gardens", "a meadow beside the river", "the harbour front"],
    "duration": ["three days", "five days", "a full week", "two days", "ten days"],
    "ferrytime": ["two-hour", "forty-minute", "three-hour", "ninety-minute"],
    "export": ["sea salt", "dried seaweed", "wool", "cider", "smoked fish"],
    "hill": ["Vennick Tor", "Gallow Knoll", "Brackle Hill", "Stannor Fell", "Corran Head"],
    "settlers": ["farmers from the mainland", "fishing families", "shipwrecked sailors", "sheep herders"],
    "collection": [
        "old maps",
        "mechanical toys",
        "ship models",
        "folk costumes",
        "clocks and watches",
        "children's books",
        "railway posters",
    ],
    "building": ["railway station", "textile mill", "prison", "brewery", "customs house"],
    "price": ["six euros", "eight euros", "four euros", "twelve euros", "ten euros"],
}
# type: (name pattern, [(attr, [questions], [answers], [optional extra sentences])])
WORLD = {
    "town": [
        (
            "founded",
            ["When was {n} founded?", "In what year was the town of {n} founded?"],
            ["{n} was founded in {year} by {founders}.", "The town of {n} was established by {founders} in {year}."],
            ["Parts of the original town wall still stand today."],
        ),
        (
            "population",
            ["How many people live in {n}?", "What is the population of {n}?"],
            ["{n} has a population of about {pop}.", "Around {pop} people live in {n}."],
            ["The number has grown steadily since the railway arrived."],
        ),
        (
            "famous",
            ["What is {n} best known for?", "What is the town of {n} famous for?"],
            ["{n} is best known for its {famous}.", "The town of {n} is famous for its {famous}."],
            [],
        ),
        (
            "river",
            ["Which river flows through {n}?", "What river runs through the town of {n}?"],
            ["The {river} River flows through the centre of {n}.", "{n} lies on the banks of the {river} River."],
            ["In spring the water level often rises after heavy rain."],
        ),
        (
            "mayor",
            ["Who is the mayor of {n}?", "Who currently serves as mayor of {n}?"],
            [
                "The mayor of {n} is {person}, who was elected in {recent}.",
                "{person} has been the mayor of {n} since {recent}.",
            ],
            ["The town hall stands on the main square."],
        ),
    ],
    "company": [
        (
            "founder",
            ["Who founded {n}?", "Who started the company {n}?"],
            ["{n} was founded by {person}, a former {job}.", "{person}, a former {job}, started {n}."],
            [],
        ),
        (
            "year",
            ["When was {n} established?", "In which year was {n} founded?"],
            ["{n} was established in {year2} in a small rented workshop.", "{n} opened its first workshop in {year2}."],
            ["At first it had only three staff."],
        ),
        (
            "product",
            ["What does {n} make?", "What products is {n} known for?"],
            ["{n} makes {product}.", "{n} is known for its {product}."],
            ["Most of its sales are abroad."],
        ),
        (
            "hq",
            ["Where is {n} based?", "Where are the headquarters of {n}?"],
            ["{n} has its headquarters in {town}.", "The headquarters of {n} are in the town of {town}."],
            ["The offices are in a converted warehouse."],
        ),
        (
            "staff",
            ["How many people work for {n}?", "How many employees does {n} have?"],
            ["{n} employs around {staff} people.", "About {staff} people work for {n}."],
            [],
        ),
    ],
    "river": [
        (
            "length",
            ["How long is {n}?", "What is the length of {n}?"],
            ["{n} is about {length} kilometres long.", "{n} runs for roughly {length} kilometres."],
            [],
        ),
        (
            "source",
            ["Where does {n} begin?", "Where is the source of {n}?"],
            ["{n} rises on the slopes of {mountain}.", "The source of {n} is a spring on {mountain}."],
            ["The first few kilometres are fast and rocky."],
        ),
        (
            "mouth",
            ["Where does {n} end?", "Into which body of water does {n} flow?"],
            ["{n} flows into {water}.", "{n} empties into {water}."],
            [],
        ),
        (
            "fish",
            ["What fish live in {n}?", "Which fish can be caught in {n}?"],
            ["{n} is home to {fish}.", "Anglers on {n} mostly catch {fish}."],
            ["Fishing permits are sold in the towns along its banks."],
        ),
        (
            "bridges",
            ["How many bridges cross {n}?", "How many bridges span {n}?"],
            ["{count} bridges cross {n} along its course.", "{n} is crossed by {count} bridges."],
            [],
        ),
    ],
    "mountain": [
        (
            "height",
            ["How high is {n}?", "What is the height of {n}?"],
            ["{n} rises to {height} metres above sea level.", "{n} is {height} metres high."],
            [],
        ),
        (
            "ascent",
            ["Who first climbed {n}?", "Who made the first ascent of {n}?"],
            [
                "{n} was first climbed by {person} in {year3}.",
                "The first ascent of {n} was made by {person} in {year3}.",
            ],
            [],
        ),
        (
            "range",
            ["Which mountain range is {n} part of?", "In which range is {n} located?"],
            ["{n} is part of the {range} Range.", "{n} belongs to the {range} Range."],
            ["Several smaller peaks surround it."],
        ),
        (
            "slopes",
            ["What grows on the slopes of {n}?", "What covers the lower slopes of {n}?"],
            ["The lower slopes of {n} are covered in {veg}."],
            [],
        ),
        (
            "start",
            ["Where do climbers usually start the ascent of {n}?", "From which village do most climbs of {n} begin?"],
            [
                "Most climbers start the ascent of {n} from the village of {town}.",
                "Climbs of {n} usually begin in the village of {town}.",
            ],
            ["The village has two small guesthouses."],
        ),
    ],
    "invention": [
        (
            "inventor",
            ["Who invented {n}?", "Who designed {n}?"],
            ["{n} was invented by {person}.", "{n} was designed by the engineer {person}."],
            [],
        ),
        (
            "year",
            ["When was {n} invented?", "In what year was {n} first built?"],
            ["{n} was first built in {year4}.", "{n} was invented in {year4}."],
            ["Only a handful of the early models survive."],
        ),
        (
            "purpose",
            ["What was {n} used for?", "What was {n} designed to do?"],
            ["{n} was used to {purpose}.", "{n} was designed to {purpose}."],
            [],
        ),
        (
            "material",
            ["What is {n} made of?", "What material was used to make {n}?"],
            ["{n} is made mostly of {material}.", "{n} was built from {material}."],
            ["It weighs more than most people expect."],
        ),
        (
            "firstuse",
            ["Where was {n} first used?", "Where was {n} used for the first time?"],
            [
                "{n} was first used in {firstplace} near {town}.",
                "The first place to use {n} was {firstplace} near {town}.",
            ],
            [],
        ),
    ],
    "festival": [
        (
            "month",
            ["When does {n} take place?", "In which month is {n} held?"],
            ["{n} takes place every year in {month}.", "{n} is held each {month}."],
            [],
        ),
        (
            "venue",
            ["Where is {n} held?", "In what part of town is {n} held?"],
            ["{n} is held in {venue}.", "Most events of {n} take place in {venue}."],
            ["Stalls sell food and drink until late."],
        ),
        (
            "celebrates",
            ["What does {n} celebrate?", "What is {n} a celebration of?"],
            ["{n} celebrates {celebrates}."],
            [],
        ),
        (
            "duration",
            ["How long does {n} last?", "How many days does {n} run for?"],
            ["{n} lasts {duration}.", "{n} runs for {duration}."],
            [],
        ),
        (
            "visitors",
            ["How many visitors does {n} attract?", "How many people come to {n} each year?"],
            ["{n} attracts around {visitors} visitors each year.", "Around {visitors} people visit {n} every year."],
            ["Many of them stay in nearby villages."],
        ),
    ],
    "island": [
        (
            "ferry",
            ["How do you get to {n}?", "How can visitors reach {n}?"],
            [
                "{n} can be reached by a {ferrytime} ferry ride from {town}.",
                "A {ferrytime} ferry from {town} is the only way to reach {n}.",
            ],
            [],
        ),
        (
            "export",
            ["What is the main export of {n}?", "What does {n} mainly export?"],
            ["The main export of {n} is {export}.", "{n} mainly exports {export}."],
            [],
        ),
        (
            "area",
            ["How big is {n}?", "What is the area of {n}?"],
            ["{n} covers an area of about {area} square kilometres."],
            ["Most of it is open moorland."],
        ),
        (
            "highest",
            ["What is the highest point on {n}?", "What is the tallest hill on {n}?"],
            ["The highest point on {n} is {hill}, at {hillh} metres."],
            [],
        ),
        (
            "settled",
            ["When was {n} first settled?", "Who were the first people to settle on {n}?"],
            ["{n} was first settled by {settlers} around {year5}."],
            ["Their stone houses can still be visited."],
        ),
    ],
    "museum": [
        (
            "opened",
            ["When did {n} open?", "In what year did {n} open to the public?"],
            ["{n} opened to the public in {year6}.", "{n} first opened its doors in {year6}."],
            [],
        ),
        (
            "collection",
            ["What can visitors see at {n}?", "What does {n} collect?"],
            ["{n} holds a large collection of {collection}.", "{n} is known for its collection of {collection}."],
            [],
        ),
        (
            "building",
            ["What building is {n} housed in?", "Where is {n} located?"],
            ["{n} is housed in a former {building} in {town}."],
            ["The building was restored before the museum moved in."],
        ),
        (
            "director",
            ["Who runs {n}?", "Who is the director of {n}?"],
            [
                "{n} is run by {person}, its director since {recent}.",
                "{person} has been the director of {n} since {recent}.",
            ],
            [],
        ),
        (
            "entry",
            ["How much does it cost to visit {n}?", "What is the entrance fee for {n}?"],
            ["Entry to {n} costs {price}.", "Tickets for {n} cost {price}."],
            ["Guided tours start every hour."],
        ),
    ],
}
# More ways to ask each fact of WORLD (same answer sentence). qa_pairs/train.csv asks some facts twice or three
# times, the way real question/answer data asks several questions about one answer sentence. Kept apart from
# WORLD's question lists, which also pick the retrieval/ queries.
MORE_QUESTIONS = {
    "town": {
        "founded": ["When was the town of {n} established?", "Who founded {n}, and in what year?"],
        "population": ["How large is the population of {n}?", "Roughly how many inhabitants does {n} have?"],
        "famous": ["What makes {n} well known?", "What is special about the town of {n}?"],
        "river": ["On which river does {n} lie?", "What is the name of the river in {n}?"],
        "mayor": ["Who is in charge of the town of {n}?", "Who was elected mayor of {n}?"],
    },
    "company": {
        "founder": ["Who set up {n}?", "Who is the founder of {n}?"],
        "year": ["When did {n} open its first workshop?", "In what year did {n} start trading?"],
        "product": ["What does {n} produce?", "What kind of goods does {n} sell?"],
        "hq": ["In which town is {n} headquartered?", "Where does {n} have its head office?"],
        "staff": ["How large is the workforce of {n}?", "What is the number of staff at {n}?"],
    },
    "river": {
        "length": ["How many kilometres long is {n}?", "Over what distance does {n} run?"],
        "source": ["Where does {n} rise?", "On which mountain does {n} have its source?"],
        "mouth": ["What does {n} flow into?", "Where is the mouth of {n}?"],
        "fish": ["What kind of fish are found in {n}?", "What do anglers catch in {n}?"],
        "bridges": ["What is the number of bridges over {n}?", "How many bridges are there across {n}?"],
    },
    "mountain": {
        "height": ["How tall is {n}?", "How many metres high is {n}?"],
        "ascent": ["Who was the first person to climb {n}?", "When was {n} first climbed?"],
        "range": ["What range does {n} belong to?", "Which chain of mountains includes {n}?"],
        "slopes": ["What is found on the lower slopes of {n}?", "What vegetation grows on {n}?"],
        "start": ["Where does the usual route up {n} begin?", "Which village is the starting point for climbing {n}?"],
    },
    "invention": {
        "inventor": ["Who came up with {n}?", "Who was the inventor of {n}?"],
        "year": ["When did {n} first appear?", "In which year was {n} invented?"],
        "purpose": ["What was the purpose of {n}?", "What task was {n} built for?"],
        "material": ["What was {n} built from?", "What is {n} constructed of?"],
        "firstuse": ["Where was {n} first put into use?", "Which place was the first to use {n}?"],
    },
    "festival": {
        "month": ["At what time of year is {n} held?", "Which month does {n} fall in?"],
        "venue": ["Where does {n} take place?", "What is the venue of {n}?"],
        "celebrates": ["What is the occasion for {n}?", "What is {n} held to celebrate?"],
        "duration": ["How long is {n}?", "For how many days is {n} held?"],
        "visitors": ["How many visitors come to {n} each year?", "How many people attend {n}?"],
    },
    "island": {
        "ferry": ["How can you travel to {n}?", "Where does the ferry to {n} leave from?"],
        "export": ["What is the chief export of {n}?", "What goods does {n} export most?"],
        "area": ["What size is {n}?", "How many square kilometres does {n} cover?"],
        "highest": ["What is the highest hill on {n}?", "How high is the highest point of {n}?"],
        "settled": ["Who first settled on {n}?", "When did people first live on {n}?"],
    },
    "museum": {
        "opened": ["When was {n} opened?", "In which year did {n} open its doors?"],
        "collection": ["What is on display at {n}?", "What kind of collection does {n} have?"],
        "building": ["What did the building that houses {n} use to be?", "In which town is {n}?"],
        "director": ["Who is in charge of {n}?", "Who heads {n}?"],
        "entry": ["How much is a ticket for {n}?", "What does a ticket to {n} cost?"],
    },
}
