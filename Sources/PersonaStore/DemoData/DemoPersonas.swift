/// The invented people of the demo history and how each one writes. Every name, number
/// and line here is made up. Styles differ on purpose (length, punctuation, emoji,
/// vocabulary, topics, rhythm), so that imitation can be seen and measured.
struct DemoPersona {
    var name: String
    var phone: String
    /// Templates with `{slot}` fillers from `slots` (and the shared ones).
    var lines: [String]
    var slots: [String: [String]]
    /// Probability of sending another message straight after one's own (bursts).
    var burst: Double
    /// Seconds between messages inside a session: lower and upper bound.
    var replySeconds: ClosedRange<Int>
    /// Hours of the day (UTC) when sessions with them start.
    var activeHours: ClosedRange<Int>
    /// Mean days between sessions.
    var meanGapDays: Double
    /// How Sam talks to them (his lines in this chat, on top of his common ones).
    var samLines: [String]
    var lowercase = false
    var emoji: [String] = []
    var emojiRate = 0.0
    var reactionRate = 0.0
    var mediaRate = 0.0
}

enum DemoPersonas {
    static let owner = "Sam Rivera"

    static let sharedSlots: [String: [String]] = [
        "day": ["on Monday", "on Tuesday", "on Wednesday", "on Thursday", "on Friday", "on Saturday", "on Sunday", "tomorrow", "this weekend", "next week"],
        "time": ["6", "7", "7:30", "8", "noon", "half 5", "9ish", "after lunch", "around 4"],
        "food": ["tacos", "ramen", "pizza", "dumplings", "that thai place", "burgers", "pho", "curry", "sushi", "the taco truck"],
        "place": ["the park", "downtown", "the usual spot", "the lake", "the market", "the cinema", "the climbing gym", "the bakery on 5th", "the old bookshop"],
        "show": ["the new season", "that documentary", "the finale", "the heist movie", "the space series", "the cooking show"],
    ]

    static let samCommon = [
        "sounds good", "haha yeah", "ok see you then", "on my way", "running a bit late, sorry", "nice!", "what time works for you?",
        "I'm in", "let me check and get back to you", "that's wild", "good call", "can't tonight, maybe {day}?", "how was {place}?",
        "did you end up watching {show}?", "yeah definitely", "ha, classic", "just got home", "thanks for that",
        "I was thinking {food} for dinner", "fair enough", "oh no", "sure, {time} works", "same here honestly",
    ]

    static let alex = DemoPersona(
        name: "Alex Chen", phone: "+15550100101",
        lines: [
            "lol", "lmaooo", "ngl that was sick", "u up", "bro", "omg {food} rn", "wanna get {food} {day}", "im so dead",
            "did u see that", "no way", "fr fr", "same", "ok ok", "send it", "hahaha", "wait what", "nah", "yessss",
            "{game} tonight?", "i got carried so hard in {game}", "just hit a new rank in {game}", "cant, work till {time}",
            "bring snacks", "ur late lol", "im outside", "where u at", "that meme tho", "brb", "gg", "ok but hear me out... {food}",
            "my sleep schedule is cooked", "this song goes hard", "ur not ready for this", "its giving {place} vibes", "bet",
            "down", "lmk", "idk man", "tru", "ugh mondays",
        ],
        slots: ["game": ["valorant", "mario kart", "the new zelda", "fifa", "minecraft", "rocket league", "smash"]],
        burst: 0.55, replySeconds: 4...90, activeHours: 18...23, meanGapDays: 0.6,
        samLines: ["haha you're ridiculous", "ok I'll hop on at {time}", "you always say that", "who's bringing the controller?",
                   "lol no", "that's on you", "fine, {food} it is"],
        lowercase: true, emoji: ["😂", "💀", "🔥", "😭", "👀", "🙏", "😤"], emojiRate: 0.45, reactionRate: 0.03, mediaRate: 0.02)

