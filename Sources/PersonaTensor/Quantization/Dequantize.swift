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

@inline(__always)
private func floats(_ bytes: SIMD16<UInt8>) -> SIMD16<Float> {
    SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: bytes))
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

private func dequantizeBF16(_ source: UnsafeRawPointer, count: Int, into destination: UnsafeMutablePointer<Float>) {
    var i = 0
    while i + 16 <= count {
        let bits = SIMD16<UInt32>(truncatingIfNeeded: (source + 2 * i).loadUnaligned(as: SIMD16<UInt16>.self)) &<< 16
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
    let qs = (p + 2).loadUnaligned(as: SIMD16<UInt8>.self)
    let eight = SIMD16<Float>(repeating: 8)
    store(d * (floats(qs & 0x0F) - eight), out)
    store(d * (floats(qs &>> 4) - eight), out + 16)
}

@inline(__always)
private func dequantizeQ4_1Block(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
    let d = SIMD16<Float>(repeating: loadHalf(p, 0))
    let m = SIMD16<Float>(repeating: loadHalf(p, 2))
    let qs = (p + 4).loadUnaligned(as: SIMD16<UInt8>.self)
    // Two roundings (d·q, then + m), as numpy does; a fused multiply-add would differ in the last bit.
    store(d * floats(qs & 0x0F) + m, out)
    store(d * floats(qs &>> 4) + m, out + 16)
}

private let bitShiftsLow = SIMD16<UInt32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
private let bitShiftsHigh = bitShiftsLow &+ 16

@inline(__always)
private func dequantizeQ5Block(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, hasMin: Bool) {
    let d = SIMD16<Float>(repeating: loadHalf(p, 0))
    let headerBytes = hasMin ? 4 : 2
    let qh = SIMD16<UInt32>(repeating: p.loadUnaligned(fromByteOffset: headerBytes, as: UInt32.self))
    let qs = (p + headerBytes + 4).loadUnaligned(as: SIMD16<UInt8>.self)
    let lowBits = SIMD16<UInt32>(truncatingIfNeeded: qs & 0x0F) | (((qh &>> bitShiftsLow) & 1) &<< 4)
    let highBits = SIMD16<UInt32>(truncatingIfNeeded: qs &>> 4) | (((qh &>> bitShiftsHigh) & 1) &<< 4)
    let q0 = SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: lowBits))
    let q1 = SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: highBits))
    if hasMin {
        let m = SIMD16<Float>(repeating: loadHalf(p, 2))
        store(d * q0 + m, out)
        store(d * q1 + m, out + 16)
    } else {
        let sixteen = SIMD16<Float>(repeating: 16)
        store(d * (q0 - sixteen), out)
        store(d * (q1 - sixteen), out + 16)
    }
}

@inline(__always)
private func dequantizeQ8_0Block(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
    let d = SIMD16<Float>(repeating: loadHalf(p, 0))
    let q0 = (p + 2).loadUnaligned(as: SIMD16<Int8>.self)
    let q1 = (p + 18).loadUnaligned(as: SIMD16<Int8>.self)
    store(SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: q0)) * d, out)
    store(SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: q1)) * d, out + 16)
}

@inline(__always)
private func dequantizeQ45KBlock(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, fifthBit: Bool) {
    let d = loadHalf(p, 0), dmin = loadHalf(p, 2)
    let qsOffset = fifthBit ? 48 : 16
    for pair in 0..<4 {
        for lane in 0..<2 {  // elements 0–15 and 16–31 of the two sub-blocks that share these bytes
            let qs = (p + qsOffset + 32 * pair + 16 * lane).loadUnaligned(as: SIMD16<UInt8>.self)
            var low = qs & 0x0F, high = qs &>> 4
            if fifthBit {
                let qh = (p + 16 + 16 * lane).loadUnaligned(as: SIMD16<UInt8>.self)
                low |= ((qh &>> UInt8(2 * pair)) & 1) &<< 4
                high |= ((qh &>> UInt8(2 * pair + 1)) & 1) &<< 4
            }
            let (scaleEven, minEven) = kQuantScaleMin(p + 4, 2 * pair)
            let (scaleOdd, minOdd) = kQuantScaleMin(p + 4, 2 * pair + 1)
            let factorEven = SIMD16<Float>(repeating: d * Float(scaleEven))
            let offsetEven = SIMD16<Float>(repeating: dmin * Float(minEven))
            let factorOdd = SIMD16<Float>(repeating: d * Float(scaleOdd))
            let offsetOdd = SIMD16<Float>(repeating: dmin * Float(minOdd))
            store(factorEven * floats(low) - offsetEven, out + 64 * pair + 16 * lane)
            store(factorOdd * floats(high) - offsetOdd, out + 64 * pair + 32 + 16 * lane)
        }
    }
}

@inline(__always)
private func dequantizeQ6KBlock(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
    let d = loadHalf(p, 208)
    let scales = (p + 192).assumingMemoryBound(to: Int8.self)
    let thirtyTwo = SIMD16<Int32>(repeating: 32)
    for half in 0..<2 {
        for lane in 0..<2 {  // 16 of the 32 elements of each group
            let qlA = (p + 64 * half + 16 * lane).loadUnaligned(as: SIMD16<UInt8>.self)       // groups 0 and 2
            let qlB = (p + 64 * half + 32 + 16 * lane).loadUnaligned(as: SIMD16<UInt8>.self)  // groups 1 and 3
            let qh = (p + 128 + 32 * half + 16 * lane).loadUnaligned(as: SIMD16<UInt8>.self)
            for group in 0..<4 {
                let low: SIMD16<UInt8>
                switch group {
                case 0: low = qlA & 0x0F
                case 1: low = qlB & 0x0F
                case 2: low = qlA &>> 4
                default: low = qlB &>> 4
                }
                let q = low | (((qh &>> UInt8(2 * group)) & 3) &<< 4)
                let centred = SIMD16<Int32>(truncatingIfNeeded: q) &- thirtyTwo
                let index = 128 * half + 32 * group + 16 * lane
                let factor = SIMD16<Float>(repeating: d * Float(scales[index / 16]))
                store(factor * SIMD16<Float>(centred), out + index)
            }
        }
    }
}
