import Foundation
import PersonaCore
#if canImport(Glibc)
import Glibc
#endif

/// Progress on a terminal: one line on standard error, redrawn in place, with a bar,
/// the count, the rate and the time left:
///
///     train  [#########...........]  45/100 steps  3.2 steps/s  ETA 0:17  loss 2.31
///
/// It is used only when standard error is a terminal, so nothing of it reaches a pipe, a
/// log or a recorded session. Nested work (a step inside an epoch) shows the innermost.
public final class TerminalProgress: ProgressReporter {
    private struct Task {
        var label: String
        var total: Int?
        var unit: String
        var start: Double
        var done = 0
        /// Where the count stood before the first step timed here (a resumed run starts past 0),
        /// so that the rate and the ETA count only this stretch.
        var doneBefore: Int?
        var detail: String?
    }

    private var tasks: [Task] = []
    private var lastDraw = 0.0
    private let fd: Int32
    private let clock: () -> Double
    /// Seconds between redraws: often enough to look alive, rarely enough to cost nothing.
    private let interval: Double

    public init(fileDescriptor: Int32 = STDERR_FILENO, interval: Double = 0.1, clock: @escaping () -> Double = monotonicSeconds) {
        self.fd = fileDescriptor; self.interval = interval; self.clock = clock
    }

    /// A reporter for standard error: a bar on a terminal, nothing otherwise.
    public static func forStandardError() -> ProgressReporter {
        isatty(STDERR_FILENO) != 0 ? TerminalProgress() : SilentProgress()
    }

    public func begin(_ label: String, total: Int?, unit: String) {
        tasks.append(Task(label: label, total: total, unit: unit, start: clock()))
        lastDraw = 0
        draw(force: true)
    }

    public func advance(to done: Int, detail: String?) {
        guard !tasks.isEmpty else { return }
        tasks[tasks.count - 1].done = done
        if tasks[tasks.count - 1].doneBefore == nil { tasks[tasks.count - 1].doneBefore = max(0, done - 1) }
        if let detail { tasks[tasks.count - 1].detail = detail }
        draw(force: false)
    }

    public func finish() {
        guard !tasks.isEmpty else { return }
        tasks.removeLast()
        emit("\r\u{1B}[K")
        if !tasks.isEmpty { draw(force: true) }
    }

    /// Runs `body` (which prints to the same terminal) with the bar out of the way: the bar's
    /// line is cleared first and drawn again after, so output never lands beside it.
    public func interleave(_ body: () -> Void) {
        guard !tasks.isEmpty else { body(); return }
        emit("\r\u{1B}[K")
        body()
        draw(force: true)
    }

    private func draw(force: Bool) {
        let now = clock()
        guard let task = tasks.last, force || now - lastDraw >= interval else { return }
        lastDraw = now
        emit("\r\u{1B}[K" + TerminalProgress.line(label: task.label, done: task.done, total: task.total, unit: task.unit,
                                                    elapsed: now - task.start, detail: task.detail, width: terminalWidth(),
                                                    doneBefore: task.doneBefore ?? 0))
    }

    /// One progress line, cut to `width` columns: the only ETA on it is this one (a detail
    /// should not carry its own). `doneBefore` of `done` were done before `elapsed` began.
    public static func line(label: String, done: Int, total: Int?, unit: String, elapsed: Double, detail: String?, width: Int,
                            doneBefore: Int = 0) -> String {
        var parts = [label]
        let rate = elapsed > 0 ? Double(done - doneBefore) / elapsed : 0
        if let total, total > 0 {
            let fraction = min(1, max(0, Double(done) / Double(total)))
            let barWidth = 20
            let filled = Int((fraction * Double(barWidth)).rounded(.down))
            parts.append("[" + String(repeating: "#", count: filled) + String(repeating: ".", count: barWidth - filled) + "]")
            parts.append("\(done)/\(total) \(unit)")
        } else {
            parts.append("\(done) \(unit)")
        }
        if done > 0, elapsed > 0 {
            parts.append(formatRate(rate) + " \(unit)/s")
            if let total, total > done, rate > 0 {
                parts.append("ETA " + formatClock(Double(total - done) / rate))
            }
        }
        if let detail, !detail.isEmpty { parts.append(detail) }
        let text = parts.joined(separator: "  ")
        let scalars = text.unicodeScalars
        if scalars.count < width { return text }
        return String(String.UnicodeScalarView(scalars.prefix(max(0, width - 1))))
    }

    static func formatRate(_ r: Double) -> String {
        if r >= 100 { return String(format: "%.0f", r) }
        if r >= 10 { return String(format: "%.1f", r) }
        return String(format: "%.2f", r)
    }

    /// `0:17`, `12:03`, `1:02:03`.
    static func formatClock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.up))
        if s >= 3600 { return String(format: "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60) }
        return String(format: "%d:%02d", s / 60, s % 60)
    }

    private func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }

    private func emit(_ text: String) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                let n = write(fd, base + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; return }
                offset += n
            }
        }
    }
}

/// Output that shares the terminal with a progress bar (see `TerminalProgress.interleave`).
public final class ProgressAwareOutput: OutputSink {
    private let inner: OutputSink
    private let progress: TerminalProgress

    public init(_ inner: OutputSink, progress: TerminalProgress) {
        self.inner = inner; self.progress = progress
    }

    public func write(_ text: String) { progress.interleave { inner.write(text) } }
}
