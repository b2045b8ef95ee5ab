import Foundation
import PersonaStore
import PersonaText

/// One token per UTF-8 byte (ids 0…255), plus special tokens: joining never changes
/// tokens at a boundary, so packing must be exactly greedy with it.
final class ByteTokenizer: Tokenizer {
    static let specials = ["<|im_start|>": Int32(256), "<|im_end|>": Int32(257)]
    var vocabularySize: Int { 258 }

    func encode(_ text: String, parseSpecialTokens: Bool) -> [Int32] {
        guard parseSpecialTokens else { return text.utf8.map { Int32($0) } }
        var out: [Int32] = []
        var rest = Substring(text)
        outer: while !rest.isEmpty {
            for (special, id) in Self.specials where rest.hasPrefix(special) {
                out.append(id)
                rest = rest.dropFirst(special.count)
                continue outer
            }
            out.append(contentsOf: String(rest.prefix(1)).utf8.map { Int32($0) })
            rest = rest.dropFirst()
        }
        return out
    }

    func decode(_ ids: [Int32]) -> String {
        var bytes: [UInt8] = []
        for id in ids {
            if let special = Self.specials.first(where: { $0.value == id })?.key { bytes.append(contentsOf: special.utf8) }
            else if (0..<256).contains(id) { bytes.append(UInt8(id)) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Words split at spaces only: a run of non-space bytes is one token and so is a run of
/// spaces. Newlines are not spaces here, so `"hi\n###"` is one token joined but two apart:
/// the boundary effect that the exact count and the mask alignment must survive.
final class SpaceWordTokenizer: Tokenizer, @unchecked Sendable {
    private var idsByPiece: [String: Int32] = [:]
    private var pieces: [String] = []
    private let lock = NSLock()
    var vocabularySize: Int { lock.lock(); defer { lock.unlock() }; return pieces.count }

    private func id(_ piece: String) -> Int32 {
        lock.lock(); defer { lock.unlock() }
        if let id = idsByPiece[piece] { return id }
        let id = Int32(pieces.count)
        pieces.append(piece)
        idsByPiece[piece] = id
        return id
    }

    func encode(_ text: String, parseSpecialTokens: Bool) -> [Int32] {
        var out: [Int32] = []
        var current = ""
        var currentIsSpace = false
        for scalar in text.unicodeScalars {
            let isSpace = scalar == " "
            if !current.isEmpty, isSpace != currentIsSpace {
                out.append(id(current))
                current = ""
            }
            current.unicodeScalars.append(scalar)
            currentIsSpace = isSpace
        }
        if !current.isEmpty { out.append(id(current)) }
        return out
    }

    func decode(_ ids: [Int32]) -> String {
        lock.lock(); defer { lock.unlock() }
        return ids.map { pieces.indices.contains(Int($0)) ? pieces[Int($0)] : "" }.joined()
    }
}

/// Invented people and messages for the tests.
enum Fixtures {
    static let start = Date(timeIntervalSince1970: 1_710_244_800)  // Tue 12 March 2024 12:00 UTC

    static func message(_ id: Int64, _ fromMe: Bool, _ name: String, _ minutes: Double, _ text: String,
                        _ kind: MessageKind = .text) -> TrainingMessage {
        TrainingMessage(id: id, fromMe: fromMe, senderName: name, sentAt: start.addingTimeInterval(minutes * 60), text: text, kind: kind)
    }

    /// A short exchange between Edward and Josh (invented), with a reaction.
    static func handyman() -> TrainingConversation {
        TrainingConversation(conversationID: 1, me: "Edward", them: "Josh", themPersonID: 7, messages: [
            message(1, false, "Josh", 0, "Thanks Ed will call you soon"),
            message(2, false, "Josh", 1, "Hi Ed give me a call about the paint"),
            message(3, true, "Edward", 2, "Liked “Hi Ed give me a call about the paint”", .reaction),
            message(4, true, "Edward", 3, "hey Josh. Any chance you could paint this week? Wed or Thurs?"),
            message(5, true, "Edward", 4, "on a call, free in an hour"),
            message(6, false, "Josh", 5, "Just call me when you can"),
        ])
    }

    /// `count` messages between Ed and `them`, in sessions of 20 messages a day apart,
    /// alternating in bursts, with varied lengths drawn from `seed`.
    static func conversation(id: Int64, them: String, count: Int, seed: UInt64 = 1, longEvery: Int = 0) -> TrainingConversation {
        var state = seed &* 6364136223846793005 &+ 1442695040888963407
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        let words = ["ok", "sure", "see", "you", "at", "the", "café", "tomorrow", "lol", "😂", "dinner", "train",
                     "late", "again", "sorry!", "what", "time", "works", "for", "you?", "👍", "running", "10", "mins"]
        var messages: [TrainingMessage] = []
        var minutes = 0.0
        var fromMe = true
        for i in 0..<count {
            if i % 20 == 0 && i > 0 { minutes += 24 * 60 } else { minutes += Double(1 + next() % 9) }
            if next() % 3 == 0 { fromMe.toggle() }
            let length = longEvery > 0 && i % longEvery == longEvery - 1 ? 300 : Int(1 + next() % 14)
            let text = (0..<length).map { _ in words[Int(next() % UInt64(words.count))] }.joined(separator: " ")
            messages.append(message(id * 100_000 + Int64(i), fromMe, fromMe ? "Ed" : them, minutes, text))
            messages[messages.count - 1].sentAt = start.addingTimeInterval(minutes * 60)
        }
        return TrainingConversation(conversationID: id, me: "Ed", them: them, themPersonID: id + 1000, messages: messages)
    }
}
