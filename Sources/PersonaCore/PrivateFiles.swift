import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum FileError: UserFacingError {
    case cannotCreateDirectory(path: String, reason: String)
    case cannotWrite(path: String, reason: String)
    case cannotRead(path: String, reason: String)

    public var message: String {
        switch self {
        case .cannotCreateDirectory(let path, let reason): return "\(path): cannot create directory: \(reason)"
        case .cannotWrite(let path, let reason): return "\(path): cannot write: \(reason)"
        case .cannotRead(let path, let reason): return "\(path): cannot read: \(reason)"
        }
    }
}

/// Message histories are private: everything persona writes is readable by its owner only
/// (directories 0700, files 0600), and files appear whole or not at all.
public enum PrivateFiles {
    /// Creates `path` (and missing parents) with mode 0700; tightens an existing directory.
    public static func makeDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw FileError.cannotCreateDirectory(path: path, reason: "a file of that name exists")
            }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw FileError.cannotCreateDirectory(path: path, reason: error.localizedDescription)
            }
        }
        chmod(path, 0o700)
    }

    /// Writes `data` to a temporary file beside `path`, syncs it, and renames it into place,
    /// so that a reader (or a crash) sees either the old file or the new one, never a part.
    public static func writeAtomically(_ data: Data, to path: String, mode: mode_t = 0o600) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        let temporary = (directory.isEmpty ? "." : directory) + "/.\(base).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileError.cannotWrite(path: path, reason: String(cString: strerror(errno))) }
        var failure: String?
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = String(cString: strerror(errno)); return
                }
                offset += n
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        close(fd)
        if let failure {
            unlink(temporary)
            throw FileError.cannotWrite(path: path, reason: failure)
        }
        fchmodPath(temporary, mode)
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw FileError.cannotWrite(path: path, reason: reason)
        }
    }

    public static func writeAtomically(_ text: String, to path: String, mode: mode_t = 0o600) throws {
        try writeAtomically(Data(text.utf8), to: path, mode: mode)
    }

    private static func fchmodPath(_ path: String, _ mode: mode_t) { chmod(path, mode) }
}
