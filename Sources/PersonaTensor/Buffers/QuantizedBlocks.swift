/// Block layouts that the fused kernels read directly. Each is the ggml layout
/// (ggml-common.h): 32 weights per block, scales stored as IEEE half floats.
///
/// Q8_0: `d: f16, qs: int8[32]`                      value[j] = d · qs[j]
/// Q4_1: `d: f16, m: f16, qs: uint8[16]`             value[j] = d · (qs[j] & 0xF) + m,
///                                                   value[j + 16] = d · (qs[j] >> 4) + m
public enum QuantizedBlocks {
    public static let weightsPerBlock = 32
    public static let q8_0Bytes = 34
    public static let q4_1Bytes = 20

    /// 16 signed bytes as float lanes. Written as a lane loop on purpose: LLVM turns it into
    /// vpmovsxbd + vcvtdq2ps, while the generic `SIMD16<Float>(SIMD16<Int32>(…))` conversion
    /// stays an out-of-line call per vector here (measured 4× slower).
    @inline(__always) @usableFromInline
    static func floats(int8 p: UnsafePointer<Int8>) -> SIMD16<Float> {
        var f = SIMD16<Float>()
        for j in 0..<16 { f[j] = Float(p[j]) }
        return f
    }

    /// The low and high nibbles of 16 bytes as float lanes (see `floats(int8:)`).
    @inline(__always) @usableFromInline
    static func floats(nibbles p: UnsafePointer<UInt8>) -> (low: SIMD16<Float>, high: SIMD16<Float>) {
        var low = SIMD16<Float>(), high = SIMD16<Float>()
        for j in 0..<16 {
            let byte = p[j]
            low[j] = Float(byte & 0x0F)
            high[j] = Float(byte >> 4)
        }
        return (low, high)
    }

    /// Fast dequantization of whole Q8_0 blocks (tiles of the batched path). Same values as
    /// `dequantizeQ8_0`: one rounding per product.
    public static func dequantizeQ8_0Fast(_ source: UnsafeRawPointer, count: Int, into out: UnsafeMutablePointer<Float>) {
        let o = UnsafeMutableRawPointer(out)
        for b in 0..<(count / 32) {
            let block = source + b * q8_0Bytes
            let d = SIMD16<Float>(repeating: half(block, 0))
            let q = (block + 2).assumingMemoryBound(to: Int8.self)
            o.storeBytes(of: d * floats(int8: q), toByteOffset: b * 128, as: SIMD16<Float>.self)
            o.storeBytes(of: d * floats(int8: q + 16), toByteOffset: b * 128 + 64, as: SIMD16<Float>.self)
        }
    }

    /// Fast dequantization of whole Q4_1 blocks: d·q then + m, two roundings as gguf-py
    /// computes them (no fused multiply-add), so tiles equal `dequantizeQ4_1` bit for bit.
    public static func dequantizeQ4_1Fast(_ source: UnsafeRawPointer, count: Int, into out: UnsafeMutablePointer<Float>) {
        let o = UnsafeMutableRawPointer(out)
        for b in 0..<(count / 32) {
            let block = source + b * q4_1Bytes
            let d = SIMD16<Float>(repeating: half(block, 0)), m = SIMD16<Float>(repeating: half(block, 2))
            let (low, high) = floats(nibbles: (block + 4).assumingMemoryBound(to: UInt8.self))
            o.storeBytes(of: d * low + m, toByteOffset: b * 128, as: SIMD16<Float>.self)
            o.storeBytes(of: d * high + m, toByteOffset: b * 128 + 64, as: SIMD16<Float>.self)
        }
    }

    @inline(__always) @usableFromInline
    static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    /// Plain dequantization of `count` Q8_0 weights (a multiple of 32): the naive twin of
    /// the fused kernels and the tile source of the batched path.
    public static func dequantizeQ8_0(_ source: UnsafeRawPointer, count: Int, into out: UnsafeMutablePointer<Float>) {
        for b in 0..<(count / 32) {
            let block = source + b * q8_0Bytes
            let d = half(block, 0)
            let qs = (block + 2).assumingMemoryBound(to: Int8.self)
            for j in 0..<32 { out[b * 32 + j] = d * Float(qs[j]) }
        }
    }

    public static func dequantizeQ4_1(_ source: UnsafeRawPointer, count: Int, into out: UnsafeMutablePointer<Float>) {
        for b in 0..<(count / 32) {
            let block = source + b * q4_1Bytes
            let d = half(block, 0), m = half(block, 2)
            let qs = (block + 4).assumingMemoryBound(to: UInt8.self)
            for j in 0..<16 {
                out[b * 32 + j] = d * Float(qs[j] & 0x0F) + m
                out[b * 32 + j + 16] = d * Float(qs[j] >> 4) + m
            }
        }
    }

    /// Round-to-nearest Q8_0 quantization as ggml does it (d = max|x| / 127); used to make
    /// quantized fixtures for tests of the fused kernels.
    public static func quantizeQ8_0(_ values: UnsafePointer<Float>, count: Int, into out: UnsafeMutableRawPointer) {
        for b in 0..<(count / 32) {
            var amax: Float = 0
            for j in 0..<32 { amax = max(amax, abs(values[b * 32 + j])) }
            let d = amax / 127
            let inverse: Float = d == 0 ? 0 : 1 / d
            let block = out + b * q8_0Bytes
            block.storeBytes(of: Float16(d).bitPattern, toByteOffset: 0, as: UInt16.self)
            for j in 0..<32 {
                let q = Int8(clamping: Int((values[b * 32 + j] * inverse).rounded()))
                block.storeBytes(of: q, toByteOffset: 2 + j, as: Int8.self)
            }
        }
    }

    /// Q4_1 quantization as ggml does it (d = (max − min) / 15, m = min).
    public static func quantizeQ4_1(_ values: UnsafePointer<Float>, count: Int, into out: UnsafeMutableRawPointer) {
        for b in 0..<(count / 32) {
            var lo = Float.infinity, hi = -Float.infinity
            for j in 0..<32 { lo = min(lo, values[b * 32 + j]); hi = max(hi, values[b * 32 + j]) }
            let d = (hi - lo) / 15
            let inverse: Float = d == 0 ? 0 : 1 / d
            let block = out + b * q4_1Bytes
            block.storeBytes(of: Float16(d).bitPattern, toByteOffset: 0, as: UInt16.self)
            block.storeBytes(of: Float16(lo).bitPattern, toByteOffset: 2, as: UInt16.self)
            for j in 0..<16 {
                let a = UInt8(min(15, max(0, Int(((values[b * 32 + j] - lo) * inverse).rounded()))))
                let c = UInt8(min(15, max(0, Int(((values[b * 32 + j + 16] - lo) * inverse).rounded()))))
                block.storeBytes(of: a | (c << 4), toByteOffset: 4 + j, as: UInt8.self)
            }
        }
    }
}
