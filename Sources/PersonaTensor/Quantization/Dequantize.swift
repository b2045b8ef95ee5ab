import Dispatch
import Foundation

/// Converts `count` elements of `type` at `source` to Float, bit-exact with gguf-py's
/// `gguf.quants.dequantize` (see `BlockLayout` for the formulas and their rounding order).
///
/// `count` must be a multiple of `type.blockSize`; trailing elements that do not form a whole
/// block, and every element of a type that is not `isDequantizable`, are set to NaN (callers that
/// read types from a file check `isDequantizable` first, as `ModelFile` does).
public func dequantize(_ type: GGMLType, _ source: UnsafeRawPointer, count: Int,
                       into destination: UnsafeMutablePointer<Float>) {
    guard count > 0 else { return }
    let blocks = count / type.blockSize
    switch type {
    case .f32: UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: 4 * blocks)
    case .f16: dequantizeF16(source, count: blocks, into: destination)
    case .bf16: dequantizeBF16(source, count: blocks, into: destination)
    case .q4_0: for b in 0..<blocks { dequantizeQ4_0Block(source + b * 18, destination + b * 32) }
    case .q4_1: for b in 0..<blocks { dequantizeQ4_1Block(source + b * 20, destination + b * 32) }
    case .q5_0: for b in 0..<blocks { dequantizeQ5Block(source + b * 22, destination + b * 32, hasMin: false) }
    case .q5_1: for b in 0..<blocks { dequantizeQ5Block(source + b * 24, destination + b * 32, hasMin: true) }
    case .q8_0: for b in 0..<blocks { dequantizeQ8_0Block(source + b * 34, destination + b * 32) }
    case .q4_K: for b in 0..<blocks { dequantizeQ45KBlock(source + b * 144, destination + b * 256, fifthBit: false) }
    case .q5_K: for b in 0..<blocks { dequantizeQ45KBlock(source + b * 176, destination + b * 256, fifthBit: true) }
    case .q6_K: for b in 0..<blocks { dequantizeQ6KBlock(source + b * 210, destination + b * 256) }
    default:
        (destination).update(repeating: .nan, count: count)
        return
    }
    let done = blocks * type.blockSize
    if done < count { (destination + done).update(repeating: .nan, count: count - done) }
}

/// Bytes of one row of `rowLength` elements (`rowLength` a multiple of the block size).
@inlinable
public func rowByteCount(_ type: GGMLType, rowLength: Int) -> Int {
    rowLength / type.blockSize * type.blockBytes
}

/// Dequantizes rows `rows` of a matrix whose rows hold `rowLength` elements (the innermost GGUF
/// dimension) and start at `source`; row `rows.lowerBound` lands at `destination`.
public func dequantizeRows(_ type: GGMLType, _ source: UnsafeRawPointer, rowLength: Int, rows: Range<Int>,
                           into destination: UnsafeMutablePointer<Float>) {
    guard !rows.isEmpty else { return }
    let stride = rowByteCount(type, rowLength: rowLength)
    dequantize(type, source + rows.lowerBound * stride, count: rows.count * rowLength, into: destination)
}

/// `dequantizeRows` split across `threads` threads (for whole tensors at load time).
public func dequantizeRowsParallel(_ type: GGMLType, _ source: UnsafeRawPointer, rowLength: Int, rows: Range<Int>,
                                   into destination: UnsafeMutablePointer<Float>, threads: Int) {
    let workers = max(1, min(threads, rows.count / 64))
    if workers <= 1 {
        dequantizeRows(type, source, rowLength: rowLength, rows: rows, into: destination)
        return
    }
    nonisolated(unsafe) let source = source
    nonisolated(unsafe) let destination = destination
    let chunk = (rows.count + workers - 1) / workers
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
        let start = rows.lowerBound + worker * chunk
        let end = min(rows.upperBound, start + chunk)
        guard start < end else { return }
        dequantizeRows(type, source, rowLength: rowLength, rows: start..<end,
                       into: destination + (start - rows.lowerBound) * rowLength)
    }
}

