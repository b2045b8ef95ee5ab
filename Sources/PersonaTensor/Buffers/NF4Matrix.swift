/// A matrix quantized to NF4 in owned buffers, laid out as bitsandbytes lays out the flattened
/// row-major tensor: packed codes (`rows · columns / 2` bytes, rows of whole blocks, so blocks
/// never straddle rows) and one absmax per block of 64, kept as float32 or double-quantized.
/// `weightMatrix(name:)` exposes it to the kernels as `.blocks`, read a row tile at a time.
public final class NF4Matrix: @unchecked Sendable {
    public let rows: Int
    public let columns: Int
    public let packed: UnsafeMutablePointer<UInt8>
    /// Per-block absmax as float32 (nil when double-quantized).
    public let absmax: [Float]?
    public let doubleQuantized: NF4.DoubleQuantized?

    /// Quantizes `rows` rows of `columns` weights, read a tile at a time by `readRows`
    /// (rows `range` as float32 into the pointer); `columns` must be a multiple of 64.
    public init(rows: Int, columns: Int, doubleQuantize: Bool,
                readRows: (Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
        precondition(columns % NF4.blockSize == 0 && rows > 0)
        self.rows = rows; self.columns = columns
        let count = rows * columns
        let packed = UnsafeMutablePointer<UInt8>.allocate(capacity: count / 2)
        self.packed = packed
        var scales = [Float](repeating: 0, count: count / NF4.blockSize)
        let tileRows = max(1, 16_384 / columns)
        let tile = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * columns)
        defer { tile.deallocate() }
        scales.withUnsafeMutableBufferPointer { s in
            for r0 in stride(from: 0, to: rows, by: tileRows) {
                let r1 = min(rows, r0 + tileRows)
                readRows(r0..<r1, tile)
                NF4.quantize(tile, count: (r1 - r0) * columns, packed: packed + r0 * columns / 2,
                             absmax: s.baseAddress! + r0 * columns / NF4.blockSize)
            }
        }
        if doubleQuantize {
            doubleQuantized = scales.withUnsafeBufferPointer { NF4.doubleQuantize($0.baseAddress!, count: $0.count) }
            absmax = nil
        } else {
            doubleQuantized = nil
            absmax = scales
        }
    }

    deinit { packed.deallocate() }

    public var formatName: String { doubleQuantized == nil ? "NF4" : "NF4-DQ" }

    /// Bytes held: codes plus scales.
    public var byteCount: Int {
        rows * columns / 2 + (doubleQuantized?.byteCount ?? 4 * (absmax?.count ?? 0))
    }

    /// Dequantizes `count` weights (whole blocks) starting at weight `start` of the flattened matrix.
    public func dequantize(start: Int, count: Int, into out: UnsafeMutablePointer<Float>) {
        let firstBlock = start / NF4.blockSize, blocks = count / NF4.blockSize
        if let absmax {
            absmax.withUnsafeBufferPointer { a in
                NF4.dequantize(packed + start / 2, absmax: a.baseAddress! + firstBlock, count: count, into: out)
            }
        } else if let dq = doubleQuantized {
            withUnsafeTemporaryAllocation(of: Float.self, capacity: max(blocks, 1)) { a in
                for b in 0..<blocks { a[b] = dq.absmax(firstBlock + b) }
                NF4.dequantize(packed + start / 2, absmax: a.baseAddress!, count: count, into: out)
            }
        }
    }

    /// The matrix as the kernels take it (`NF4` or `NF4-DQ` blocks; this object owns the bytes).
    public func weightMatrix(name: String) -> WeightMatrix {
        let base = UnsafeRawPointer(packed), start = Int(bitPattern: base)
        let rowBytes = columns / 2
        return WeightMatrix(name: name, rows: rows, columns: columns,
                            storage: .blocks(base, name: formatName, rowBytes: rowBytes, dequantizeRow: { [self] p, n, out in
                                dequantize(start: (Int(bitPattern: p) - start) * 2, count: n, into: out)
                            }), owner: self)
    }
}
