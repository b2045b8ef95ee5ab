import Foundation

/// One row of an evaluation table: how to read the figure from a person's results, what to
/// hold it against, and which of two figures is the better one. Declared once, for `eval`,
/// `eval show` and `compare`.
public struct EvalMetric: Sendable {
    public enum Better: Sendable {
        /// Lower is better (loss, loops, copies).
        case lower
        /// Closer to the reference (real style, the attribution ceiling) is better.
        case closerToReference
    }

    public var name: String
    public var kind: Kind
    public var better: Better
    public var value: @Sendable (PersonEvaluation) -> Double?
    /// The real or ceiling figure printed beside it (nil: none).
    public var reference: @Sendable (PersonEvaluation) -> Double?
    public var referenceLabel: String

    public enum Kind: Sendable { case share, number, loss }

    public func text(_ x: Double?) -> String {
        guard let x, x.isFinite else { return "-" }
        switch kind {
        case .share: return String(format: "%.0f%%", x * 100)
        case .number: return String(format: "%.1f", x)
        case .loss: return String(format: "%.3f (ppl %.1f)", x, Foundation.exp(x))
        }
    }

    /// How far a figure is from good: its value (lower) or its distance to the reference.
    public func badness(_ p: PersonEvaluation) -> Double? {
        guard let v = value(p), v.isFinite else { return nil }
        switch better {
        case .lower: return v
        case .closerToReference:
            guard let r = reference(p), r.isFinite else { return nil }
            // Relative distance for sizes, absolute for shares.
            return kind == .number ? abs(v - r) / max(abs(r), 1e-9) : abs(v - r)
        }
    }

    public static let all: [EvalMetric] = [
        EvalMetric(name: "held-out loss", kind: .loss, better: .lower, value: { $0.adapterLoss }, reference: { $0.baseLoss }, referenceLabel: "base model"),
        EvalMetric(name: "attribution per message, all speakers", kind: .share, better: .closerToReference,
                   value: { $0.attribution.perMessage }, reference: { $0.ceiling.perMessage }, referenceLabel: "ceiling"),
        EvalMetric(name: "attribution per conversation, all speakers", kind: .share, better: .closerToReference,
                   value: { $0.attribution.perConversation }, reference: { $0.ceiling.perConversation }, referenceLabel: "ceiling"),
        EvalMetric(name: "attribution per message, vs partner", kind: .share, better: .closerToReference,
                   value: { $0.attribution.pairwisePerMessage }, reference: { $0.ceiling.pairwisePerMessage }, referenceLabel: "ceiling"),
        EvalMetric(name: "attribution per conversation, vs partner", kind: .share, better: .closerToReference,
                   value: { $0.attribution.pairwisePerConversation }, reference: { $0.ceiling.pairwisePerConversation }, referenceLabel: "ceiling"),
        EvalMetric(name: "mean length (characters)", kind: .number, better: .closerToReference,
                   value: { $0.style.meanLength }, reference: { $0.realStyle.meanLength }, referenceLabel: "real"),
        EvalMetric(name: "median length (characters)", kind: .number, better: .closerToReference,
                   value: { $0.style.medianLength }, reference: { $0.realStyle.medianLength }, referenceLabel: "real"),
        EvalMetric(name: "messages with emoji", kind: .share, better: .closerToReference,
                   value: { $0.style.emojiShare }, reference: { $0.realStyle.emojiShare }, referenceLabel: "real"),
        EvalMetric(name: "messages with '?'", kind: .share, better: .closerToReference,
                   value: { $0.style.questionShare }, reference: { $0.realStyle.questionShare }, referenceLabel: "real"),
        EvalMetric(name: "messages all lower case", kind: .share, better: .closerToReference,
                   value: { $0.style.lowercaseShare }, reference: { $0.realStyle.lowercaseShare }, referenceLabel: "real"),
        EvalMetric(name: "messages with repeated letters", kind: .share, better: .closerToReference,
                   value: { $0.style.repeatedLetterShare }, reference: { $0.realStyle.repeatedLetterShare }, referenceLabel: "real"),
        EvalMetric(name: "distinct-1 (same word count)", kind: .share, better: .closerToReference,
                   value: { $0.distinct1 }, reference: { $0.realDistinct1 }, referenceLabel: "real"),
        EvalMetric(name: "distinct-2 (same word count)", kind: .share, better: .closerToReference,
                   value: { $0.distinct2 }, reference: { $0.realDistinct2 }, referenceLabel: "real"),
        EvalMetric(name: "conversations in a loop", kind: .share, better: .lower, value: { $0.loopRate }, reference: { _ in nil }, referenceLabel: ""),
        EvalMetric(name: "turns copying ≥ 40 characters", kind: .share, better: .lower,
                   value: { $0.copies.share }, reference: { $0.baselineCopies.share }, referenceLabel: "own baseline"),
    ]
}

