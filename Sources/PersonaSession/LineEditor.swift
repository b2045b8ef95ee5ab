import CEditLine
import Foundation
import PersonaCore
#if canImport(Glibc)
import Glibc
#endif

/// libedit at the prompt: Emacs keys by default (vi with `set editor=vi` or an editrc),
/// history kept in the workspace, Ctrl-R reverse search, and Tab completion from the
/// command table. One editor exists at a time; libedit's C callbacks find it through
/// static state.
final class LineEditor {
    enum Input: Equatable {
        case line(String)
        /// Ctrl-C at the prompt: the line is dropped.
        case interrupted
        /// Ctrl-D on an empty line, or the end of the input.
        case end
    }

    private let editLine: OpaquePointer
    private let history: OpaquePointer
    private let historyPath: String?
    private var editor = "emacs"

    // libedit calls back through plain C function pointers, which cannot capture.
    nonisolated(unsafe) private static var prompt: UnsafeMutablePointer<CChar>?
    nonisolated(unsafe) private static var completionBench: Workbench?

    static let historySize: Int32 = 1000

    init?(bench: Workbench, historyPath: String?) {
        // Without the locale libedit drops every non-ASCII character typed.
        setlocale(LC_CTYPE, "")
        guard let el = el_init(CommandLine.arguments.first ?? "persona", cel_stdin(), cel_stdout(), cel_stderr()) else { return nil }
        guard let h = history_init() else { el_end(el); return nil }
        editLine = el
        history = h
        self.historyPath = historyPath
        LineEditor.completionBench = bench

        var event = HistEvent()
        _ = cel_history_set_size(h, &event, LineEditor.historySize)
        _ = cel_history_set_unique(h, &event, 1)
        if let historyPath, FileManager.default.fileExists(atPath: historyPath) {
            _ = cel_history_load(h, &event, historyPath)
        }
        _ = cel_set_history(el, h)
        _ = cel_set_prompt(el) { _ in LineEditor.prompt }
        applyEditor("emacs")
        // The person's ~/.editrc (or $EDITRC) comes last, so it can change any of the above.
        _ = cel_source(el, nil)
    }

    deinit {
        el_end(editLine)
        history_end(history)
        LineEditor.completionBench = nil
    }

    /// Emacs or vi keys; the completion and search bindings are made again for the new map.
    func applyEditor(_ mode: String) {
        editor = mode
        _ = cel_set_editor(editLine, mode)
        _ = cel_add_function(editLine, "persona-complete", "complete the word before the cursor") { el, _ in
            LineEditor.complete(el)
        }
        _ = cel_bind(editLine, "^I", "persona-complete")
        _ = cel_bind(editLine, "^R", "em-inc-search-prev")
    }

    func follow(_ settings: SessionSettings) {
        if settings.editor != editor { applyEditor(settings.editor) }
    }

    /// Reads one line with `prompt`, without its newline.
    func read(prompt text: String) -> Input {
        free(LineEditor.prompt)
        LineEditor.prompt = strdup(text)
        var count: Int32 = 0
        errno = 0
        guard let raw = el_gets(editLine, &count) else {
            if CancellationToken.interrupt.isCancelled || errno == EINTR {
                // libedit keeps what was typed; the next prompt starts empty.
                el_reset(editLine)
                return .interrupted
            }
            return .end
        }
        guard count > 0 else { return .end }
        var line = String(cString: raw)
        if line.hasSuffix("\n") { line.removeLast() }
        return .line(line)
    }

    /// Adds a line to the history and saves the file (private, replaced atomically).
    func remember(_ line: String) {
        guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { return }
        var event = HistEvent()
        _ = cel_history_enter(history, &event, line)
        save()
    }

    private func save() {
        guard let historyPath else { return }
        let temporary = historyPath + ".tmp-\(getpid())"
        // Created 0600 before libedit writes into it: the history is as private as the store.
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        close(fd)
        var event = HistEvent()
        if cel_history_save(history, &event, temporary) >= 0 {
            chmod(temporary, 0o600)
            rename(temporary, historyPath)
        } else {
            unlink(temporary)
        }
    }

    // MARK: Completion

    private static func complete(_ el: OpaquePointer?) -> UInt8 {
        guard let el, let bench = completionBench, let info = el_line(el) else { return UInt8(CC_ERROR) }
        // In a line mode (the chat) a line is a message, not a command: nothing to complete.
        if bench.lineModePrompt != nil { return UInt8(CC_REFRESH_BEEP) }
        let before = info.pointee.cursor - info.pointee.buffer
        guard before >= 0 else { return UInt8(CC_ERROR) }
        let bytes = UnsafeRawBufferPointer(start: info.pointee.buffer, count: before)
        let line = String(decoding: bytes, as: UTF8.self)
        let result = Completion.complete(line: line, bench: bench)
        guard !result.candidates.isEmpty else { return UInt8(CC_REFRESH_BEEP) }

        // What was typed of the word, quotes included (the partial has them removed).
        let typed = String(String.UnicodeScalarView(line.unicodeScalars.dropFirst(result.start)))
        var replacement = result.commonPrefix
        if result.candidates.count == 1 {
            // A name with spaces ("Ada Quill") is written quoted, so it stays one word.
            replacement = LineLexer.quote(replacement)
            if !Completion.Result.isOpenEnded(replacement) { replacement += " " }
        } else if replacement != LineLexer.quote(replacement) {
            replacement = result.partial   // a shared prefix that would need quotes: just list
        }
        if replacement != result.partial, replacement != typed {
            if replacement.hasPrefix(typed) {
                _ = el_insertstr(el, String(replacement.dropFirst(typed.count)))
            } else {
                el_deletestr(el, Int32(typed.unicodeScalars.count))
                _ = el_insertstr(el, replacement)
            }
            return UInt8(CC_REFRESH)
        }
        // Nothing more in common: show the choices under the line, then redraw it.
        let listing = "\n" + columns(result.candidates, width: terminalWidth()) + "\n"
        FileHandle.standardOutput.write(Data(listing.utf8))
        return UInt8(CC_REDISPLAY)
    }

    /// Candidates laid out in columns, as a shell lists completions.
    static func columns(_ words: [String], width: Int) -> String {
        let cell = (words.map(\.unicodeScalars.count).max() ?? 0) + 2
        let perLine = max(1, width / max(cell, 1))
        var lines: [String] = []
        var i = 0
        while i < words.count {
            let row = words[i..<min(words.count, i + perLine)]
            var text = row.map { $0 + String(repeating: " ", count: max(0, cell - $0.unicodeScalars.count)) }.joined()
            while text.hasSuffix(" ") { text.removeLast() }
            lines.append(text)
            i += perLine
        }
        return lines.joined(separator: "\n")
    }

    private static func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }
}