    static let maria = DemoPersona(
        name: "Maria Lopez", phone: "+15550100102",
        lines: [
            "Hi Sam, I hope your week is going well. Mum asked me to remind you about lunch {day}; she is making her famous {dish}, so please don't be late this time.",
            "I spoke to Dad yesterday. He's feeling much better, although the doctor wants him to keep resting for another week. I'll keep you posted.",
            "The kids were asking about you. Lucía has her school play {day} at {time}, and she would love it if her favourite uncle came to watch.",
            "Thank you so much for helping with the move last weekend. Honestly, I don't know what we would have done without you. Dinner is on me next time.",
            "Could you send me the photos from the birthday party? I want to print a few for Mum's album before Christmas.",
            "We're thinking of renting a cabin near {place} in the summer. Would you and the others be interested? It would be lovely to have everyone together.",
            "Just a reminder that Mum's birthday is coming up. I was thinking we could all chip in for a new garden bench, since the old one finally fell apart.",
            "I've finally finished the book you recommended. The ending made me cry on the train, which was slightly embarrassing, but I loved it.",
            "Work has been exhausting lately. We have an inspection {day}, and everyone is running around trying to get the paperwork in order.",
            "Mateo lost his first tooth today! He insisted on leaving it under the pillow with a note for the tooth fairy, asking for a dinosaur.",
            "Are you still coming {day}? Let me know if you'd like to stay over; the spare room is free and the kids would be thrilled.",
            "I made the {dish} recipe Grandma used to make. It wasn't quite the same, but it was close enough to bring back a lot of memories.",
            "Please remember to call Mum this weekend. She won't say it, but she worries when she doesn't hear from you for a while.",
            "That sounds wonderful. Let me know how it goes, and take care of yourself.",
            "Of course. Whatever you need, just tell me.",
            "We're all fine here, thank you for asking. The garden is finally starting to look like something.",
        ],
        slots: ["dish": ["paella", "tortilla", "empanadas", "lemon cake", "lentil soup", "arroz con leche"]],
        burst: 0.15, replySeconds: 300...5400, activeHours: 8...21, meanGapDays: 2.2,
        samLines: ["Thanks Maria, I'll be there", "Give the kids a hug from me", "I'll call Mum {day}", "Tell Dad to take it easy",
                   "That sounds lovely, count me in", "Sorry, this week has been crazy. Talk soon?"],
        reactionRate: 0.04, mediaRate: 0.03)

    static let jordan = DemoPersona(
        name: "Jordan Blake", phone: "+15550100103",
        lines: [
            "Morning. Are we still on for the {meeting} at {time}?", "Thanks, I'll take a look.", "Sounds good.",
            "Can you send me the latest version of the {doc}?", "Quick one: did finance approve the {doc}?",
            "Heads up, the client moved the deadline, it is now due {day}.", "I've updated the ticket. Let me know if anything is unclear.",
            "Running five minutes late to the {meeting}.", "Noted.", "Can we push the {meeting} to {time}?",
            "The build is failing on main again. Looking into it.", "Fixed. It was a config issue in staging.",
            "Good work on the demo today.", "I'll be out {day}, back the day after.", "Let's discuss in the {meeting}.",
            "Do you have ten minutes to go over the {doc}?", "Agreed. I'll draft something and share it by end of day.",
            "Reminder: timesheets are due {day}.", "Thanks, appreciated.", "I'm at my desk if you need me.",
            "The numbers look off in section 3 of the {doc}. Can you double-check?", "Done. Pushed the changes.",
        ],
        slots: ["meeting": ["standup", "1:1", "sprint review", "planning meeting", "client call", "retro"],
                "doc": ["roadmap", "budget sheet", "release notes", "proposal", "quarterly report", "design doc"]],
        burst: 0.1, replySeconds: 60...1800, activeHours: 9...17, meanGapDays: 1.3,
        samLines: ["Will do.", "On it.", "Sent it over just now.", "Yes, see you there.", "I'll check with the team and get back to you.",
                   "Thanks for flagging.", "Can we sync after lunch?"])

