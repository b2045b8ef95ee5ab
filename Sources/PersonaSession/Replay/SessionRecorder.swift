import Foundation
import PersonaCore

/// Writes the session into a `.persona` file as it happens (`record FILE` … `record stop`):
/// each command the person types, then its output as `| ` lines, errors included. The file
/// is appended to after every command, so a crash loses nothing, and it is private (0600).
public final class SessionRecorder {
    public let path: String
    private let fd: Int32

    /// Opens `path` for recording; `append` adds to an existing session instead of refusing.
    public init(path: String, append: Bool) throws {
        var flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC
        if !append { flags |= O_EXCL }
        let fd = open(path, flags, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST {
                throw CommandError.failed(command: "record", reason: "\(path) exists; use --append to add to it, or another name")
            }
            throw FileError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    /// Appends lines (prose or a command with its output) to the file.
    public func append(_ text: String) throws {
        var failure: String?
        Data(text.utf8).withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                let n = write(fd, base + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = String(cString: strerror(errno)); return
                }
                offset += n
            }
        }
        if let failure { throw FileError.cannotWrite(path: path, reason: failure) }
    }

    /// Runs one command while capturing its output (still shown on screen), then appends the
    /// command and its output; an error becomes the output line `error: MESSAGE`.
    func record(words: [String], in bench: Workbench, run: () throws -> Void) throws {
        let captured = CapturedOutput()
        let screen = bench.output
        bench.output = TeeOutput(screen, captured)
        var failure: Error?
        do { try run() } catch { failure = error }
        bench.output = screen
        if let failure { captured.write(SessionFile.errorPrefix + describeError(failure) + "\n") }
        var entry = LineLexer.join(words) + "\n"
        let normaliser = OutputNormaliser(workspacePath: bench.workspacePath)
        for line in normaliser.anonymise(SessionFile.lines(of: captured.text)) { entry += SessionFile.outputLine(line) + "\n" }
        do { try append(entry) } catch {
            // A recording that cannot be written stops, but the command's own result stands.
            bench.recorder = nil
            bench.diagnostics.write("error: " + describeError(error) + "; recording stopped\n")
        }
        if let failure { throw failure }
    }

    /// Commands that steer the recording or the session are not written into it.
    static func isRecorded(_ words: [String]) -> Bool {
        guard let first = words.first else { return false }
        return first != "record" && first != "quit" && first != "exit"
    }
}
