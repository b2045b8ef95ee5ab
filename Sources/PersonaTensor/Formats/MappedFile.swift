#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory. Views into it stay valid while this object lives.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let size: Int
    /// The first byte; nil for an empty file (mmap rejects length 0).
    private let base: UnsafeRawPointer?

    public init(path: String) throws {
        self.path = path
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw TensorError.unreadableFile(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw TensorError.unreadableFile(path: path, reason: String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw TensorError.unreadableFile(path: path, reason: "not a regular file")
        }
        size = Int(info.st_size)
        if size == 0 {
            base = nil
            return
        }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), mapped != MAP_FAILED else {
            throw TensorError.unreadableFile(path: path, reason: "mmap failed: " + String(cString: strerror(errno)))
        }
        base = UnsafeRawPointer(mapped)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), size) }
    }

    /// All bytes of the file.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: size) }

    /// Tells the kernel that the pages wholly inside `range` are not needed now: this read-only
    /// private mapping drops them, and reads them back from the file if they are touched again
    /// (so a quantized copy's source stops counting as resident). Ranges outside it are ignored.
    public func releasePages(_ range: UnsafeRawBufferPointer) {
        guard let base, let start = range.baseAddress, start >= base, range.count <= size - (start - base) else { return }
        let page = max(1, Int(sysconf(Int32(_SC_PAGESIZE))))
        let low = (Int(bitPattern: start) + page - 1) / page * page
        let high = (Int(bitPattern: start) + range.count) / page * page
        guard high > low, let pointer = UnsafeMutableRawPointer(bitPattern: low) else { return }
        _ = madvise(pointer, high - low, Int32(MADV_DONTNEED))
    }

    /// `count` bytes from `offset`; the caller has checked the range against `size`.
    public func slice(offset: Int, count: Int) -> UnsafeRawBufferPointer {
        guard let base, offset >= 0, count >= 0, offset <= size, count <= size - offset else {
            return UnsafeRawBufferPointer(start: nil, count: 0)
        }
        return UnsafeRawBufferPointer(start: base + offset, count: count)
    }
}
