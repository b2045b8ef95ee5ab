import Foundation
import PersonaCore
import PersonaTestSupport
import XCTest
@testable import PersonaSession

/// The built `persona` executable, driven as a person would: piped input, `-c`, Ctrl-C,
/// and the REPL in a real terminal (tmux).
final class ProcessTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws { directory = try TestPaths.temporaryDirectory("process") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    /// The executable built beside this test bundle (same configuration).
    static func personaBinary() throws -> String {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments.first { $0.contains(".xctest") } ?? CommandLine.arguments[0])
        var candidates: [String] = []
        var url = testBinary
        for _ in 0..<4 {
            url.deleteLastPathComponent()
            candidates.append(url.path + "/persona")
        }
        candidates += ["release", "debug"].map { TestPaths.packageRoot + "/.build/\($0)/persona" }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            try TestPaths.missing("the persona executable is not built (run 'swift build' first); looked in \(candidates)")
            return candidates[0]
        }
        return found
    }

    struct Finished { var status: Int32; var stdout: String; var stderr: String }

    func launch(_ arguments: [String], stdin: String? = nil) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.personaBinary())
        process.arguments = ["--workspace", directory + "/ws"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        return (process, out, err)
    }

    func finish(_ p: (Process, Pipe, Pipe)) -> Finished {
        let stdout = p.1.fileHandleForReading.readDataToEndOfFile()
        let stderr = p.2.fileHandleForReading.readDataToEndOfFile()
        p.0.waitUntilExit()
        return Finished(status: p.0.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                        stderr: String(decoding: stderr, as: UTF8.self))
    }

    func testPipedInputRunsAsAScriptWithoutPrompts() throws {
        let ok = finish(try launch([], stdin: "set seed=3\necho one \\\n  two\n"))
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(ok.stdout, "seed=3 threads=2\none two\n")
        XCTAssertEqual(ok.stderr, "")

        let failing = finish(try launch([], stdin: "echo a\nhlep\necho never\n"))
        XCTAssertEqual(failing.status, 1)
        XCTAssertEqual(failing.stdout, "a\n")
        XCTAssertEqual(failing.stderr, "persona: <stdin>:2: unknown command 'hlep' (did you mean 'help'?)\n")
    }

    func testDashCRunsCommandsAndFailsOnError() throws {
        let ok = finish(try launch(["-c", "set seed=4; echo done"]))
        XCTAssertEqual(ok.status, 0)
        XCTAssertEqual(ok.stdout, "seed=4 threads=2\ndone\n")
        let bad = finish(try launch(["-c", "echo a; set seed=x; echo b"]))
        XCTAssertEqual(bad.status, 1)
        XCTAssertEqual(bad.stdout, "a\n")
        XCTAssertTrue(bad.stderr.contains("set: seed=x is not valid; expected an integer"), bad.stderr)
        let argv = finish(try launch(["echo", "from", "argv"]))
        XCTAssertEqual(argv.stdout, "from argv\n")
    }

    func testSIGINTCancelsALongCommand() throws {
        let started = monotonicSeconds()
        let running = try launch(["-c", "sleep 30; echo never"])
        try waitForInterruptHandler(running.0.processIdentifier)
        Thread.sleep(forTimeInterval: 0.2)
        running.0.interrupt()
        let result = finish(running)
        XCTAssertLessThan(monotonicSeconds() - started, 10, "sleep was not cancelled")
        XCTAssertEqual(result.status, 130)
        XCTAssertEqual(result.stdout, "")
        XCTAssertTrue(result.stderr.contains("cancelled"), result.stderr)
    }

    /// Waits until the process catches SIGINT (its handler is installed), read from
    /// /proc/PID/status, so that the signal tests do not race the process's start.
    func waitForInterruptHandler(_ pid: Int32) throws {
        let deadline = monotonicSeconds() + 20
        while monotonicSeconds() < deadline {
            if let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
               let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigCgt:") }),
               let mask = UInt64(line.dropFirst("SigCgt:".count).trimmingCharacters(in: .whitespaces), radix: 16),
               mask & (1 << (UInt64(SIGINT) - 1)) != 0 {
                return
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        XCTFail("persona never installed its SIGINT handler")
    }

    func testCancellationTokenStopsSleepInProcess() throws {
        let token = CancellationToken()
        let bench = Workbench(workspacePath: directory + "/ws", output: CapturedOutput(), cancellation: token)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { token.cancel() }
        let started = monotonicSeconds()
        XCTAssertThrowsError(try bench.execute(line: "sleep 20")) { XCTAssertTrue($0 is Cancelled) }
        XCTAssertLessThan(monotonicSeconds() - started, 5)
        // The next command runs normally: the token is cleared when a command starts.
        XCTAssertNoThrow(try bench.execute(line: "echo after"))
    }

    func testRunCheckFromTheShell() throws {
        let path = directory + "/s.persona"
        try "# check\nset seed=2\n| seed=2 threads=2\necho took 0.4 s\n| took 12 ms\n".write(toFile: path, atomically: true, encoding: .utf8)
        let ok = finish(try launch(["run", "--check", path]))
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(ok.stdout, "\(path): 2 commands replayed, every output matches the recording\n")
        try "set seed=2\n| seed=2 threads=3\n".write(toFile: path, atomically: true, encoding: .utf8)
        let bad = finish(try launch(["run", "--check", path]))
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("\(path):1: the output of 'set seed=2' differs from the recording"), bad.stderr)
        XCTAssertTrue(bad.stderr.contains("-seed=2 threads=3\n+seed=2 threads=2\n"), bad.stderr)
    }

    // MARK: The REPL in a real terminal

    /// Runs tmux and returns what it printed. Spawned and reaped directly: Foundation's
    /// Process waits on the tmux server that new-session leaves running, and never returns.
    func tmux(_ arguments: [String]) throws -> String {
        let capture = directory + "/tmux-output"
        let argv = ["tmux", "-L", "persona-test-\(getpid())"] + arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, capture, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for p in cArguments { free(p) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, "tmux", &actions, nil, &cArguments, environ)
        guard spawned == 0 else { throw MissingTestInput(message: "tmux could not be started: \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        return (try? String(contentsOfFile: capture, encoding: .utf8)) ?? ""
    }

    /// Waits until the pane shows `text` (the REPL answers asynchronously).
    func waitForPane(_ session: String, toContain text: String, timeout: Double = 10) throws -> String {
        let deadline = monotonicSeconds() + timeout
        var pane = ""
        while monotonicSeconds() < deadline {
            pane = try tmux(["capture-pane", "-p", "-t", session])
            if pane.contains(text) { return pane }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTFail("the terminal never showed \(text.debugDescription); it shows:\n\(pane)")
        return pane
    }

    func testREPLInTmuxRecallsHistoryCompletesAndSurvivesCtrlC() throws {
        guard ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"].contains(where: FileManager.default.isExecutableFile) else {
            try TestPaths.missing("tmux is not installed (scripts/setup installs it); the end-to-end REPL test needs a terminal")
            return
        }
        let binary = try Self.personaBinary()
        let session = "repl"
        // The prompt creates no workspace (it keeps the history once one exists): make it here.
        try FileManager.default.createDirectory(atPath: directory + "/ws", withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o700])
        _ = try tmux(["new-session", "-d", "-s", session, "-x", "120", "-y", "40", "-c", directory,
                      "env TERM=xterm EDITRC=/dev/null HOME=\(directory) \(binary) --workspace \(directory)/ws"])
        defer { _ = try? tmux(["kill-server"]) }
        // capture-pane drops trailing spaces: the prompt reads "persona>". The banner names the workspace.
        _ = try waitForPane(session, toContain: "persona>")
        _ = try waitForPane(session, toContain: "persona workbench, workspace \(directory)/ws\n")

        // Tab completes a command name, a key, and a choice.
        _ = try tmux(["send-keys", "-t", session, "se", "Tab"])
        _ = try waitForPane(session, toContain: "persona> set")
        _ = try tmux(["send-keys", "-t", session, "se", "Tab", "7", "Enter"])
        _ = try waitForPane(session, toContain: "seed=7 threads=2")
        _ = try tmux(["send-keys", "-t", session, "echo first line", "Enter"])
        _ = try waitForPane(session, toContain: "\nfirst line")

        // Up twice recalls the earlier command; running it again prints its output again.
        _ = try tmux(["send-keys", "-t", session, "Up", "Up", "Enter"])
        let pane = try waitForPane(session, toContain: "seed=7 threads=2\npersona> echo first line\nfirst line\npersona> set seed=7\nseed=7")
        XCTAssertFalse(pane.contains("error"), pane)

        // Ctrl-C stops a long command and the prompt comes back.
        _ = try tmux(["send-keys", "-t", session, "sleep 30", "Enter"])
        // The progress bar on the terminal shows the command is running.
        _ = try waitForPane(session, toContain: "sleep  [")
        _ = try tmux(["send-keys", "-t", session, "C-c"])
        _ = try waitForPane(session, toContain: "error: cancelled\npersona>")
        _ = try tmux(["send-keys", "-t", session, "echo still here", "Enter"])
        _ = try waitForPane(session, toContain: "\nstill here")

        // Ctrl-C at the prompt drops the line being typed.
        _ = try tmux(["send-keys", "-t", session, "echo dropped", "C-c"])
        _ = try tmux(["send-keys", "-t", session, "echo kept", "Enter"])
        let afterInterrupt = try waitForPane(session, toContain: "\nkept")
        XCTAssertFalse(afterInterrupt.contains("dropped"), afterInterrupt)

        // vi keys: Escape to command mode, x deletes the character under the cursor.
        _ = try tmux(["send-keys", "-t", session, "set editor=vi", "Enter"])
        _ = try waitForPane(session, toContain: "editor=vi")
        _ = try tmux(["send-keys", "-t", session, "echo vim", "Escape"])
        _ = try tmux(["send-keys", "-t", session, "x", "Enter"])
        _ = try waitForPane(session, toContain: "\nvi\n")

        // The history is kept in the workspace, privately.
        _ = try tmux(["send-keys", "-t", session, "C-d"])
        let historyPath = directory + "/ws/.persona_history"
        let deadline = monotonicSeconds() + 5
        while monotonicSeconds() < deadline, !(try tmux(["list-sessions"])).isEmpty { Thread.sleep(forTimeInterval: 0.05) }
        let history = try String(contentsOfFile: historyPath, encoding: .utf8)
        XCTAssertTrue(history.contains("echo\\040still\\040here"), history)
        var st = stat()
        XCTAssertEqual(stat(historyPath, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o600)
    }

    /// The live chat in a terminal: its prompt shows who is talking, two messages get two
    /// answers, /undo takes the second back, and Ctrl-D returns to the workbench prompt.
    func testLiveChatInTmux() throws {
        guard ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"].contains(where: FileManager.default.isExecutableFile) else {
            try TestPaths.missing("tmux is not installed (scripts/setup installs it); the end-to-end REPL test needs a terminal")
            return
        }
        let binary = try Self.personaBinary()
        let model = directory + "/tiny.gguf"
        try QuantizedBaseTests.writeTinyFloatModel(to: model)
        let session = "chat"
        _ = try tmux(["new-session", "-d", "-s", session, "-x", "160", "-y", "50", "-c", directory,
                      "env TERM=xterm EDITRC=/dev/null HOME=\(directory) \(binary) --workspace \(directory)/ws"])
        defer { _ = try? tmux(["kill-server"]) }
        _ = try waitForPane(session, toContain: "persona>")
        _ = try tmux(["send-keys", "-t", session, "model tiny \(model)", "Enter"])
        _ = try waitForPane(session, toContain: "\ntiny: ")
        _ = try tmux(["send-keys", "-t", session, "sampler short max_tokens=4", "Enter"])
        _ = try waitForPane(session, toContain: "sampler short created")
        _ = try tmux(["send-keys", "-t", session, "chat as=Alex with=Sam --invent model=tiny sampler=short seed=4", "Enter"])
        _ = try waitForPane(session, toContain: "/end or Ctrl-D returns to the workbench\nSam (to Alex)>")

        _ = try tmux(["send-keys", "-t", session, "first line", "Enter"])
        _ = try waitForPane(session, toContain: "Sam (to Alex)> first line\nAlex:")
        // Tab completes nothing in the chat ("se" would become "set" at the workbench prompt).
        _ = try tmux(["send-keys", "-t", session, "se", "Tab", "cond line", "Enter"])
        let answered = try waitForPane(session, toContain: "Sam (to Alex)> second line\nAlex:")
        XCTAssertFalse(answered.contains("error"), answered)
        _ = try tmux(["send-keys", "-t", session, "/undo", "Enter"])
        _ = try waitForPane(session, toContain: "Sam (to Alex)> /undo\ntook back \"second line\" and the answer; 2 turns left\nSam (to Alex)>")
        _ = try tmux(["send-keys", "-t", session, "C-d"])
        _ = try waitForPane(session, toContain: "chat with Alex ended: 2 turns, not saved\npersona>")
        _ = try tmux(["send-keys", "-t", session, "echo at the workbench", "Enter"])
        _ = try waitForPane(session, toContain: "\nat the workbench\npersona>")
    }
}
