/// A contiguous, owned array of `Float` allocated once and reused across calls: the storage
/// of activations, scratch space and small weights. Reference semantics on purpose, so that
/// a forward pass can hand the same buffer to several kernels without copies.
public final class FloatBuffer: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    /// A zero-filled buffer of `count` floats (64-byte aligned for SIMD loads).
    public init(count: Int) {
        self.count = max(count, 0)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(self.count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(self.count, 1))
        pointer.initialize(repeating: 0, count: max(self.count, 1))
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit { pointer.deallocate() }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    public var array: [Float] { Array(buffer) }

    public func zero() { pointer.update(repeating: 0, count: count) }

    /// The `rows` floats starting at row `row` of a row-major matrix with `columns` columns.
    @inlinable
    public func row(_ row: Int, columns: Int) -> UnsafeMutablePointer<Float> { pointer + row * columns }
}
