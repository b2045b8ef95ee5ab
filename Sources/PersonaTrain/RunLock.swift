import Foundation
import PersonaCore

/// The claim of one process on one training run: an exclusive `flock` on `run.lock` in the
/// run's folder, with the holder's process id written inside. The kernel drops the lock when
/// the process ends however it ends (kill -9, power loss), so a lock nobody holds means the
/// run is not being trained, whatever the database last said.
///
/// flock rather than fcntl: fcntl locks belong to the process, so probing a run from the
/// process that trains it would succeed, and closing any descriptor of the file would drop the
/// claim; a flock belongs to one open file description.
public final class RunLock {
    public static let fileName = "run.lock"
    public let directory: String
    private var descriptor: Int32

    private init(directory: String, descriptor: Int32) {
        self.directory = directory; self.descriptor = descriptor
    }

    deinit { release() }

    /// Claims the run whose folder is `directory`; throws `TrainError.runHeld` naming the
    /// holder when another process (or another session of this one) trains it.
    public static func acquire(directory: String, run: Int64) throws -> RunLock {
        try PrivateFiles.makeDirectory(directory)
        let path = directory + "/" + fileName
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw TrainError.badFile(path: path, reason: "cannot be opened: \(String(cString: strerror(errno)))") }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            let reason = errno
            close(fd)
            if reason == EWOULDBLOCK { throw TrainError.runHeld(run: run, pid: holderPID(path: path)) }
            throw TrainError.badFile(path: path, reason: "cannot be locked: \(String(cString: strerror(reason)))")
        }
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return RunLock(directory: directory, descriptor: fd)
    }

    /// Whether some process holds the run's lock (this one included), and its pid when written.
    public static func holder(directory: String) -> (held: Bool, pid: Int32?) {
        let path = directory + "/" + fileName
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return (false, nil) }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return (false, nil)
        }
        return (true, holderPID(path: path))
    }

    static func holderPID(path: String) -> Int32? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Gives the run up (also when this object goes away, or the process ends).
    public func release() {
        guard descriptor >= 0 else { return }
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }
}
