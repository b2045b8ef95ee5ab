import PersonaCore

/// Deterministic message-like text for benchmarks: short chat messages with slang, emoji,
/// URLs, numbers, times, phone numbers, punctuation runs and some non-Latin scripts. The same
/// seed and size always give the same messages.
public enum SyntheticMessages {
    static let words = """
    hey hi ok okay yeah yep nope lol lmao omg idk tbh btw brb gonna wanna kinda sure thanks thx love miss you u ur me my \
    we us they them the a an and or but so if then when what why how where who is are was were be been am do does did \
    have has had can could will would should must might not no yes just really very too also still already again soon \
    later now today tonight tomorrow yesterday morning night week weekend time day home work school dinner lunch coffee \
    movie game party meeting call text phone car bus train late early fine good great bad tired busy free happy sad \
    funny cute crazy awesome cool nice weird sorry please maybe definitely probably actually literally seriously honestly \
    I I'm I'll I've you're we're they're don't can't won't isn't didn't it's that's what's let's there here this that \
    Alice Bob Ed Mom Dad grandma Sam Priya José Zoë München café naïve résumé
    """.split(separator: " ").map(String.init)
    static let emoji = ["😂", "❤️", "👍", "👍🏽", "🙏", "😭", "😊", "🔥", "🎉", "😩", "🐱", "🍝", "👨‍👩‍👧", "🤷‍♀️", "✨", "💯", "🥲", "😅"]
    static let foreign = ["日本語", "こんにちは", "谢谢", "안녕하세요", "привет", "спасибо", "مرحبا", "שלום", "नमस्ते", "Grüße", "ça va"]
    static let punctuation = [".", "!", "?", "!!", "???", "...", ",", ":)", ":(", ";)", "?!", " -", " :D", "<3", "~"]

    /// Messages totalling at least `targetBytes` of UTF-8.
    public static func generate(targetBytes: Int, seed: UInt64) -> [String] {
        var rng = SeededGenerator(seed: seed)
        func pick<T>(_ items: [T]) -> T { items[Int(rng.next() % UInt64(items.count))] }
        func chance(_ percent: UInt64) -> Bool { rng.next() % 100 < percent }
        var messages: [String] = []
        var total = 0
        while total < targetBytes {
            var parts: [String] = []
            let wordCount = 1 + Int(rng.next() % 16)
            for i in 0..<wordCount {
                var word = pick(words)
                if i == 0 && chance(40) { word = word.prefix(1).uppercased() + word.dropFirst() }
                if chance(3) { word = word.uppercased() }
                parts.append(word)
                if chance(8) { parts.append(pick(emoji)) }
                if chance(4) { parts.append(String(rng.next() % 1000)) }
                if chance(1) { parts.append(pick(foreign)) }
            }
            if chance(6) { parts.append("https://example.com/\(pick(words).lowercased())/\(rng.next() % 100_000)?ref=\(rng.next() % 100)") }
            if chance(5) { parts.append("\(rng.next() % 24):\(String(format: "%02d", Int(rng.next() % 60)))") }
            if chance(3) { parts.append("+1 (\(200 + rng.next() % 700)) \(100 + rng.next() % 900)-\(1000 + rng.next() % 9000)") }
            if chance(4) { parts.append("$\(rng.next() % 500).\(String(format: "%02d", Int(rng.next() % 100)))") }
            var message = parts.joined(separator: " ")
            if chance(60) { message += pick(punctuation) }
            if chance(10) { message += " " + pick(emoji) + pick(emoji) }
            if chance(5) { message += "\n" + pick(words) + "?" }
            total += message.utf8.count
            messages.append(message)
        }
        return messages
    }
}
