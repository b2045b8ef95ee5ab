import Foundation

/// AdamW exactly as torch.optim.AdamW (decoupled weight decay, bias correction), in float32
/// with torch's order of operations:
///   θ ← θ · (1 − lr·λ)
///   m ← β1·m + (1 − β1)·g          v ← β2·v + (1 − β2)·g²
///   θ ← θ − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
public final class AdamW {
    public struct Settings: Equatable, Sendable {
        public var beta1: Float = 0.9
        public var beta2: Float = 0.999
        public var epsilon: Float = 1e-8
        public var weightDecay: Float = 0.01
        public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01) {
            self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon; self.weightDecay = weightDecay
        }
    }

    public let settings: Settings
    public let count: Int
    /// First and second moments, [count] each.
    public let firstMoment: UnsafeMutableBufferPointer<Float>
    public let secondMoment: UnsafeMutableBufferPointer<Float>
    /// Steps taken (t of the bias correction).
    public var step: Int = 0

    public init(count: Int, settings: Settings = Settings()) {
        self.count = count; self.settings = settings
        firstMoment = .allocate(capacity: max(1, count)); firstMoment.initialize(repeating: 0)
        secondMoment = .allocate(capacity: max(1, count)); secondMoment.initialize(repeating: 0)
    }

    deinit { firstMoment.deallocate(); secondMoment.deallocate() }

    /// One update of `parameters` with `gradients` at learning rate `lr`.
    public func update(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeMutableBufferPointer<Float>, lr: Float) {
        step += 1
        let b1 = settings.beta1, b2 = settings.beta2, eps = settings.epsilon
        let biasCorrection1 = 1 - powf(b1, Float(step))
        let biasCorrection2Root = (1 - powf(b2, Float(step))).squareRoot()
        let stepSize = lr / biasCorrection1
        let decay = 1 - lr * settings.weightDecay
        for i in 0..<count {
            let g = gradients[i]
            var p = parameters[i]
            if settings.weightDecay != 0 { p *= decay }
            let m = firstMoment[i] * b1 + (1 - b1) * g   // torch: lerp(m, g, 1 − β1)
            let v = secondMoment[i] * b2 + (1 - b2) * g * g
            firstMoment[i] = m; secondMoment[i] = v
            let denominator = v.squareRoot() / biasCorrection2Root + eps
            p -= stepSize * (m / denominator)
            parameters[i] = p
        }
    }

    public func reset() {
        step = 0
        for i in 0..<count { firstMoment[i] = 0; secondMoment[i] = 0 }
    }
}

/// Scales gradients so their global L2 norm is at most `maxNorm` (torch's clip_grad_norm_:
/// coefficient maxNorm / (norm + 1e-6), applied only when below 1). Returns the norm before.
@discardableResult
public func clipGradientNorm(_ gradients: UnsafeMutableBufferPointer<Float>, count: Int, maxNorm: Double) -> Double {
    var s = 0.0
    for i in 0..<count { s += Double(gradients[i]) * Double(gradients[i]) }
    let norm = s.squareRoot()
    guard maxNorm > 0 else { return norm }
    let coefficient = maxNorm / (norm + 1e-6)
    if coefficient < 1 {
        let c = Float(coefficient)
        for i in 0..<count { gradients[i] *= c }
    }
    return norm
}
