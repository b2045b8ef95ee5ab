/// A weight matrix of `rows` (outputs) × `columns` (inputs), row-major, kept in the format
/// it was stored in: float32, or blocks of quantized weights that kernels read directly.
/// The matrix does not own its bytes; `owner` keeps whatever does (a mapped file, a buffer)
/// alive for as long as the matrix is.
public struct WeightMatrix: @unchecked Sendable {
    public enum Storage {
        /// [rows, columns] float32.
        case f32(UnsafePointer<Float>)
        /// Q8_0 blocks, `columns / 32` per row.
        case q8_0(UnsafeRawPointer)
        /// Q4_1 blocks, `columns / 32` per row.
        case q4_1(UnsafeRawPointer)
        /// Any other block format: `rowBytes` per row and a function that dequantizes one
        /// row of `columns` weights (from the formats layer).
        case blocks(UnsafeRawPointer, name: String, rowBytes: Int, dequantizeRow: @Sendable (UnsafeRawPointer, Int, UnsafeMutablePointer<Float>) -> Void)
    }

    public let name: String
    public let rows: Int
    public let columns: Int
    public let storage: Storage
    public let owner: AnyObject?

    public init(name: String, rows: Int, columns: Int, storage: Storage, owner: AnyObject?) {
        self.name = name; self.rows = rows; self.columns = columns; self.storage = storage; self.owner = owner
    }

    /// A float32 matrix that owns a copy of `values` ([rows, columns]).
    public static func f32(name: String, rows: Int, columns: Int, values: FloatBuffer) -> WeightMatrix {
        WeightMatrix(name: name, rows: rows, columns: columns, storage: .f32(UnsafePointer(values.pointer)), owner: values)
    }

    /// The storage format's name (`F32`, `Q8_0`, `Q4_1`, …).
    public var formatName: String {
        switch storage {
        case .f32: return "F32"
        case .q8_0: return "Q8_0"
        case .q4_1: return "Q4_1"
        case .blocks(_, let name, _, _): return name
        }
    }

    /// Bytes of one stored row.
    public var rowBytes: Int {
        switch storage {
        case .f32: return columns * 4
        case .q8_0: return columns / 32 * QuantizedBlocks.q8_0Bytes
        case .q4_1: return columns / 32 * QuantizedBlocks.q4_1Bytes
        case .blocks(_, _, let rowBytes, _): return rowBytes
        }
    }

    /// Writes rows `rowRange` as float32 into `out` ([rowRange.count, columns]).
    public func dequantizeRows(_ rowRange: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        switch storage {
        case .f32(let p):
            out.update(from: p + rowRange.lowerBound * columns, count: rowRange.count * columns)
        case .q8_0(let p):
            QuantizedBlocks.dequantizeQ8_0Fast(p + rowRange.lowerBound * rowBytes, count: rowRange.count * columns, into: out)
        case .q4_1(let p):
            QuantizedBlocks.dequantizeQ4_1Fast(p + rowRange.lowerBound * rowBytes, count: rowRange.count * columns, into: out)
        case .blocks(let p, _, let rowBytes, let dequantizeRow):
            for (i, r) in rowRange.enumerated() { dequantizeRow(p + r * rowBytes, columns, out + i * columns) }
        }
    }

    /// One row as float32 (an embedding lookup).
    public func row(_ r: Int, into out: UnsafeMutablePointer<Float>) { dequantizeRows(r..<(r + 1), into: out) }
}
