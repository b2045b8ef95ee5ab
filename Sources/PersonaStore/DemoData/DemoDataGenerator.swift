import Foundation
import PersonaCore

/// Writes an invented message history in real export formats: one iMazing CSV per
/// conversation and one WhatsApp text export. Sam Rivera talks with five contacts of very
/// different styles (1,000+ messages each), a group, a stranger and a rare contact, over
/// about two years in sessions separated by hours or days. Same seed, same bytes.
public struct DemoDataGenerator {
    public static let ownerName = DemoPersonas.owner

    public struct WrittenFile: Equatable, Sendable {
        public var path: String
        public var format: ImportFormat
        public var messages: Int
    }

    let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    struct DemoMessage {
        var sentAt: Int64
        /// nil: Sam.
        var sender: DemoPersona?
        var text: String
        var kind: MessageKind
        var attachment: String?
    }

    /// 2023-01-02T00:00:00Z
    static let start: Int64 = 1_672_617_600_000
    static let spanDays = 700.0

    public func write(to directory: String) throws -> [WrittenFile] {
        try PrivateFiles.makeDirectory(directory)
        var rng = SeededGenerator(seed: seed)
        var files: [WrittenFile] = []
        let plan: [(DemoPersona, Int)] = [(DemoPersonas.alex, 1800), (DemoPersonas.maria, 1250), (DemoPersonas.jordan, 1300),
                                          (DemoPersonas.priya, 1500), (DemoPersonas.tom, 1200)]
        for (persona, count) in plan {
            var stream = rng.fork()
            // WhatsApp exports carry no reactions, so Tom's chat has none.
            let messages = DemoDataGenerator.conversation(with: [persona], count: count, rng: &stream,
                                                          reactions: persona.name != DemoPersonas.tom.name)
            if persona.name == DemoPersonas.tom.name {
                let path = directory + "/WhatsApp Chat with \(persona.name).txt"
                try PrivateFiles.writeAtomically(DemoDataGenerator.whatsAppText(messages, other: persona), to: path)
                files.append(WrittenFile(path: path, format: .whatsapp, messages: messages.count + 1))
            } else {
                let path = directory + "/Messages - \(persona.name).csv"
                try PrivateFiles.writeAtomically(DemoDataGenerator.iMazingCSV(messages, session: persona.name), to: path)
                files.append(WrittenFile(path: path, format: .imazing, messages: messages.count))
            }
        }
        let extras: [(String, [DemoPersona], Int)] = [
            ("Weekend Crew", [DemoPersonas.alex, DemoPersonas.priya, DemoPersonas.tom], 420),
            (DemoPersonas.stranger.name, [DemoPersonas.stranger], 24),
            (DemoPersonas.rare.name, [DemoPersonas.rare], 48),
        ]
        for (session, people, count) in extras {
            var stream = rng.fork()
            let messages = DemoDataGenerator.conversation(with: people, count: count, rng: &stream)
            let path = directory + "/Messages - \(session).csv"
            try PrivateFiles.writeAtomically(DemoDataGenerator.iMazingCSV(messages, session: session), to: path)
            files.append(WrittenFile(path: path, format: .imazing, messages: messages.count))
        }
        return files
    }

    /// The `bench import` inputs: one conversation of `messages` messages, as iMazing CSV and WhatsApp text.
    public static func writeBenchmarkExports(messages: Int, imazingPath: String, whatsappPath: String, seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let alex = DemoPersonas.alex
        let conversation = conversation(with: [alex], count: messages, rng: &rng, spanDays: 3650)
        try PrivateFiles.writeAtomically(iMazingCSV(conversation, session: alex.name), to: imazingPath)
        try PrivateFiles.writeAtomically(whatsAppText(conversation, other: alex, notice: false), to: whatsappPath)
    }

    // MARK: Conversations

