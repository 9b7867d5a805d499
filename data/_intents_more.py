"""More hand-written phrasing frames per intent, added to those of _intents_banking.py and
_intents_clinc.py by build_data.py (intent name -> extra frames).

Everything in this file was written for lossbook. No row of any public data set was
copied or paraphrased. Names of people, towns, rivers, companies, etc. are invented.
"""

BANKING_MORE = {
    "card_arrival": [
        "My [debit|bank] card [hasn't come|hasn't been delivered] yet.",
        "[It's been|It has been] [two weeks|over a week] and no card has arrived.",
    ],
    "lost_or_stolen_card": ["[I've|I have] [misplaced|lost] my card [and need to cancel it|and can't find it]."],
    "activate_my_card": [
        "[How|Where] do I [switch on|enable] my card [for the first time|after it arrives]?",
        "My new card [says|shows] it is not activated [yet|in the app].",
        "I need to [activate|enable] the [card|debit card] you [just sent|mailed] me.",
    ],
    "declined_card_payment": [
        "[Why|How come] did the [restaurant|supermarket|pharmacy] [reject|decline] my card [payment|purchase]?"
    ],
    "change_pin": [
        "I [don't like|want to replace] my [current|old] PIN.",
        "[Can I|How do I] [reset|change] the PIN [of my card|on my card] [myself|without calling]?",
        "I would like to [choose|set] [my own|a different] PIN.",
    ],
    "exchange_rate": [
        "[How much|What] will [100 euros|50 dollars] be [in pounds|in yen] with your rate?",
        "Which exchange rate [applies|do I get] when I [pay by card abroad|buy in dollars]?",
        "[Is|Why is] your [currency|exchange] rate [different from|worse than] the one on the news?",
    ],
    "top_up_failed": [
        "[I can't|I'm unable to] [add money|top up] [with my card|from my bank], it [fails|gets declined].",
        "[My attempt|The attempt] to top up [didn't work|was unsuccessful] [this morning|again].",
        "The app [won't accept|rejected] my top-up [from Apple Pay|by card].",
    ],
    "transfer_not_received_by_recipient": [
        "[My friend|The recipient] [hasn't got|has not received] the [money|payment] I [sent|transferred]."
    ],
    "cash_withdrawal_charge": [
        "[Why|How come] did the [cash machine|ATM] withdrawal cost me [a fee|two euros|extra]?",
        "[I see|There is] a charge [for taking out|for withdrawing] money [at an ATM|abroad].",
        "How many [free withdrawals|cash withdrawals without a fee] do I get [a month|each month]?",
    ],
    "wrong_amount_of_cash_received": [
        "The [ATM|machine] [gave me|dispensed] [20|40|60] euros [less|too little] than I [asked for|requested].",
        "[Some|Part] of the cash I [withdrew|took out] never came out of the machine.",
    ],
    "balance_not_updated_after_bank_transfer": [
        "[I did|I made] a transfer [into|to] my account [but|and] [my balance is unchanged|nothing changed]."
    ],
    "refund_not_showing_up": [
        "[I returned|I sent back] [an item|a jacket|the shoes] [two weeks ago|last month] and [still "
        "have no refund|the refund isn't there].",
        "[The|My] refund [is missing|hasn't appeared] [from my balance|in my transactions].",
        "[When|How soon] will I [see|receive] the refund [the shop sent|from the merchant]?",
    ],
    "edit_personal_details": ["[My|The] [address|email] you have [for me|on file] is [out of date|wrong]."],
    "terminate_account": [
        "[How|Can I] [permanently|completely] [delete|close] my [profile|account] [with you|and data]?"
    ],
    "pending_card_payment": [
        "[My|A] card [purchase|payment] [at a hotel|in a shop|online] is still [pending|not completed] "
        "[after two days|since Monday].",
        "[Why|How long] [is|will] my card [transaction|payment] [stay|be] pending?",
        "[A|One] payment on my card [still says|shows] pending [in the app|in my history].",
    ],
    "apple_pay_or_google_pay": [
        "[Is|Are] [Apple Pay|Google Pay] [available|supported] [in my country|for your cards]?",
        "[I want to|How can I] [link|connect] my [card|account] to [Apple Pay|Google Pay]?",
        "[Apple Pay|Google Pay] [says|tells me] my card [can't be added|is not eligible].",
    ],
    "verify_my_identity": [
        "[How|Where] [can|do] I [prove|confirm] who I am [in the app|online]?",
        "[Why is|Why has] my identity verification [still pending|taking so long]?",
        "[Which|What] [ID|documents] [do I need|should I use] to [verify my identity|pass the ID check]?",
    ],
    "getting_virtual_card": [
        "[Can|Could] you [give|issue] me a [virtual|digital] card [for online shopping|today]?",
        "[How|Where] do I [make|set up] a [virtual|digital] card in the app?",
        "[I need|I would like] a virtual card [for a one-time payment|to shop online safely].",
    ],
    "direct_debit_payment_not_recognised": [
        "[I never|I didn't] [set up|agree to] the direct debit [to|from] [this company|this gym|a phone "
        "company] on my statement.",
        "There's a direct debit [I can't explain|I don't know about], [what is it|who took it]?",
        "[Please|Can you] [check|look at] a direct debit [I don't recognise|that looks wrong].",
    ],
    "age_limit": ["[Is there|What is] the [youngest|minimum] age [to open an account|for a card] with you?"],
    "card_not_working": [
        "[My|The] card [stopped working|doesn't work anymore] [after I dropped it|since this morning|in shops]."
    ],
    "pending_transfer": [
        "[The|My] [payment|transfer] to [my landlord|a friend] [still shows|is still] pending.",
        "[Why|How come] [hasn't|has not] my transfer [left pending|been completed] yet?",
    ],
    "card_payment_fee_charged": [
        "[Why|How come] [did|does] paying by card [cost me a fee|come with a charge]?",
        "[I see|There is] a fee [next to|on top of] my card payment [from yesterday|at a shop].",
    ],
    "pending_top_up": [
        "[My|The] [card|bank] top-up [still shows|is still showing] [as pending|pending] [since this "
        "morning|after hours].",
        "[I added|I topped up] money [an hour ago|earlier] but it says pending.",
        "[How long|When] will my top-up [stop being pending|be finished]?",
    ],
    "request_refund": [
        "[I want|I'd like] to [ask for|claim] my money back for [an order|a purchase] [I cancelled|that never arrived]."
    ],
    "compromised_card": [
        "[Someone|A fraudster] [might have|may have] [got|stolen] my card [details|number] [and used them|online]."
    ],
    "pin_blocked": [
        "[My card|The ATM] [says|tells me] my PIN is [blocked|locked] [after too many tries|now].",
        "[I typed|I entered] [a wrong|the wrong] PIN [too often|several times] and [it's blocked now|now it's locked].",
        "[How|Where] [can I|do I] [unblock|unlock] the PIN [of my card|on my card] [in the app|at an ATM]?",
    ],
    "exchange_charge": [
        "[I was charged|There's] a [currency|conversion] fee [for|on] [exchanging|converting] [my "
        "money|pounds to euros]."
    ],
    "order_physical_card": [
        "[I'd like|I want] to [order|get] a [plastic|physical] card [in addition to|as well as] my virtual one."
    ],
    "cancel_transfer": [
        "[Can I|Is it possible to] [cancel|stop] a [payment|transfer] [that is still pending|before it arrives]?"
    ],
}