    static let priya = DemoPersona(
        name: "Priya Nair", phone: "+15550100104",
        lines: [
            "OMG yes!!!", "Just finished a 10k run!!! Legs are DEAD", "Yoga at {time} tomorrow?? Pleeeease come!!",
            "I booked the flights to {city}!!!", "Guess what?!", "Soooo excited for the weekend!!", "That's AMAZING news!!!",
            "Wait, you HAVE to try the {food} place near {place}!!", "Thank you thank you thank you!!", "Noooo way!!",
            "Sending good vibes your way!!", "Look at this view from {city}!!!", "Can't stop laughing at this!!",
            "Okay but how cute is this puppy?!", "We need a girls' and guys' trip to {city} ASAP!!", "Marathon training day {n}... send help!!",
            "Happy Friday!!!", "I made smoothie bowls and honestly I'm a chef now!!", "You're the best!!", "Yesss let's do it!!",
        ],
        slots: ["city": ["Lisbon", "Kyoto", "Mexico City", "Reykjavik", "Cape Town", "Vancouver"],
                "n": ["12", "23", "31", "40", "57", "64"]],
        burst: 0.4, replySeconds: 20...600, activeHours: 7...22, meanGapDays: 1.0,
        samLines: ["Haha that's awesome!", "Congrats!! 🎉", "I'm in, {day} works", "You're unstoppable", "Send pics!",
                   "Ok ok I'll come to yoga", "That looks incredible"],
        emoji: ["😍", "🎉", "✨", "🥳", "💪", "🙌", "☀️", "❤️"], emojiRate: 0.7, reactionRate: 0.05, mediaRate: 0.04)

    static let tom = DemoPersona(
        name: "Tom Fischer", phone: "+15550100105",
        lines: [
            "alright", "haha", "Did you see the match?", "Shocking referee...", "Ride {day}? Thinking {km}k.",
            "Tyre went flat halfway up the hill. Classic.", "Pint later?", "Can't, knackered.", "Fair.", "Typical...",
            "They bottled it again", "Weather looks grim {day}.", "Cheers mate.", "Not bad, you?", "Yeah go on then.",
            "New bike arrives {day}. Wallet crying.", "That's grim.", "Knew it...", "Bit much, that.", "Back from the ride, {km}k done.",
            "Kick-off at {time}.", "Right.", "Sounds about right.", "Same old.",
        ],
        slots: ["km": ["40", "55", "62", "80", "100", "120"]],
        burst: 0.2, replySeconds: 30...1200, activeHours: 10...22, meanGapDays: 1.1,
        samLines: ["haha unlucky", "I'm up for a ride {day}", "Who's playing?", "Pint sounds good", "Brutal", "Cheers Tom"],
        reactionRate: 0.0, mediaRate: 0.02)

    static let contacts = [alex, maria, jordan, priya, tom]

    /// Seen only as a number: not in the contacts.
    static let stranger = DemoPersona(
        name: "+1 (555) 013-4477", phone: "+15550134477",
        lines: ["Hi, is this still available?", "Is the bike still for sale?", "Would you take 150?", "Ok, can I come see it {day}?",
                "Thanks, on my way", "Sorry wrong number", "Great, see you at {time}"],
        slots: [:], burst: 0.1, replySeconds: 60...900, activeHours: 10...20, meanGapDays: 20,
        samLines: ["Yes it is", "Sure, {time} works", "I can do 170", "The address is on the listing"])

    /// In the contacts, but rarely messaged.
    static let rare = DemoPersona(
        name: "Dana Whitfield", phone: "+15550100107",
        lines: ["Hey Sam! Long time. Hope all is well.", "Happy birthday!", "Are you going to the reunion?", "Congrats on the new job!",
                "We should catch up sometime", "Thanks, you too!"],
        slots: [:], burst: 0.1, replySeconds: 300...7200, activeHours: 12...21, meanGapDays: 30,
        samLines: ["Thanks Dana!", "Yes, we should!", "Hope you're doing well", "Happy birthday to you too!"])
}
