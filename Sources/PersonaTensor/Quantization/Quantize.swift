import Foundation

/// Quantizers from float32 (the QLoRA recipe's frozen base): NF4 as bitsandbytes makes it,
/// with optional double quantization of the block scales, and Q8_0 as ggml makes it
/// (`QuantizedBlocks.quantizeQ8_0`, checked bit for bit against gguf-py).
///
/// NF4 (Dettmers et al. 2023, bitsandbytes `quantize_4bit(quant_type="nf4")`):
/// - blocks of 64 consecutive weights; each block keeps its absmax as float32;
/// - each weight x becomes the index of the code nearest to clamp(x · (1/absmax), −1, 1),
///   the decision thresholds being the float32 midpoints of neighbouring codes, a weight on a
///   threshold going to the lower code (torch.bucketize, as bitsandbytes' CPU path does);
/// - two codes per byte, the first element of each pair in the high nibble;
/// - value = code[q] · absmax (float32).
/// Double quantization (`compress_statistics=True`): offset = mean of all absmax values; the
/// values absmax − offset are quantized in groups of 256 to 8 bits with bitsandbytes' signed
/// dynamic map (one float32 absmax per group, nearest code); absmax ≈ map[q] · scale + offset.
public enum NF4 {
    public static let blockSize = 64
    /// Blocks of absmax values that share one float32 scale under double quantization.
    public static let doubleQuantGroup = 256

    /// bitsandbytes' NF4 code book (the float32 values of its table, ascending).
    public static let codebook: [Float] = [
        -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
        -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
        0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
        0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
    ]

    /// Decision thresholds: float32 midpoints of neighbouring codes.
    public static let thresholds: [Float] = (0..<15).map { (codebook[$0] + codebook[$0 + 1]) / 2 }

    /// The largest gap between neighbouring codes (bounds the rounding error at half of it).
    public static let largestGap: Float = (0..<15).map { codebook[$0 + 1] - codebook[$0] }.max()!

    /// The code of a scaled weight in [−1, 1]: how many thresholds lie strictly below it.
    @inline(__always)
    public static func code(_ scaled: Float) -> UInt8 {
        var q = 0
        for t in thresholds where t < scaled { q += 1 }
        return UInt8(q)
    }

