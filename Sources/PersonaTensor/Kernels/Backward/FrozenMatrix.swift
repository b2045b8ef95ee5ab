/// A frozen weight matrix [rows, columns] (row-major, out × in) that hands out float32 rows
/// on demand. Quantized storage dequantizes a tile of rows at a time, so the products with
/// frozen weights in the backward pass never need the whole matrix in float32.
public protocol FrozenMatrix {
    var rows: Int { get }
    var columns: Int { get }
    /// Writes rows `range` as float32 into `destination` ([range.count, columns]).
    func dequantizeRows(_ range: Range<Int>, into destination: UnsafeMutablePointer<Float>)
}

/// A float32 matrix that is already dense: rows are copied out (the kernels then treat every
/// frozen matrix alike). `contiguousRows` lets kernels skip the copy.
public struct DenseFrozenMatrix: FrozenMatrix {
    public let rows: Int
    public let columns: Int
    /// [rows, columns]
    public let values: UnsafePointer<Float>

    public init(rows: Int, columns: Int, values: UnsafePointer<Float>) {
        self.rows = rows; self.columns = columns; self.values = values
    }

    public func dequantizeRows(_ range: Range<Int>, into destination: UnsafeMutablePointer<Float>) {
        destination.update(from: values + range.lowerBound * columns, count: range.count * columns)
    }
}