CLINC_MORE = {
    "weather": [
        "[Is it going to be|Will it be] [sunny|windy|cloudy] [tomorrow|this afternoon] [in Paris|here]?",
        "What's the [temperature|forecast] [outside|in London] [right now|tonight]?",
        "[Should I|Do I need to] [wear a coat|bring a jacket] [today|tomorrow]?",
    ],
    "timer": [
        "[Please set|Set up] a [cooking|kitchen] timer for [eight|twelve] minutes.",
        "[Start|Begin] a countdown of [90 seconds|four minutes][| now].",
    ],
    "translate": [
        'What is ["cheese"|"train station"|"bread"] in [Dutch|Polish|Turkish]?',
        '[Translate|Say] ["good night"|"how much is this"] in [Greek|Swedish|Italian].',
        'How would I say ["I\'m lost"|"the bill, please"] in [Spanish|Czech]?',
    ],
    "alarm": [
        "[Set|Make] an alarm [to wake me|for me] at [seven|6:45] [tomorrow|on Friday].",
        "[I need to be woken|Wake me] up at [eight|nine] [on Sunday|tomorrow morning].",
        "[Turn on|Add] an alarm for [5:30 am|quarter to seven].",
    ],
    "calculator": [
        "[How much is|What's] [250|1,400] [plus|minus] [75|380]?",
        "What is [9|14] [squared|cubed]?",
        "[Work out|Figure out] [12|7] times [45|19] for me.",
    ],
    "definition": [
        '[Explain|Tell me] what ["irony"|"empathy"|"inertia"] means.',
        'What\'s the definition of the word ["cryptic"|"obsolete"|"lethargic"]?',
    ],
    "recipe": [
        "[How do you|How can I] [cook|prepare] [a vegetable lasagna|fish tacos|pumpkin soup]?",
        "[I need|Show me] a recipe [for|to make] [apple pie|chicken noodle soup|falafel].",
    ],
    "calories": [
        "[How many calories are in|What's the calorie count of] [a bowl of pasta|an orange|a muffin]?",
        "[Is|Are] [a salad|french fries|sushi] [low|high] in calories?",
        "[Tell me|What are] the calories [for|in] [a latte|a hot dog|a bowl of cereal].",
    ],
    "restaurant_reservation": [
        "[Make|I need] a [dinner|lunch] reservation for [three|five] [at 7|at half past eight] [tonight|on Saturday].",
        "[Reserve|Book] [us|me] a table [at the Greek place|at Bella Vista|at the sushi bar] [for Friday|tomorrow].",
        "Can I get a table for [two|six] at [Chez Marie|the Indian restaurant] [this evening|at 9]?",
        "[Please book|Book] a table for [a birthday dinner|our anniversary] [on Sunday|next Friday].",
    ],
    "cook_time": [
        "[How long|How many minutes] should [pasta|rice|quinoa] [boil|cook] for?",
        "[What is|What's] the [baking|roasting] time for [a pork roast|chicken thighs|a sponge cake]?",
    ],
    "flight_status": [
        "[Is|Has] flight [KL 605|IB 3120|AA 77] [delayed|on schedule|landed]?",
        "[When|What time] will flight [UA 902|BA 274] [land|arrive] [today|in Denver]?",
        "[Check|Tell me] the status of [my flight|flight LH 441] [to Frankfurt|tonight].",
    ],
    "book_hotel": [
        "[Find|Get] me a hotel room in [Prague|Boston|Kyoto] [for Saturday|for three nights].",
        "[Book|Reserve] [a hotel|a room] [near the conference centre|by the beach] [for next week|from Monday].",
        "I need somewhere to stay in [Rome|Chicago] [on the 10th|this weekend], [book a hotel|find a hotel room].",
    ],
    "car_rental": [
        "[Can you|Please] [book|arrange] a [rental car|hire car] [for my trip to Denver|from Friday to Sunday]?",
        "I'd like to rent [a van|a small car|a convertible] [in Nice|at the station] [tomorrow|for three days].",
        "[Get|Find] me a car to rent [at the airport|in Lisbon] [for next week|this Saturday].",
    ],
    "plug_type": [
        "[What|Which] plug [do I need|should I bring] for [Mexico|Ireland|Korea]?",
        "[Do|Will] my [phone charger|electric shaver] [plugs|plug] work in [Germany|Argentina]?",
        "[What type of|Which] sockets [do they have|are used] in [France|Egypt|Canada]?",
    ],
    "shopping_list": [
        "[Add|Put] [tomatoes|pasta|toilet paper] on [my|the] shopping list[| please].",
        "[Is|Are] [oranges|cereal|olive oil] on my shopping list?",
        "[Clear|Delete] [my|the] shopping list[| please].",
    ],
    "reminder": [
        "[Remind me|Set a reminder] to [send the report|buy flowers] [at 5|on Friday morning].",
        "[Can you|Please] remind me [to feed the cat|about my yoga class] [tonight|tomorrow at 7]?",
    ],
    "smart_home": [
        "[Switch|Turn] [on|off] the [heater|fan|porch light] [in the bedroom|downstairs].",
        "[Open|Close] the [blinds|curtains] in the [living room|kitchen][| please].",
        "[Make|Set] the [kitchen|bedroom] lights [brighter|dimmer|warmer].",
    ],
    "play_music": [
        "[Play|Put on] [a song by|some music from] [the Beatles|a jazz pianist|a Brazilian band].",
        "I'd like to hear [some piano music|my chill playlist|something to dance to].",
        "[Start|Play] [music|a playlist] [for my run|for a dinner party] [now|in the living room].",
    ],
    "traffic": [
        "[Is|Are] [the roads|the highway|Main Street] [jammed|busy|clear] [right now|this evening]?",
        "[How bad|What] is the traffic [between here and the office|to the airport] [at the moment|today]?",
        "[Will I|Am I going to] hit traffic [on the way home|driving downtown] [at six|tonight]?",
    ],
    "directions": [
        "[How do I|Which way do I] get to [the bus station|Central Park|the library] [by bike|from my hotel]?",
        "[Show me|Tell me] the way to [the nearest petrol station|the stadium|Lake Street].",
    ],
    "tire_pressure": [
        "[Check|Tell me] [the|my] [tyre|tire] pressure [on the back wheels|in all four tires].",
        "[Are|Is] my [tires|front tire] [under-inflated|low on pressure] [today|right now]?",
    ],
    "meeting_schedule": [
        "[What's|What is] on my calendar [this morning|tomorrow afternoon|on Thursday]?",
        "[Do I have|Is there] a meeting [at 10|with the client|with Tom] [today|this week]?",
        "[When|What time] is my meeting [with the board|with HR] [tomorrow|on Monday]?",
    ],
    "pto_request": [
        "[Request|Book] [vacation|holiday] days [for the first week of June|from the 3rd to the 7th].",
        "[Can you|Please] [submit|put in] a request for [a day off|leave] [on Friday|next Tuesday]?",
        "I [need|want] to take [some time off|a long weekend] [in March|after the project].",
    ],
    "tell_joke": [
        "[Tell|Give] me [a joke|something funny] [about dogs|about work|about food].",
        "[I'm bored|I'm sad], [tell me a joke|make me laugh].",
    ],
    "greeting": [
        "[Hello|Hi|Hey] [there|assistant], [how are you|how's your day]?",
        "[Good afternoon|Good evening|Morning], [how are things|how are you doing]?",
        "[Hi|Hello], [nice to meet you|good to see you][|, how are you]?",
        "[Hey|Hi], how's [everything|life] [going|been]?",
        "[Hello|Hi] again, [how have you been|are you well]?",
        "[What's new|What's going on|Anything new] [with you|today]?",
        "[Hiya|Howdy|Hello], [are you there|can you hear me]?",
    ],
    "book_flight": ["[Book|Reserve] [two seats|a seat] on a flight to [Rome|Madrid|Oslo] [for Friday|next month]."],
    "measurement_conversion": [
        "[How many|What's the number of] [feet|metres] in [a mile|a kilometre]?",
        "[Convert|Change] [half a litre|three cups] to [ounces|millilitres][| for me].",
    ],
    "todo_list": [
        "[Add|Put] [return the library books|buy a gift for Mum] [to|on] my [to-do|task] list.",
        "[What|Which] tasks are [still|left] on my [to-do|task] list?",
    ],
    "schedule_meeting": [
        "[Set up|Book] a [meeting|catch-up] with [Maria|the engineering team] [on Thursday at 11|for tomorrow]."
    ],
    "spelling": [
        'How is the word ["bureaucracy"|"pharaoh"|"mischievous"] spelled?',
        '[Could you|Please] spell ["rhythm"|"liaison"|"fluorescent"] [for me|letter by letter].',
    ],
}
