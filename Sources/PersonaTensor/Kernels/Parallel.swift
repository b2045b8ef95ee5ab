import COpenBLAS
import Dispatch

/// Splits `0..<count` into `threads` contiguous ranges and runs them at once on the compute
/// pool (each part streams its own stretch of a weight matrix), on at most as many threads
/// as the machine has cores and the run was given (`ComputePool.limitThreads`). The split depends only on `threads`, never on which thread runs
/// a part, so results are the same run to run. With one part, the body runs on the caller's
/// thread. Ranges start on multiples of `granularity`.
@inlinable
public func parallelRanges(_ count: Int, threads: Int, granularity: Int = 1, _ body: (Range<Int>) -> Void) {
    parallelParts(count, threads: threads, granularity: granularity) { _, range in body(range) }
}

/// `parallelRanges` that also tells the body which part (0..<threads) it is, so that each
/// part can use its own scratch buffer.
@inlinable
public func parallelParts(_ count: Int, threads: Int, granularity: Int = 1, _ body: (Int, Range<Int>) -> Void) {
    guard count > 0 else { return }
    let units = (count + granularity - 1) / granularity
    let parts = max(1, min(threads, units))
    if parts == 1 { body(0, 0..<count); return }
    let pool = ComputePool.shared
    pool.run(parts: parts, threads: pool.threads(forParts: parts)) { part in
        let lo = units * part / parts * granularity
        let hi = min(count, units * (part + 1) / parts * granularity)
        if lo < hi { body(part, lo..<hi) }
    }
}

/// How many parts to split work into for `threads` threads: several per thread, so that
/// Dispatch balances them dynamically. On a shared machine one core is often busy with
/// another process; with exactly one part per thread the whole call would wait for the
/// part stuck behind it.
@inlinable
public func workParts(threads: Int) -> Int { threads <= 1 ? 1 : threads * 4 }

/// OpenBLAS keeps its own thread pool. The model splits work across cores itself and calls
/// BLAS from inside those splits, so BLAS must stay single-threaded there or the two pools
/// fight over the same two cores.
public enum BLASThreads {
    public static func set(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }

    /// The name of the OpenBLAS kernel in use (`Haswell`, `SkylakeX`), for benchmark notes.
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }
}
