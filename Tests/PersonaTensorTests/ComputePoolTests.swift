import Dispatch
import Glibc
import XCTest
import Synchronization
import PersonaTensor

/// The compute pool behind `parallelParts`: every part runs exactly once per call, calls
/// that arrive while one is running fall back instead of deadlocking, and thousands of
/// short calls in a row (the shape of decoding) complete.
final class ComputePoolTests: XCTestCase {
    final class Counts: @unchecked Sendable {
        let values: UnsafeMutableBufferPointer<Int>
        init(_ n: Int) { values = .allocate(capacity: n); values.initialize(repeating: 0) }
        deinit { values.deallocate() }
    }

    func testEveryPartRunsOnceOverManyShortCalls() {
        let parts = 8
        let counts = Counts(parts)
        nonisolated(unsafe) let values = counts.values
        for _ in 0..<20_000 {
            ComputePool.shared.run(parts: parts, threads: 2) { part in values[part] += 1 }
        }
        XCTAssertEqual(Array(counts.values), Array(repeating: 20_000, count: parts))
    }

    func testCallsFromInsideAPartFallBackAndFinish() {
        let total = Atomic<Int>(0)
        ComputePool.shared.run(parts: 4, threads: 2) { _ in
            // The pool is busy with this call: the inner one must still run all of its parts.
            ComputePool.shared.run(parts: 3, threads: 2) { _ in total.add(1, ordering: .relaxed) }
        }
        XCTAssertEqual(total.load(ordering: .relaxed), 12)
    }

    func testCallsFromSeveralThreadsAtOnce() {
        let total = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<500 {
                ComputePool.shared.run(parts: 5, threads: 2) { _ in total.add(1, ordering: .relaxed) }
            }
        }
        XCTAssertEqual(total.load(ordering: .relaxed), 4 * 500 * 5)
    }

    func testParallelPartsCoversTheRangeWithAlignedStarts() {
        let count = 1_000
        let seen = Counts(count)
        nonisolated(unsafe) let values = seen.values
        let starts = Mutex<[Int]>([])
        parallelParts(count, threads: 8, granularity: 16) { _, range in
            starts.withLock { $0.append(range.lowerBound) }
            for i in range { values[i] += 1 }
        }
        XCTAssertEqual(Array(seen.values), Array(repeating: 1, count: count))
        XCTAssertTrue(starts.withLock { $0.allSatisfy { $0 % 16 == 0 } })
    }

    func testThreadLimitKeepsWorkOnTheCaller() {
        defer { ComputePool.limitThreads(to: ComputePool.cores) }
        ComputePool.limitThreads(to: 1)
        XCTAssertEqual(ComputePool.shared.threads(forParts: 8), 1)
        let caller = pthread_self()
        let elsewhere = Atomic<Int>(0)
        parallelParts(64, threads: 8) { _, _ in
            if pthread_equal(pthread_self(), caller) == 0 { elsewhere.add(1, ordering: .relaxed) }
        }
        XCTAssertEqual(elsewhere.load(ordering: .relaxed), 0)
        ComputePool.limitThreads(to: 2)
        XCTAssertEqual(ComputePool.shared.threads(forParts: 8), min(2, ComputePool.cores))
    }

    func testOneThreadRunsOnTheCaller() {
        var order: [Int] = []
        ComputePool.shared.run(parts: 5, threads: 1) { order.append($0) }
        XCTAssertEqual(order, [0, 1, 2, 3, 4])
    }
}