// MARK: - Kernels (16 lanes at a time)
//
// The standard library's generic SIMD conversions (UInt8 → Int32 → Float lanes) are not inlined
// and cost a call per 16 values; these kernels widen bytes with shifts of 32-bit lanes and turn
// small integers into Float exactly with the 2^23 trick (bits 0x4B00_0000 | n are 8388608 + n),
// which keeps every kernel a straight run of vector instructions. Results are unchanged: the
// integers are exact in Float either way.

// Computed (not stored) constants: a global `let` costs a swift_once check on every use in the loops.
private var byteShifts: SIMD16<UInt32> { SIMD16(0, 8, 16, 24, 0, 8, 16, 24, 0, 8, 16, 24, 0, 8, 16, 24) }
private var twoTo23: Float { 8_388_608 }

/// Bytes p[0..<16] in 32-bit lanes, each still in its word: lane k holds word k/4 (mask after shifting).
@inline(__always)
private func spreadWords(_ p: UnsafeRawPointer) -> SIMD16<UInt32> {
    let w = p.loadUnaligned(as: SIMD4<UInt32>.self)
    return SIMD16<UInt32>(w[0], w[0], w[0], w[0], w[1], w[1], w[1], w[1],
                          w[2], w[2], w[2], w[2], w[3], w[3], w[3], w[3])
}

/// Lane k = byte k of p[0..<16].
@inline(__always)
private func bytes16(_ p: UnsafeRawPointer) -> SIMD16<UInt32> {
    (spreadWords(p) &>> byteShifts) & 0xFF
}

/// Exact Float of lanes below 2^23, minus `offset` (an integer, so still exact).
@inline(__always)
private func exactFloats(_ lanes: SIMD16<UInt32>, minus offset: Float = 0) -> SIMD16<Float> {
    unsafeBitCast(lanes | 0x4B00_0000, to: SIMD16<Float>.self) - SIMD16<Float>(repeating: twoTo23 + offset)
}

@inline(__always)
private func store(_ vector: SIMD16<Float>, _ destination: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(destination).storeBytes(of: vector, as: SIMD16<Float>.self)
}

private func dequantizeF16(_ source: UnsafeRawPointer, count: Int, into destination: UnsafeMutablePointer<Float>) {
    var i = 0
    while i + 16 <= count {
        let halves = (source + 2 * i).loadUnaligned(as: SIMD16<Float16>.self)
        store(SIMD16<Float>(halves), destination + i)
        i += 16
    }
    while i < count { destination[i] = loadHalf(source, 2 * i); i += 1 }
}

private var halfShifts: SIMD16<UInt32> { SIMD16(0, 16, 0, 16, 0, 16, 0, 16, 0, 16, 0, 16, 0, 16, 0, 16) }

private func dequantizeBF16(_ source: UnsafeRawPointer, count: Int, into destination: UnsafeMutablePointer<Float>) {
    var i = 0
    while i + 16 <= count {
        let w = (source + 2 * i).loadUnaligned(as: SIMD8<UInt32>.self)
        let spread = SIMD16<UInt32>(w[0], w[0], w[1], w[1], w[2], w[2], w[3], w[3],
                                    w[4], w[4], w[5], w[5], w[6], w[6], w[7], w[7])
        let bits = ((spread &>> halfShifts) & 0xFFFF) &<< 16
        UnsafeMutableRawPointer(destination + i).storeBytes(of: bits, as: SIMD16<UInt32>.self)
        i += 16
    }
    while i < count {
        destination[i] = Float(bitPattern: UInt32((source + 2 * i).loadUnaligned(as: UInt16.self)) << 16)
        i += 1
    }
}

@inline(__always)
private func dequantizeQ4_0Block(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
    let d = SIMD16<Float>(repeating: loadHalf(p, 0))
    let qs = bytes16(p + 2)
    store(d * exactFloats(qs & 0x0F, minus: 8), out)
    store(d * exactFloats(qs &>> 4, minus: 8), out + 16)
}

@inline(__always)
private func dequantizeQ4_1Block(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
    let d = SIMD16<Float>(repeating: loadHalf(p, 0))
    let m = SIMD16<Float>(repeating: loadHalf(p, 2))
    let qs = bytes16(p + 4)
    // Two roundings (d·q, then + m), as numpy does; a fused multiply-add would differ in the last bit.
    store(d * exactFloats(qs & 0x0F) + m, out)
    store(d * exactFloats(qs &>> 4) + m, out + 16)
}

