/// Progress of long work. Libraries report through this; the session decides how it is
/// shown (a bar with rate and ETA on a terminal, nothing in scripts or recordings).
public protocol ProgressReporter: AnyObject {
    func begin(_ label: String, total: Int?, unit: String)
    func advance(to done: Int, detail: String?)
    func finish()
}

extension ProgressReporter {
    public func advance(to done: Int) { advance(to: done, detail: nil) }
}

/// Reports nothing: for tests and non-interactive runs.
public final class SilentProgress: ProgressReporter {
    public init() {}
    public func begin(_ label: String, total: Int?, unit: String) {}
    public func advance(to done: Int, detail: String?) {}
    public func finish() {}
}
