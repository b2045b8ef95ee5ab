#if arch(x86_64)
import _Builtin_intrinsics.intel
import CPrefetch

// Decoding reads every weight once per token, and the float kernels spent most of their
// time widening 4- and 8-bit integers to float lanes (about 11 cycles per 32-weight block).
// These kernels leave the weights as integers and bring the input vector to them instead:
// `vpmaddwd` multiplies 16-bit integers and sums pairs into 32-bit lanes, exactly.
//
// The input is split, per block of 32, into two 16-bit planes that together hold it to
// float32 precision (this is not activation quantization: nothing is rounded beyond what
// float32 arithmetic rounds anyway):
//
//     s = max|x| / 32767,   h = round(x / s),   l = round((x / s − h) · 32768)
//     x = s · (h + l / 32768)  to within s / 65536 ≈ 2⁻³¹ · max|x|, below float32 rounding
//
// so a block's product is  d · s · (Σ q·h + Σ q·l / 32768)  (+ m · Σ x for Q4_1), with both
// integer sums exact in 32 bits: |q·h| ≤ 15·32767 (Q4_1) or 128·32767 (Q8_0) per lane pair.

/// The input vector of the integer kernels, prepared once per matrix–vector call.
/// Per block b: `planes[b*64 ..< b*64+32]` = h, `planes[b*64+32 ..< b*64+64]` = l;
/// `scales[2b]` = s, `scales[2b+1]` = Σ x over the block (Q4_1's offset term).
final class SplitInt16Input: @unchecked Sendable {
    let planes: UnsafeMutablePointer<Int16>
    let scales: UnsafeMutablePointer<Float>
    let maxBlocks: Int
    /// 0x000F in every 16-bit lane, and the shift count 4. Read from memory on purpose: with
    /// literal constants LLVM narrows "zero-extend, then mask and shift" into masking and
    /// shifting bytes before two extensions, two more instructions per block (22% slower).
    let nibbleMask = _mm256_set1_epi16(0x0F)
    let nibbleShift = _mm_cvtsi64_si128(4)
    /// How far ahead of the two rows being read to request cache lines, in bytes. The kernels
    /// do so little work per byte that out-of-order execution alone keeps too few reads in
    /// flight (decode, measured: no prefetch 105 tokens/s, 512 B 116, 1,024 B 125, 2,048 B 125,
    /// 3,072 B 124). Prefetching past the end of a matrix is harmless: a prefetch never faults.
    let prefetchDistance = 1024

    init(maxColumns: Int) {
        maxBlocks = maxColumns / 32 + 1
        planes = .allocate(capacity: maxBlocks * 64); planes.initialize(repeating: 0, count: maxBlocks * 64)
        scales = .allocate(capacity: maxBlocks * 2); scales.initialize(repeating: 0, count: maxBlocks * 2)
    }

    deinit { planes.deallocate(); scales.deallocate() }

