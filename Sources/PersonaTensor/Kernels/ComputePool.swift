import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Worker threads that stay awake between parallel calls, for work split into many short
/// calls: decoding one token makes about 120 matrix–vector calls of 20–100 µs each, and
/// waking Dispatch's threads for each one cost more than a fifth of the token (measured:
/// two threads ran only 1.19× faster than one).
///
/// The caller runs parts itself; workers spin for a short while after each call, then
/// sleep on a semaphore. Parts are claimed one at a time from an atomic ticket, so a worker
/// descheduled by a busy neighbour delays the call by at most the part it holds.
///
/// One call runs at a time: a call made while another is running (another thread, or a
/// body that itself splits work) falls back to `DispatchQueue.concurrentPerform`.
public final class ComputePool: @unchecked Sendable {
    public static let shared = ComputePool()
    /// Cores the process may run on: more threads than this only take turns.
    public static let cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    /// The most threads (the caller included) that `parallelParts` runs on: the thread count
    /// the user chose for the model or training run, so that a run split into several parts
    /// per thread never occupies more cores than it was given (on a shared or many-core
    /// machine, spinning workers beyond that would take others' time). The split itself, and
    /// so every result, depends only on the part count.
    public static func limitThreads(to threads: Int) { shared.threadLimit.store(max(1, threads), ordering: .relaxed) }

    private let threadLimit = Atomic<Int>(Int.max)

    /// The thread count a call split into `parts` parts runs on.
    public func threads(forParts parts: Int) -> Int {
        min(parts, ComputePool.cores, threadLimit.load(ordering: .relaxed))
    }

    /// Spin iterations (each an atomic load) before a worker sleeps: a few hundred µs,
    /// longer than the gaps between the calls of one forward pass.
    static let spinIterations = 1 << 17

    // The ticket packs the call's generation, its part count and the next unclaimed part,
    // so that one compare-and-swap claims a part of exactly the call it belongs to.
    private static let partBits = 20
    private static let partMask = (1 << partBits) - 1
    private static let generationMask = (1 << 22) - 1

    private let ticket = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    /// Workers allowed to take parts of the current call (a call for 2 threads uses 1).
    private let helpersWanted = Atomic<Int>(0)
    private let wakeup: UnsafeMutablePointer<sem_t>
    nonisolated(unsafe) private var body: ((Int) -> Void)?
    private var generation = 0
    private var workers = 0
    private let spawnLock = Mutex(())

    /// The pool lives for the process: its workers hold it.
    private init() {
        wakeup = .allocate(capacity: 1)
        sem_init(wakeup, 0, 0)
    }

    /// Runs `body(part)` for every part in `0..<parts` on up to `threads` threads (the caller
    /// included) and returns when all have finished.
    public func run(parts: Int, threads: Int, _ body: (Int) -> Void) {
        guard parts > 0 else { return }
        let helpers = min(threads, parts) - 1
        if helpers <= 0 {
            for p in 0..<parts { body(p) }
            return
        }
        guard parts <= ComputePool.partMask, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            DispatchQueue.concurrentPerform(iterations: parts, execute: body)
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        ensureWorkers(helpers)
        withoutActuallyEscaping(body) { escapable in
            self.body = escapable
            helpersWanted.store(helpers, ordering: .relaxed)
            finished.store(0, ordering: .relaxed)
            generation = (generation + 1) & ComputePool.generationMask
            ticket.store(generation << (2 * ComputePool.partBits) | parts << ComputePool.partBits, ordering: .releasing)
            let asleep = sleepers.exchange(0, ordering: .acquiringAndReleasing)
            for _ in 0..<asleep { sem_post(wakeup) }

            var done = 0
            while let part = claim(generation: generation) {
                escapable(part)
                done += 1
            }
            finished.add(done, ordering: .acquiringAndReleasing)
            var spins = 0
            while finished.load(ordering: .acquiring) < parts {
                spins += 1
                if spins > 4096 { sched_yield(); spins = 0 }
            }
            self.body = nil
        }
    }

    /// Claims the next part of call `generation`, or nil when that call has none left.
    private func claim(generation: Int) -> Int? {
        var current = ticket.load(ordering: .acquiring)
        while true {
            guard current >> (2 * ComputePool.partBits) == generation else { return nil }
            let parts = (current >> ComputePool.partBits) & ComputePool.partMask
            let next = current & ComputePool.partMask
            guard next < parts else { return nil }
            let (exchanged, original) = ticket.compareExchange(expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged { return next }
            current = original
        }
    }

    private func ensureWorkers(_ count: Int) {
        guard workers < count else { return }
        spawnLock.withLock { _ in
            while workers < count {
                let index = workers
                let context = Unmanaged.passRetained(WorkerContext(pool: self, index: index)).toOpaque()
                var thread = pthread_t()
                guard pthread_create(&thread, nil, { raw in
                    guard let raw else { return nil }
                    let context = Unmanaged<WorkerContext>.fromOpaque(raw).takeRetainedValue()
                    context.pool.workerLoop(index: context.index)
                    return nil
                }, context) == 0 else {
                    Unmanaged<WorkerContext>.fromOpaque(context).release()
                    return
                }
                pthread_detach(thread)
                workers += 1
            }
        }
    }

    private final class WorkerContext {
        let pool: ComputePool
        let index: Int
        init(pool: ComputePool, index: Int) { self.pool = pool; self.index = index }
    }

    private func workerLoop(index: Int) {
        var seen = ticket.load(ordering: .acquiring) >> (2 * ComputePool.partBits)
        while true {
            var spins = 0
            var current = ticket.load(ordering: .acquiring) >> (2 * ComputePool.partBits)
            while current == seen {
                spins += 1
                if spins >= ComputePool.spinIterations {
                    sleepers.add(1, ordering: .acquiringAndReleasing)
                    // A call published after this check posts the semaphore (it read the count
                    // above); a stale post only causes one extra look at the ticket.
                    if ticket.load(ordering: .acquiring) >> (2 * ComputePool.partBits) == seen {
                        while sem_wait(wakeup) != 0 {}
                    }
                    spins = 0
                }
                current = ticket.load(ordering: .acquiring) >> (2 * ComputePool.partBits)
            }
            seen = current
            guard index < helpersWanted.load(ordering: .relaxed) else { continue }
            var done = 0
            while let part = claim(generation: current) {
                body?(part)
                done += 1
            }
            if done > 0 { finished.add(done, ordering: .acquiringAndReleasing) }
        }
    }
}
