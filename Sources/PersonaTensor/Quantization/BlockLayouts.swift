/// Byte layouts of the quantized blocks, as gguf-py `gguf/quants.py` (0.19.0) and ggml
/// `ggml-common.h` define them. Offsets are within one block; `d`, `m`, `dmin` are Float16.
///
/// | type | block | bytes | layout |
/// |---|---|---|---|
/// | Q4_0 | 32 | 18 | d, qs[16] (element j < 16: low nibble of qs[j]; j ≥ 16: high nibble of qs[j−16]); x = d·(q−8) |
/// | Q4_1 | 32 | 20 | d, m, qs[16] (nibbles as Q4_0); x = d·q + m |
/// | Q5_0 | 32 | 22 | d, qh (u32, bit j is the 5th bit of element j), qs[16]; x = d·(q−16) |
/// | Q5_1 | 32 | 24 | d, m, qh, qs[16]; x = d·q + m |
/// | Q8_0 | 32 | 34 | d, qs[32] (int8); x = q·d |
/// | Q4_K | 256 | 144 | d, dmin, scales[12] (eight 6-bit scales and mins), qs[128]; sub-block i of 32 is the low (even i) or high (odd i) nibbles of qs[32·(i/2) ..< +32]; x = (d·sc)·q − dmin·m |
/// | Q5_K | 256 | 176 | d, dmin, scales[12], qh[32] (bit i of qh[l] is the 5th bit of sub-block i, element l), qs[128]; as Q4_K |
/// | Q6_K | 256 | 210 | ql[128], qh[64], scales[16] (int8), d; x = (d·scale)·(q−32), see `q6KValue` |
///
/// Every formula is evaluated in Float with one rounding per operation, in the order gguf-py's
/// numpy code uses (no fused multiply-add), which is what makes the results bit-exact.
enum BlockLayout {
    static let q4_0Bytes = 18, q4_1Bytes = 20, q5_0Bytes = 22, q5_1Bytes = 24, q8_0Bytes = 34
    static let q4_KBytes = 144, q5_KBytes = 176, q6_KBytes = 210
}

@inline(__always)
func loadHalf(_ pointer: UnsafeRawPointer, _ offset: Int) -> Float {
    Float(Float16(bitPattern: pointer.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
}

/// The eight 6-bit scales and mins of a Q4_K / Q5_K block (gguf-py `Q4_K.get_scale_min`).
/// Bytes 0–3 hold scales 0–3 (low 6 bits), 4–7 mins 0–3, 8–11 the low 4 bits of scales/mins 4–7;
/// the top 2 bits of bytes 0–3 / 4–7 are the high bits of scales/mins 4–7.
@inline(__always)
func kQuantScaleMin(_ scales: UnsafeRawPointer, _ index: Int) -> (scale: UInt8, min: UInt8) {
    let bytes = scales.assumingMemoryBound(to: UInt8.self)
    if index < 4 {
        return (bytes[index] & 0x3F, bytes[index + 4] & 0x3F)
    }
    let packed = bytes[index + 4]
    let scale = (packed & 0x0F) | ((bytes[index - 4] >> 2) & 0x30)
    let min = (packed >> 4) | ((bytes[index] >> 2) & 0x30)
    return (scale, min)
}