private var bitShiftsLow: SIMD16<UInt32> { SIMD16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) }
private var bitShiftsHigh: SIMD16<UInt32> { SIMD16(16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31) }

@inline(__always)
private func dequantizeQ5Block(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, hasMin: Bool) {
    let d = SIMD16<Float>(repeating: loadHalf(p, 0))
    let headerBytes = hasMin ? 4 : 2
    let qh = SIMD16<UInt32>(repeating: p.loadUnaligned(fromByteOffset: headerBytes, as: UInt32.self))
    let qs = bytes16(p + headerBytes + 4)
    let q0 = (qs & 0x0F) | (((qh &>> bitShiftsLow) & 1) &<< 4)
    let q1 = (qs &>> 4) | (((qh &>> bitShiftsHigh) & 1) &<< 4)
    if hasMin {
        let m = SIMD16<Float>(repeating: loadHalf(p, 2))
        store(d * exactFloats(q0) + m, out)
        store(d * exactFloats(q1) + m, out + 16)
    } else {
        store(d * exactFloats(q0, minus: 16), out)
        store(d * exactFloats(q1, minus: 16), out + 16)
    }
}

@inline(__always)
private func dequantizeQ8_0Block(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
    let d = SIMD16<Float>(repeating: loadHalf(p, 0))
    // Flipping the sign bit maps int8 s to the unsigned s + 128.
    store(exactFloats(bytes16(p + 2) ^ 0x80, minus: 128) * d, out)
    store(exactFloats(bytes16(p + 18) ^ 0x80, minus: 128) * d, out + 16)
}

@inline(__always)
private func dequantizeQ45KBlock(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, fifthBit: Bool) {
    let d = loadHalf(p, 0), dmin = loadHalf(p, 2)
    let qsOffset = fifthBit ? 48 : 16
    for pair in 0..<4 {
        let (scaleEven, minEven) = kQuantScaleMin(p + 4, 2 * pair)
        let (scaleOdd, minOdd) = kQuantScaleMin(p + 4, 2 * pair + 1)
        let factorEven = SIMD16<Float>(repeating: d * Float(scaleEven))
        let offsetEven = SIMD16<Float>(repeating: dmin * Float(minEven))
        let factorOdd = SIMD16<Float>(repeating: d * Float(scaleOdd))
        let offsetOdd = SIMD16<Float>(repeating: dmin * Float(minOdd))
        for lane in 0..<2 {  // elements 0–15 and 16–31 of the two sub-blocks that share these bytes
            let qs = bytes16(p + qsOffset + 32 * pair + 16 * lane)
            var low = qs & 0x0F, high = qs &>> 4
            if fifthBit {
                let qh = bytes16(p + 16 + 16 * lane)
                low |= ((qh &>> UInt32(2 * pair)) & 1) &<< 4
                high |= ((qh &>> UInt32(2 * pair + 1)) & 1) &<< 4
            }
            store(factorEven * exactFloats(low) - offsetEven, out + 64 * pair + 16 * lane)
            store(factorOdd * exactFloats(high) - offsetOdd, out + 64 * pair + 32 + 16 * lane)
        }
    }
}

@inline(__always)
private func dequantizeQ6KBlock(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
    let d = loadHalf(p, 208)
    let scales = (p + 192).assumingMemoryBound(to: Int8.self)
    for half in 0..<2 {
        for lane in 0..<2 {  // 16 of the 32 elements of each group
            let qlA = bytes16(p + 64 * half + 16 * lane)       // groups 0 and 2
            let qlB = bytes16(p + 64 * half + 32 + 16 * lane)  // groups 1 and 3
            let qh = bytes16(p + 128 + 32 * half + 16 * lane)
            for group in 0..<4 {
                let low: SIMD16<UInt32>
                switch group {
                case 0: low = qlA & 0x0F
                case 1: low = qlB & 0x0F
                case 2: low = qlA &>> 4
                default: low = qlB &>> 4
                }
                let q = low | (((qh &>> UInt32(2 * group)) & 3) &<< 4)
                let index = 128 * half + 32 * group + 16 * lane
                let factor = SIMD16<Float>(repeating: d * Float(scales[index / 16]))
                store(factor * exactFloats(q, minus: 32), out + index)
            }
        }
    }
}