/// Text renderings of reports: one table per person and a summary, and several reports side by side.
public enum EvalRendering {
    public static func personTable(_ p: PersonEvaluation) -> [[String]] {
        var rows = [["metric", "generated", "reference"]]
        for m in EvalMetric.all {
            let reference = m.reference(p).map { "\(m.referenceLabel) \(m.text($0))" } ?? ""
            var shown = m.text(m.value(p))
            if m.kind == .number, let v = m.value(p), let r = m.reference(p), r > 0 { shown += String(format: " (%.2f×)", v / r) }
            rows.append([m.name, shown, reference])
        }
        return rows
    }

    /// Notes under a person's table: the caricature warning and the copies.
    public static func personNotes(_ p: PersonEvaluation) -> [String] {
        var notes: [String] = []
        if p.ceiling.messages == 0 {
            notes.append("note: \(p.person) has no held-out messages in this dataset: there is no ceiling to read attribution against.")
        }
        if p.looksLikeCaricature {
            notes.append(String(format: "note: attribution is more than %.0f points above the ceiling: not a success but the mark of a caricature "
                                + "(the model overusing %@'s stereotyped phrases); read it with distinct-n and loops.",
                                PersonEvaluation.caricatureMargin * 100, p.person))
        }
        if p.copies.share > p.baselineCopies.share {
            notes.append(String(format: "note: %.0f%% of generated turns copy a real message, more than %@'s own baseline of %.0f%%.",
                                p.copies.share * 100, p.person, p.baselineCopies.share * 100))
        }
        for e in p.copies.examples {
            notes.append("copy (\(e.characters) characters): \"\(e.copied)\" from the real message \"\(e.sourceMessage)\"")
        }
        return notes
    }

    public static func summaryTable(_ r: EvalReport) -> [[String]] {
        var rows = [["person", "loss adapter / base", "attribution/conv (ceiling)", "length ÷ real", "distinct-2 ÷ real", "loops", "copies (own baseline)"]]
        for p in r.persons {
            let loss = p.adapterLoss.map { a in String(format: "%.3f / ", a) + (p.baseLoss.map { String(format: "%.3f", $0) } ?? "-") } ?? "-"
            rows.append([
                p.person, loss,
                String(format: "%.0f%% (%.0f%%)", p.attribution.perConversation * 100, p.ceiling.perConversation * 100),
                p.realStyle.meanLength > 0 ? String(format: "%.2f×", p.style.meanLength / p.realStyle.meanLength) : "-",
                p.realDistinct2 > 0 ? String(format: "%.2f×", p.distinct2 / p.realDistinct2) : "-",
                String(format: "%.0f%%", p.loopRate * 100),
                String(format: "%.0f%% (%.0f%%)", p.copies.share * 100, p.baselineCopies.share * 100),
            ])
        }
        return rows
    }

    /// Reports side by side, one row per person and metric; the best figure of each row is
    /// marked with '*' (ties are all marked; a row where every figure ties marks none).
    public static func comparison(_ reports: [(label: String, report: EvalReport)]) -> [[String]] {
        var rows = [["person", "metric"] + reports.map(\.label)]
        var people: [String] = []
        for (_, r) in reports { for p in r.persons where !people.contains(p.person) { people.append(p.person) } }
        for person in people {
            for m in EvalMetric.all {
                let found = reports.map { $0.report.persons.first { $0.person == person } }
                let bad = found.map { $0.flatMap(m.badness) }
                let known = bad.compactMap { $0 }
                let best = known.min()
                let allTie = known.count < 2 || known.allSatisfy { abs($0 - known[0]) < 1e-12 }
                var row = [person, m.name]
                for (i, p) in found.enumerated() {
                    guard let p else { row.append("-"); continue }
                    var text = m.text(m.value(p))
                    if let r = m.reference(p), m.better == .closerToReference { text += " (\(m.text(r)))" }
                    if !allTie, let b = bad[i], let best, abs(b - best) < 1e-12 { text = "*" + text }
                    row.append(text)
                }
                rows.append(row)
            }
        }
        return rows
    }

    /// One figure per report for sweeps: mean held-out loss (lower is better), or mean
    /// per-conversation attribution capped at its ceiling (higher is better: a score above
    /// the ceiling earns nothing more).
    public static func objective(_ r: EvalReport, metric: SweepMetric) -> Double? {
        switch metric {
        case .loss:
            let losses = r.persons.compactMap(\.adapterLoss)
            return losses.isEmpty ? nil : losses.reduce(0, +) / Double(losses.count)
        case .attribution:
            guard !r.persons.isEmpty else { return nil }
            return r.persons.map { min($0.attribution.perConversation, $0.ceiling.perConversation) }.reduce(0, +) / Double(r.persons.count)
        }
    }
}