    static func conversation(with people: [DemoPersona], count: Int, rng: inout SeededGenerator, spanDays: Double = spanDays,
                             reactions: Bool = true) -> [DemoMessage] {
        var out: [DemoMessage] = []
        out.reserveCapacity(count)
        let sessionLength = 13.0
        let meanGap = spanDays * 86_400 / max(1, Double(count) / sessionLength)
        var t = start / 1000 + Int64(rng.nextDouble() * 86_400)
        let active = people[0].activeHours
        while out.count < count {
            // Next session: an exponential gap, started inside the first person's waking hours.
            let gap = max(3600, -log(max(1e-9, 1 - rng.nextDouble())) * meanGap)
            t += Int64(gap)
            let day = t - t % 86_400
            let hour = active.lowerBound + Int(rng.next() % UInt64(active.count))
            t = max(t, day + Int64(hour * 3600) + Int64(rng.next() % 3600))
            let length = 3 + Int(rng.next() % 22)
            var speaker: DemoPersona? = rng.nextDouble() < 0.5 ? nil : people[Int(rng.next() % UInt64(people.count))]
            for _ in 0..<length where out.count < count {
                out.append(message(from: speaker, in: people, previous: reactions ? out.last : nil, rng: &rng, at: t))
                let burst = speaker?.burst ?? 0.25
                if rng.nextDouble() < burst {
                    t += 3 + Int64(rng.next() % 40)
                } else {
                    let range = (speaker ?? people[0]).replySeconds
                    t += Int64(range.lowerBound) + Int64(rng.next() % UInt64(range.count))
                    if speaker == nil { speaker = people[Int(rng.next() % UInt64(people.count))] }
                    else if people.count > 1, rng.nextDouble() < 0.35 { speaker = people[Int(rng.next() % UInt64(people.count))] }
                    else { speaker = nil }
                }
            }
        }
        // Keep the history inside its span: compress a conversation whose random gaps overran it.
        let end = start + Int64(spanDays * 86_400_000)
        if let first = out.first?.sentAt, let last = out.last?.sentAt, last > end, last > first {
            let scale = Double(end - first) / Double(last - first)
            for i in out.indices { out[i].sentAt = first + Int64(Double(out[i].sentAt - first) * scale) / 1000 * 1000 }
        }
        return out
    }

    static func message(from speaker: DemoPersona?, in people: [DemoPersona], previous: DemoMessage?, rng: inout SeededGenerator, at t: Int64) -> DemoMessage {
        let persona = speaker ?? people[0]
        let sentAt = t * 1000
        if let previous, previous.kind == .text, previous.sender?.name != speaker?.name, previous.text.count < 80,
           rng.nextDouble() < (speaker?.reactionRate ?? 0.02) {
            let verb = ["Liked", "Loved", "Laughed at", "Emphasized"][Int(rng.next() % 4)]
            return DemoMessage(sentAt: sentAt, sender: speaker, text: "\(verb) “\(previous.text)”", kind: .reaction, attachment: nil)
        }
        if rng.nextDouble() < (speaker?.mediaRate ?? 0.01) {
            let name = String(format: "IMG_%04d.jpeg", Int(rng.next() % 9000) + 1000)
            return DemoMessage(sentAt: sentAt, sender: speaker, text: "", kind: .media, attachment: name)
        }
        var text: String
        if let speaker {
            text = fill(pick(speaker.lines, &rng), speaker.slots, &rng)
            if speaker.name == DemoPersonas.maria.name, rng.nextDouble() < 0.12 {
                text += "\n" + fill(pick(speaker.lines, &rng), speaker.slots, &rng)
            }
            if speaker.lowercase { text = text.lowercased() }
            if !speaker.emoji.isEmpty, rng.nextDouble() < speaker.emojiRate {
                let e = pick(speaker.emoji, &rng)
                text += rng.nextDouble() < 0.3 ? " " + e + e : (speaker.lowercase ? " " : " ") + e
            }
        } else {
            let own = rng.nextDouble() < 0.5 ? persona.samLines : DemoPersonas.samCommon
            text = fill(pick(own, &rng), persona.slots, &rng)
            if rng.nextDouble() < 0.08 { text += " " + pick(["🙂", "👍", "😄"], &rng) }
        }
        return DemoMessage(sentAt: sentAt, sender: speaker, text: text, kind: .text, attachment: nil)
    }