    /// Splits x[blocks · 32] into the two planes.
    func prepare(_ x: UnsafePointer<Float>, blocks: Int) {
        let xr = UnsafeRawPointer(x), out = UnsafeMutableRawPointer(planes)
        let signless = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFF_FFFF))
        // packs_epi32 interleaves 128-bit halves; this puts the 16 lanes back in order.
        let order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7)
        for b in 0..<blocks {
            let x0 = xr.loadUnaligned(fromByteOffset: b * 128, as: __m256.self)
            let x1 = xr.loadUnaligned(fromByteOffset: b * 128 + 32, as: __m256.self)
            let x2 = xr.loadUnaligned(fromByteOffset: b * 128 + 64, as: __m256.self)
            let x3 = xr.loadUnaligned(fromByteOffset: b * 128 + 96, as: __m256.self)
            let m = _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(x0, signless), _mm256_and_ps(x1, signless)),
                                  _mm256_max_ps(_mm256_and_ps(x2, signless), _mm256_and_ps(x3, signless)))
            let lanes = m  // __m256 is SIMD8<Float> in Swift
            var largest: Float = 0
            for i in 0..<8 where lanes[i] > largest { largest = lanes[i] }
            let sum = _mm256_add_ps(_mm256_add_ps(x0, x1), _mm256_add_ps(x2, x3)).sum()
            // A NaN or infinity in the block makes its scale NaN, so every product that reads
            // the block is NaN, as float arithmetic would make it (the planes are then zero).
            let finite = largest.isFinite && sum.isFinite
            scales[2 * b] = finite ? largest / 32767 : .nan
            scales[2 * b + 1] = sum
            let inverse = _mm256_set1_ps(largest > 0 && largest.isFinite ? 32767 / largest : 0)
            let fine = _mm256_set1_ps(32768)
            @inline(__always) func split(_ x: __m256) -> (coarse: __m256i, fine: __m256i) {
                let scaled = _mm256_mul_ps(x, inverse)
                let coarse = _mm256_cvtps_epi32(scaled)  // round to nearest even
                let rest = _mm256_sub_ps(scaled, _mm256_cvtepi32_ps(coarse))
                return (coarse, _mm256_cvtps_epi32(_mm256_mul_ps(rest, fine)))
            }
            let (h0, l0) = split(x0), (h1, l1) = split(x1), (h2, l2) = split(x2), (h3, l3) = split(x3)
            out.storeBytes(of: _mm256_permutevar8x32_epi32(_mm256_packs_epi32(h0, h1), order), toByteOffset: b * 128, as: __m256i.self)
            out.storeBytes(of: _mm256_permutevar8x32_epi32(_mm256_packs_epi32(h2, h3), order), toByteOffset: b * 128 + 32, as: __m256i.self)
            out.storeBytes(of: _mm256_permutevar8x32_epi32(_mm256_packs_epi32(l0, l1), order), toByteOffset: b * 128 + 64, as: __m256i.self)
            out.storeBytes(of: _mm256_permutevar8x32_epi32(_mm256_packs_epi32(l2, l3), order), toByteOffset: b * 128 + 96, as: __m256i.self)
        }
    }
}

/// One block of the prepared input, loaded once and shared by the rows of a pass.
struct SplitInt16Block {
    var coarse0: __m256i, coarse1: __m256i, fine0: __m256i, fine1: __m256i
    /// (s, Σx, 0, 0)
    var scales: __m128

    @inline(__always)
    init(_ input: SplitInt16Input, block b: Int) {
        let p = UnsafeRawPointer(input.planes) + b * 128
        coarse0 = p.loadUnaligned(as: __m256i.self)
        coarse1 = p.loadUnaligned(fromByteOffset: 32, as: __m256i.self)
        fine0 = p.loadUnaligned(fromByteOffset: 64, as: __m256i.self)
        fine1 = p.loadUnaligned(fromByteOffset: 96, as: __m256i.self)
        scales = lowTwoFloats(UnsafeRawPointer(input.scales).loadUnaligned(fromByteOffset: b * 8, as: Int64.self))
    }

    /// Σ w·(h + l/32768) of 32 integer weights, given as two vectors of 16 lanes, in 8 float lanes.
    @inline(__always)
    func products(_ w0: __m256i, _ w1: __m256i) -> __m256 {
        let coarse = _mm256_add_epi32(_mm256_madd_epi16(w0, coarse0), _mm256_madd_epi16(w1, coarse1))
        let fine = _mm256_add_epi32(_mm256_madd_epi16(w0, fine0), _mm256_madd_epi16(w1, fine1))
        return _mm256_fmadd_ps(_mm256_cvtepi32_ps(fine), _mm256_set1_ps(1.0 / 32768), _mm256_cvtepi32_ps(coarse))
    }
}

@inline(__always)
private func lowTwoFloats(_ bits: Int64) -> __m128 { _mm_castsi128_ps(_mm_cvtsi64_si128(bits)) }

