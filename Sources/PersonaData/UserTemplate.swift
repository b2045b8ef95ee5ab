/// A user's chunk template: free text with `{me}`, `{them}`, `{date}`, `{relationship}` and
/// exactly one `{messages}`, where the messages go as `Name: text` lines. The text before
/// `{messages}` is the header and the text after it the footer; neither is counted by the loss.
public struct UserTemplate: Equatable, Sendable {
    enum Part: Equatable, Sendable {
        case literal(String)
        case me, them, date, relationship
    }

    let headerParts: [Part]
    let footerParts: [Part]

    public static let placeholders = ["me", "them", "date", "relationship", "messages"]

    public init(_ text: String) throws {
        var header: [Part] = []
        var footer: [Part] = []
        var sawMessages = false
        var literal = ""
        let scalars = Array(text.unicodeScalars)
        var i = 0
        func flush() {
            guard !literal.isEmpty else { return }
            if sawMessages { footer.append(.literal(literal)) } else { header.append(.literal(literal)) }
            literal = ""
        }
        while i < scalars.count {
            let c = scalars[i]
            if c == "{", let close = scalars[(i + 1)...].firstIndex(of: "}") {
                let name = String(String.UnicodeScalarView(scalars[(i + 1)..<close]))
                let isIdentifier = !name.isEmpty && name.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0 == "_" }
                if isIdentifier {
                    let part: Part?
                    switch name {
                    case "me": part = .me
                    case "them": part = .them
                    case "date": part = .date
                    case "relationship": part = .relationship
                    case "messages":
                        guard !sawMessages else { throw DataError.badTemplate(reason: "{messages} appears more than once") }
                        flush()
                        sawMessages = true
                        part = nil
                    default:
                        throw DataError.badTemplate(reason: "unknown placeholder {\(name)} at character \(i)")
                    }
                    if let part {
                        flush()
                        if sawMessages { footer.append(part) } else { header.append(part) }
                    }
                    i = close + 1
                    continue
                }
            }
            literal.unicodeScalars.append(c)
            i += 1
        }
        flush()
        guard sawMessages else { throw DataError.badTemplate(reason: "it has no {messages} placeholder") }
        headerParts = header
        footerParts = footer
    }

    var mentionsDate: Bool { (headerParts + footerParts).contains(.date) }

    func header(_ context: ChunkContext) -> String { Self.expand(headerParts, context) }
    func footer(_ context: ChunkContext) -> String { Self.expand(footerParts, context) }

    private static func expand(_ parts: [Part], _ context: ChunkContext) -> String {
        var out = ""
        for part in parts {
            switch part {
            case .literal(let s): out += s
            case .me: out += context.me
            case .them: out += context.them
            case .date: out += CalendarText.longDate(context.date)
            case .relationship: out += context.relationship ?? ""
            }
        }
        return out
    }
}
