/// The naive twin of `dequantize`: one element at a time, straight from the layouts in
/// `BlockLayout`, used as the oracle for the SIMD kernels.
public func dequantizeReference(_ type: GGMLType, _ source: UnsafeRawPointer, count: Int,
                                into destination: UnsafeMutablePointer<Float>) {
    let blocks = count / type.blockSize
    let block = type.blockSize
    for b in 0..<blocks {
        let p = source + b * type.blockBytes
        let out = destination + b * block
        for j in 0..<block {
            out[j] = referenceValue(type, p, j)
        }
    }
    for j in (blocks * block)..<max(count, blocks * block) { destination[j] = .nan }
}

/// Element `j` of the block at `p`.
@inline(never)
func referenceValue(_ type: GGMLType, _ p: UnsafeRawPointer, _ j: Int) -> Float {
    let u8 = p.assumingMemoryBound(to: UInt8.self)
    switch type {
    case .f32: return Float(bitPattern: p.loadUnaligned(as: UInt32.self))
    case .f16: return loadHalf(p, 0)
    case .bf16: return Float(bitPattern: UInt32(p.loadUnaligned(as: UInt16.self)) << 16)
    case .q4_0:
        let d = loadHalf(p, 0)
        let q = j < 16 ? u8[2 + j] & 0x0F : u8[2 + j - 16] >> 4
        return d * Float(Int(q) - 8)
    case .q4_1:
        let d = loadHalf(p, 0), m = loadHalf(p, 2)
        let q = j < 16 ? u8[4 + j] & 0x0F : u8[4 + j - 16] >> 4
        return d * Float(q) + m
    case .q5_0:
        let d = loadHalf(p, 0)
        let qh = p.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
        let low = j < 16 ? u8[6 + j] & 0x0F : u8[6 + j - 16] >> 4
        let q = Int(low) | Int((qh >> UInt32(j)) & 1) << 4
        return d * Float(q - 16)
    case .q5_1:
        let d = loadHalf(p, 0), m = loadHalf(p, 2)
        let qh = p.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
        let low = j < 16 ? u8[8 + j] & 0x0F : u8[8 + j - 16] >> 4
        let q = Int(low) | Int((qh >> UInt32(j)) & 1) << 4
        return d * Float(q) + m
    case .q8_0:
        let d = loadHalf(p, 0)
        return Float(Int8(bitPattern: u8[2 + j])) * d
    case .q4_K, .q5_K:
        let d = loadHalf(p, 0), dmin = loadHalf(p, 2)
        let sub = j / 32, l = j % 32
        let (sc, mn) = kQuantScaleMin(p + 4, sub)
        let qsOffset = type == .q4_K ? 16 : 48
        let byte = u8[qsOffset + 32 * (sub / 2) + l]
        var q = Int(sub % 2 == 0 ? byte & 0x0F : byte >> 4)
        if type == .q5_K {
            q |= Int((u8[16 + l] >> UInt8(sub)) & 1) << 4
        }
        let scale = d * Float(sc), offset = dmin * Float(mn)
        return scale * Float(q) - offset
    case .q6_K:
        let d = loadHalf(p, 208)
        let half = j / 128, r = j % 128
        let lowByte = u8[half * 64 + r % 64]
        let low = r < 64 ? lowByte & 0x0F : lowByte >> 4
        let high = (u8[128 + half * 32 + r % 32] >> UInt8(2 * (r / 32))) & 3
        let q = Int(low | high << 4) - 32
        let scale = d * Float(Int8(bitPattern: u8[192 + j / 16]))
        return scale * Float(q)
    default:
        return .nan
    }
}