    static func pick<T>(_ items: [T], _ rng: inout SeededGenerator) -> T { items[Int(rng.next() % UInt64(items.count))] }

    static func fill(_ template: String, _ slots: [String: [String]], _ rng: inout SeededGenerator) -> String {
        guard template.contains("{") else { return template }
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out += rest[..<open]
            let key = String(rest[rest.index(after: open)..<close])
            if let options = slots[key] ?? DemoPersonas.sharedSlots[key] { out += pick(options, &rng) } else { out += "{\(key)}" }
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    // MARK: Export formats

    static func timestamp(_ ms: Int64, separator: String = " ") -> String {
        let (y, mo, d, h, mi, s, _) = UTCFormat.components(ms)
        return pad(y, 4) + "-" + pad(mo, 2) + "-" + pad(d, 2) + separator + pad(h, 2) + ":" + pad(mi, 2) + ":" + pad(s, 2)
    }

    /// Zero-padded decimal (String(format:) is slow enough to dominate writing 250,000 rows).
    static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    static func csvField(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// iMazing's 15-column Messages export (with Edited Date), dates in the export's local time (UTC here).
    static func iMazingCSV(_ messages: [DemoMessage], session: String) -> String {
        var out = "\u{FEFF}Chat Session,Message Date,Delivered Date,Read Date,Edited Date,Service,Type,Sender ID,Sender Name,Status,Replying to,Subject,Text,Attachment,Attachment type\n"
        out.reserveCapacity(messages.count * 120)
        let sessionField = csvField(session)
        for m in messages {
            let date = timestamp(m.sentAt)
            let row: [String]
            if let sender = m.sender {
                let name = sender.name.hasPrefix("+") ? "" : sender.name
                row = [sessionField, date, "", timestamp(m.sentAt + 2000), "", "iMessage", "Incoming", sender.phone, csvField(name), "Read", "", "",
                       csvField(m.text), m.attachment ?? "", m.attachment == nil ? "" : "Image"]
            } else {
                row = [sessionField, date, timestamp(m.sentAt + 1000), "", "", "iMessage", "Outgoing", "", "", "Delivered", "", "",
                       csvField(m.text), m.attachment ?? "", m.attachment == nil ? "" : "Image"]
            }
            out += row.joined(separator: ",")
            out += "\n"
        }
        return out
    }

    /// WhatsApp's iOS export layout, day-first: `[31/12/2023, 23:59:59] Name: text`.
    static func whatsAppText(_ messages: [DemoMessage], other: DemoPersona, notice: Bool = true) -> String {
        var out = ""
        out.reserveCapacity(messages.count * 70)
        func header(_ ms: Int64) -> String {
            let (y, mo, d, h, mi, s, _) = UTCFormat.components(ms)
            return "[" + pad(d, 2) + "/" + pad(mo, 2) + "/" + pad(y, 4) + ", " + pad(h, 2) + ":" + pad(mi, 2) + ":" + pad(s, 2) + "]"
        }
        if notice, let first = messages.first {
            out += header(first.sentAt - 60_000) + " \(other.name): \u{200E}Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them.\n"
        }
        for m in messages {
            let name = m.sender?.name ?? DemoPersonas.owner
            switch m.kind {
            case .media: out += "\u{200E}" + header(m.sentAt) + " \(name): \u{200E}image omitted\n"
            default: out += header(m.sentAt) + " \(name): \(m.text)\n"
            }
        }
        return out
    }
}