/// Q4_1 block at `block`: its 32 weights as two vectors of 16-bit lanes, and (d, m, 0, 0).
@inline(__always)
private func q4_1Weights(_ block: UnsafeRawPointer, _ input: SplitInt16Input) -> (low: __m256i, high: __m256i, scales: __m128) {
    let bytes = _mm256_cvtepu8_epi16(block.loadUnaligned(fromByteOffset: 4, as: __m128i.self))
    let low = _mm256_and_si256(bytes, input.nibbleMask), high = _mm256_srl_epi16(bytes, input.nibbleShift)
    return (low, high, _mm_cvtph_ps(_mm_cvtsi32_si128(block.loadUnaligned(as: Int32.self))))
}

/// Q8_0 block at `block`: its 32 weights as two vectors of 16-bit lanes, and (d, 0, 0, 0).
@inline(__always)
private func q8_0Weights(_ block: UnsafeRawPointer, _ input: SplitInt16Input) -> (low: __m256i, high: __m256i, scales: __m128) {
    let low = _mm256_cvtepi8_epi16(block.loadUnaligned(fromByteOffset: 2, as: __m128i.self))
    let high = _mm256_cvtepi8_epi16(block.loadUnaligned(fromByteOffset: 18, as: __m128i.self))
    return (low, high, _mm_cvtph_ps(_mm_cvtsi32_si128(Int32(block.loadUnaligned(as: UInt16.self)))))
}

@inline(__always)
private func laneSum(_ v: __m256) -> Float { v.sum() }

@inline(__always)
private func secondLane(_ v: __m128) -> Float { v[1] }

/// Two rows of a Q4_1 or Q8_0 matrix against the prepared input: per block
/// d·s·(Σ q·h + Σ q·l/32768) + m·Σx. Two rows share each input load, and their
/// accumulation chains overlap.
@inline(__always)
private func splitInt16Pair(_ row0: UnsafeRawPointer, _ row1: UnsafeRawPointer, blockBytes: Int,
                            _ input: SplitInt16Input, blocks: Int,
                            weights: (UnsafeRawPointer, SplitInt16Input) -> (low: __m256i, high: __m256i, scales: __m128)) -> (Float, Float) {
    let ahead = input.prefetchDistance
    var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
    // Lane 1 collects m·Σx; lane 0 is scratch for d·s.
    var offsets0 = _mm_setzero_ps(), offsets1 = _mm_setzero_ps()
    for b in 0..<blocks {
        let x = SplitInt16Block(input, block: b)
        persona_prefetch(row0 + b * blockBytes + ahead)
        persona_prefetch(row1 + b * blockBytes + ahead)
        do {
            let w = weights(row0 + b * blockBytes, input)
            let scaled = _mm_mul_ps(w.scales, x.scales)  // (d·s, m·Σx)
            offsets0 = _mm_add_ps(offsets0, scaled)
            acc0 = _mm256_fmadd_ps(x.products(w.low, w.high), _mm256_broadcastss_ps(scaled), acc0)
        }
        do {
            let w = weights(row1 + b * blockBytes, input)
            let scaled = _mm_mul_ps(w.scales, x.scales)
            offsets1 = _mm_add_ps(offsets1, scaled)
            acc1 = _mm256_fmadd_ps(x.products(w.low, w.high), _mm256_broadcastss_ps(scaled), acc1)
        }
    }
    return (laneSum(acc0) + secondLane(offsets0), laneSum(acc1) + secondLane(offsets1))
}

@inline(never)
func dotQ4_1Pair(_ row0: UnsafeRawPointer, _ row1: UnsafeRawPointer, _ input: SplitInt16Input, blocks: Int) -> (Float, Float) {
    splitInt16Pair(row0, row1, blockBytes: QuantizedBlocks.q4_1Bytes, input, blocks: blocks, weights: q4_1Weights)
}

@inline(never)
func dotQ8_0Pair(_ row0: UnsafeRawPointer, _ row1: UnsafeRawPointer, _ input: SplitInt16Input, blocks: Int) -> (Float, Float) {
    splitInt16Pair(row0, row1, blockBytes: QuantizedBlocks.q8_0Bytes, input, blocks: blocks, weights: q8_0Weights)
}
#endif
