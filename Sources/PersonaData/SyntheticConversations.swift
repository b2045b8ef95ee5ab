import Foundation
import PersonaCore
import PersonaStore

/// Invented conversations for benchmarks: deterministic from the seed, with people whose
/// message lengths and reply rhythm differ, sessions separated by long silences, and
/// occasional reactions, media and very long messages, so every path of the builder runs.
public enum SyntheticConversations {
    static let vocabulary: [String] = [
        "ok", "sure", "see", "you", "at", "the", "café", "tomorrow", "lol", "😂", "dinner", "train", "late", "again",
        "sorry!", "what", "time", "works", "for", "you?", "👍", "running", "10", "mins", "haha", "yes", "no", "maybe",
        "let's", "meet", "after", "work", "I'm", "on", "my", "way", "can't", "wait", "love", "that", "idea", "call",
        "me", "when", "free", "weekend", "plans", "?", "!!", "x", "thanks", "so", "much", "really", "good", "news",
        "meeting", "moved", "to", "3pm", "kids", "school", "pick", "up", "grocery", "list", "milk", "eggs", "bread",
    ]

    public static func make(messages total: Int, people: Int = 40, seed: UInt64 = 1) -> [TrainingConversation] {
        var rng = SeededGenerator(seed: seed)
        let perPerson = max(1, total / max(1, people))
        var conversations: [TrainingConversation] = []
        var nextID: Int64 = 1
        var remaining = total
        for person in 0..<max(1, people) where remaining > 0 {
            let count = person == people - 1 ? remaining : min(remaining, perPerson)
            remaining -= count
            let name = "Person\(person)"
            // Each person's own style: typical length and how often a burst changes sender.
            let meanWords = 2 + Int(rng.next() % 12)
            var messages: [TrainingMessage] = []
            messages.reserveCapacity(count)
            var time = 1_600_000_000.0 + Double(rng.next() % 1_000_000)
            var fromMe = rng.next() % 2 == 0
            for _ in 0..<count {
                time += rng.next() % 40 == 0 ? Double(6 * 3600 + rng.next() % 86400) : Double(5 + rng.next() % 600)
                if rng.next() % 3 == 0 { fromMe.toggle() }
                let roll = rng.next() % 1000
                let kind: MessageKind = roll < 20 ? .reaction : roll < 30 ? .media : .text
                let words = roll == 999 ? 400 : 1 + Int(rng.next() % UInt64(2 * meanWords))
                var text = ""
                for w in 0..<words {
                    if w > 0 { text += " " }
                    text += vocabulary[Int(rng.next() % UInt64(vocabulary.count))]
                }
                if kind == .reaction { text = "Liked “\(text)”" }
                if kind == .media { text = "<Media omitted>" }
                messages.append(TrainingMessage(id: nextID, fromMe: fromMe, senderName: fromMe ? "Ed" : name,
                                                sentAt: Date(timeIntervalSince1970: time), text: text, kind: kind))
                nextID += 1
            }
            conversations.append(TrainingConversation(conversationID: Int64(person + 1), me: "Ed", them: name,
                                                      themPersonID: Int64(person + 1), messages: messages))
        }
        return conversations
    }
}
