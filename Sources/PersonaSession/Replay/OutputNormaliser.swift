import Foundation

/// What `run --check` ignores when it compares a command's output with the recording:
/// the figures that change from run to run and machine to machine.
///
/// 1. Rates, a number followed by a unit per second (`456 tokens/s`, `12.5 MB/s`,
///    `230 GFLOP/s`, `3.1 it/s`), become `<rate>`.
/// 2. Durations, a number followed by `ns`, `µs`, `us`, `ms`, `s`, `sec`, `seconds`,
///    `min` or `h` (`0.123 s`, `12.3 ms`, `4s`), become `<time>`.
/// 3. The workspace folder (absolute, or as given when it contains a `/`) becomes
///    `<workspace>`, the current folder `<cwd>`, and any other path under the temporary
///    folder (`/tmp/…`, `$TMPDIR/…`) `<tmp>`.
/// 4. A wall-clock time with seconds, as the workspace records when something was saved
///    (`2026-12-06 04:20:11`, with an optional `T`, `Z` or ` UTC`), becomes `<clock>`.
///    Message times print to the minute (`2024-03-01 12:05`) and stay as they are.
/// 5. Runs of spaces count as one space and trailing spaces are ignored, so that a table
///    whose columns widen with a changed figure still compares equal.
/// 6. Ids the workspace hands out in order, which depend on its history rather than on
///    the session (`saved as generation 6`, `run 3: adapter ed …`, `runs/run-3`, `eval 2`,
///    `blind test 4`), become `generation <id>`, `run <id>`, `run-<id>`, `eval <id>` and `blind test <id>`: replaying a session twice in the same
///    workspace numbers its generations and runs on from the first replay.
///
/// Recordings (`record`, `run --update`) already write rule 3's `<workspace>` and `<cwd>`
/// in place of those folders.
///
/// Then `ReplayTolerance` compares the lines: decimal numbers under a small tolerance (the last
/// digits of a float differ between CPUs), everything else exactly: counts, token ids and
/// generated text are deterministic for a given seed and thread count.
public struct OutputNormaliser {
    private var literalPaths: [(String, String)]
    private let temporaryFolders: [String]

    public init(workspacePath: String, currentDirectory: String = FileManager.default.currentDirectoryPath,
                temporaryDirectory: String = NSTemporaryDirectory()) {
        var paths: [(String, String)] = []
        let absoluteWorkspace = OutputNormaliser.absolute(workspacePath, in: currentDirectory)
        paths.append((absoluteWorkspace, "<workspace>"))
        let resolved = URL(fileURLWithPath: absoluteWorkspace).resolvingSymlinksInPath().path
        if resolved != absoluteWorkspace { paths.append((resolved, "<workspace>")) }
        if workspacePath.contains("/"), workspacePath != absoluteWorkspace { paths.append((workspacePath, "<workspace>")) }
        if currentDirectory.count > 1 { paths.append((currentDirectory, "<cwd>")) }
        // Longest first, so that a workspace inside the current folder stays `<workspace>`.
        literalPaths = paths.filter { $0.0.count > 1 }.sorted { $0.0.count > $1.0.count }
        var temporary = ["/tmp", "/var/tmp"]
        var t = temporaryDirectory
        while t.hasSuffix("/"), t.count > 1 { t.removeLast() }
        if t.count > 1, !temporary.contains(t) { temporary.append(t) }
        temporaryFolders = temporary
    }

    static func absolute(_ path: String, in directory: String) -> String {
        var p = path.hasPrefix("/") ? path : directory + "/" + path
        p = URL(fileURLWithPath: p).standardizedFileURL.path
        while p.hasSuffix("/"), p.count > 1 { p.removeLast() }
        return p
    }

    // A number: digits with optional thousands separators, decimals and exponent, not glued
    // to a preceding word or number ("v2", "1.2.3" keep their digits).
    private static let number = #"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?"#
    private static let rate = try! NSRegularExpression(pattern: number + #"\s?[A-Za-zµ]+/s\b"#)
    private static let duration = try! NSRegularExpression(pattern: number + #"\s?(?:ns|µs|us|ms|s|sec|secs|seconds|min|h)\b"#)
    private static let spaces = try! NSRegularExpression(pattern: " {2,}")
    private static let clock = try! NSRegularExpression(pattern: #"(?<!\d)\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z| UTC)?(?!\d)"#)
    private static let workspaceId = try! NSRegularExpression(pattern: #"\b(generation|run|eval|blind test) #?\d+\b"#)
    private static let runFolder = try! NSRegularExpression(pattern: #"\brun-\d+\b"#)

    /// The workspace and current folder as placeholders: what a recording writes, so that
    /// a shared session file names no one's home folder and checks from any workspace.
    public func anonymise(_ line: String) -> String {
        var s = line
        for (path, placeholder) in literalPaths { s = s.replacingOccurrences(of: path, with: placeholder) }
        return s
    }

    public func anonymise(_ lines: [String]) -> [String] { lines.map(anonymise) }

    public func normalise(_ line: String) -> String {
        var s = anonymise(line)
        for folder in temporaryFolders { s = OutputNormaliser.replacePaths(under: folder, in: s) }
        s = OutputNormaliser.replace(OutputNormaliser.clock, in: s, with: "<clock>")
        s = OutputNormaliser.replace(OutputNormaliser.rate, in: s, with: "<rate>")
        s = OutputNormaliser.replace(OutputNormaliser.duration, in: s, with: "<time>")
        s = OutputNormaliser.workspaceIds(in: s)
        s = OutputNormaliser.replace(OutputNormaliser.spaces, in: s, with: " ")
        while s.hasSuffix(" ") || s.hasSuffix("\t") { s.removeLast() }
        return s
    }

    public func normalise(_ lines: [String]) -> [String] { lines.map(normalise) }

    /// Rule 6: `generation 6` → `generation <id>`, `run 3` → `run <id>`, `run-3` → `run-<id>`,
    /// `eval 2` → `eval <id>`, `blind test 4` → `blind test <id>`.
    static func workspaceIds(in s: String) -> String {
        guard s.contains("generation") || s.contains("run") || s.contains("eval") || s.contains("blind test") else { return s }
        let range = NSRange(s.startIndex..<s.endIndex, in: s)
        let named = workspaceId.stringByReplacingMatches(in: s, range: range, withTemplate: "$1 <id>")
        return replace(runFolder, in: named, with: "run-<id>")
    }

    private static func replace(_ regex: NSRegularExpression, in s: String, with template: String) -> String {
        let range = NSRange(s.startIndex..<s.endIndex, in: s)
        return regex.stringByReplacingMatches(in: s, range: range, withTemplate: NSRegularExpression.escapedTemplate(for: template))
    }

    /// `/tmp/persona-x1/ws/a.txt` → `<tmp>`: the whole path, up to a space or quote.
    private static func replacePaths(under folder: String, in s: String) -> String {
        guard s.contains(folder + "/") else { return s }
        let pattern = "(?<![\\w.])" + NSRegularExpression.escapedPattern(for: folder) + #"/[^\s'"`,;)\]]*"#
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return s }
        return replace(regex, in: s, with: "<tmp>")
    }
}
