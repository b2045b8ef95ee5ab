/// A float buffer allocated once and freed with its owner; the graph's activations and scratch.
final class ActivationBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(_ count: Int) {
        self.count = max(1, count)
        pointer = .allocate(capacity: self.count)
        pointer.initialize(repeating: 0, count: self.count)
    }

    deinit { pointer.deallocate() }

    func zero(_ n: Int? = nil) { pointer.update(repeating: 0, count: n ?? count) }
}