    /// Quantizes `count` weights (a multiple of 64) into `count / 2` packed bytes and
    /// `count / 64` absmax values. Each code is the count of thresholds below the scaled
    /// weight, counted without branches.
    public static func quantize(_ x: UnsafePointer<Float>, count: Int, packed: UnsafeMutablePointer<UInt8>,
                                absmax: UnsafeMutablePointer<Float>) {
        precondition(count % blockSize == 0, "NF4 quantizes whole blocks of 64")
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { thresholdBuffer in
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: blockSize) { codeBuffer in
            let t = thresholdBuffer.baseAddress!, codes = codeBuffer.baseAddress!
            for i in 0..<15 { t[i] = thresholds[i] }
            for b in 0..<(count / blockSize) {
                let block = x + b * blockSize
                var m: Float = 0
                for j in 0..<blockSize { m = max(m, abs(block[j])) }
                absmax[b] = m
                let inverse = 1 / max(m, 1e-38)
                for j in 0..<blockSize {
                    let scaled = min(max(block[j] * inverse, -1), 1)
                    // t < s exactly when t − s is negative (two distinct floats never subtract
                    // to zero): counting sign bits keeps the loop free of branches.
                    var q: UInt32 = 0
                    for i in 0..<15 { q &+= (t[i] - scaled).bitPattern >> 31 }
                    codes[j] = UInt8(truncatingIfNeeded: q)
                }
                let out = packed + b * blockSize / 2
                for k in 0..<(blockSize / 2) { out[k] = codes[2 * k] << 4 | codes[2 * k + 1] }
            }
        }
        }
    }

    /// Each byte's two code values (high nibble first): a dequantization table.
    static let pairs: [SIMD2<Float>] = (0..<256).map { SIMD2(codebook[$0 >> 4], codebook[$0 & 15]) }

    /// Dequantizes `count` weights (whole blocks) from packed codes and per-block absmax.
    public static func dequantize(_ packed: UnsafePointer<UInt8>, absmax: UnsafePointer<Float>, count: Int,
                                  into out: UnsafeMutablePointer<Float>) {
        pairs.withUnsafeBufferPointer { table in
            let o = UnsafeMutableRawPointer(out)
            for b in 0..<(count / blockSize) {
                let scale = SIMD2<Float>(repeating: absmax[b])
                for j in 0..<(blockSize / 2) {
                    let byte = Int(packed[b * blockSize / 2 + j])
                    o.storeBytes(of: table[byte] * scale, toByteOffset: (b * blockSize + 2 * j) * 4, as: SIMD2<Float>.self)
                }
            }
        }
    }

    // MARK: Double quantization

    /// Absmax values quantized to 8 bits (bitsandbytes `compress_statistics=True`).
    public struct DoubleQuantized: Sendable {
        /// The mean of the absmax values, subtracted before quantizing.
        public var offset: Float
        /// One 8-bit dynamic-map code per block.
        public var codes: [UInt8]
        /// One float32 absmax per group of 256 codes.
        public var scales: [Float]

        /// The absmax of block `b` as dequantization uses it: map[code] · scale + offset.
        @inline(__always)
        public func absmax(_ b: Int) -> Float {
            DynamicMap.signed[Int(codes[b])] * scales[b / NF4.doubleQuantGroup] + offset
        }

        /// Bytes stored: codes, scales and the offset.
        public var byteCount: Int { codes.count + 4 * scales.count + 4 }
    }

    /// Double-quantizes `count` absmax values.
    public static func doubleQuantize(_ absmax: UnsafePointer<Float>, count: Int) -> DoubleQuantized {
        // torch's float32 mean; a sequential float32 sum gives its value on the fixtures (torch's
        // cascade summation can differ by an ulp on other inputs; the offset is stored, so any
        // value is consistent).
        var sum: Float = 0
        for i in 0..<count { sum += absmax[i] }
        let offset = count == 0 ? 0 : sum / Float(count)
        var centered = [Float](repeating: 0, count: count)
        for i in 0..<count { centered[i] = absmax[i] - offset }
        let groups = (count + doubleQuantGroup - 1) / doubleQuantGroup
        var codes = [UInt8](repeating: 0, count: count)
        var scales = [Float](repeating: 0, count: groups)
        for g in 0..<groups {
            let range = (g * doubleQuantGroup)..<min(count, (g + 1) * doubleQuantGroup)
            var m: Float = 0
            for i in range { m = max(m, abs(centered[i])) }
            scales[g] = m
            for i in range { codes[i] = DynamicMap.nearest(m == 0 ? 0 : centered[i] / m) }
        }
        return DoubleQuantized(offset: offset, codes: codes, scales: scales)
    }
}

/// bitsandbytes' signed 8-bit dynamic map (`create_dynamic_map(signed=True)`): for exponent
/// i = 0…6, the midpoints of 2^i + 1 evenly spaced points in [0.1, 1] times 10^(i−6), with
/// both signs, plus 0 and 1, ascending. Computed in float32 the way torch computes it.
public enum DynamicMap {
    public static let signed: [Float] = {
        var data: [Float] = []
        for i in 0..<7 {
            let points = linspace(0.1, 1, count: (1 << i) + 1)
            let scale = Float(pow(10.0, Double(i - 6)))
            for k in 0..<(points.count - 1) {
                let mean = (points[k] + points[k + 1]) / 2
                data.append(scale * mean)
                data.append(-scale * mean)
            }
        }
        data.append(0)
        data.append(1)
        precondition(data.count == 256)
        return data.sorted()
    }()

    /// torch.linspace in float32 as its CPU kernel computes it: the first half counted up from
    /// the start, the rest down from the end, each point one fused multiply-add (torch is built
    /// with contraction; unfused products differ from its table in a few last bits).
    static func linspace(_ start: Float, _ end: Float, count: Int) -> [Float] {
        guard count > 1 else { return [start] }
        let step = (end - start) / Float(count - 1)
        let halfway = count / 2
        return (0..<count).map { i in
            i < halfway ? start.addingProduct(step, Float(i)) : end.addingProduct(-step, Float(count - i - 1))
        }
    }

    /// The index of the map value nearest to `x` (ties to the lower index).
    public static func nearest(_ x: Float) -> UInt8 {
        let map = signed
        var lo = 0, hi = map.count - 1
        if x <= map[lo] { return 0 }
        if x >= map[hi] { return UInt8(hi) }
        while hi - lo > 1 {  // map[lo] < x < map[hi] (or equal at lo)
            let mid = (lo + hi) / 2
            if map[mid] <= x { lo = mid } else { hi = mid }
        }
        return abs(map[hi] - x) < abs(x - map[lo]) ? UInt8(hi) : UInt8(lo)
    }
}
