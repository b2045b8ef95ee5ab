#if canImport(Glibc)
import Glibc
#endif

/// A flag that Ctrl-C raises and long work polls between units of work (a step, a file,
/// a batch of rows). Cancelling stops the running command, never the REPL.
public final class CancellationToken: @unchecked Sendable {
    // Written from a signal handler: a plain word read and written whole.
    private let flag: UnsafeMutablePointer<Int32>

    public init() {
        flag = .allocate(capacity: 1)
        flag.initialize(to: 0)
    }
    deinit { flag.deallocate() }

    public var isCancelled: Bool { flag.pointee != 0 }
    public func cancel() { flag.pointee = 1 }
    public func reset() { flag.pointee = 0 }

    /// Throws `Cancelled` when the flag is raised.
    public func check() throws { if isCancelled { throw Cancelled() } }

    /// The token Ctrl-C raises in this process.
    public static let interrupt = CancellationToken()
}

public struct Cancelled: UserFacingError {
    public init() {}
    public var message: String { "cancelled" }
}
