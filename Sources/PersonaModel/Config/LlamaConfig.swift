import Foundation

/// How RoPE frequencies are stretched for longer contexts (Hugging Face `rope_scaling`).
public enum RopeScaling: Equatable, Sendable {
    case none
    /// Position interpolation: every inverse frequency divided by `factor`.
    case linear(factor: Double)
    /// Llama 3.1: low frequencies divided by `factor`, high ones kept, a smooth ramp between
    /// (transformers `_compute_llama3_parameters`).
    case llama3(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalContext: Int)
}

/// The shape of a Llama-family model (SmolLM2, TinyLlama, Llama 2/3, Mistral), read from GGUF
/// `llama.*` metadata or a Hugging Face `config.json`.
public struct LlamaConfig: Equatable, Sendable {
    /// `llama` for GGUF files; the `model_type` (`llama`, `mistral`) for Hugging Face folders.
    public var architecture: String
    public var vocabSize: Int
    public var dModel: Int
    public var nLayers: Int
    public var nHeads: Int
    public var nKVHeads: Int
    public var headDim: Int
    public var dFF: Int
    /// RoPE base (θ). The files store float32 values; kept as Double so nothing is lost.
    public var ropeTheta: Double
    /// Rotated dimensions per head (≤ headDim, even).
    public var ropeDimensions: Int
    public var ropeScaling: RopeScaling
    public var rmsNormEps: Double
    public var contextLength: Int
    /// The output head reuses `token_embd.weight` (no `output.weight`).
    public var tiedOutput: Bool

    public init(architecture: String = "llama", vocabSize: Int, dModel: Int, nLayers: Int, nHeads: Int, nKVHeads: Int,
                headDim: Int, dFF: Int, ropeTheta: Double, ropeDimensions: Int, ropeScaling: RopeScaling = .none,
                rmsNormEps: Double, contextLength: Int, tiedOutput: Bool) {
        self.architecture = architecture; self.vocabSize = vocabSize; self.dModel = dModel; self.nLayers = nLayers
        self.nHeads = nHeads; self.nKVHeads = nKVHeads; self.headDim = headDim; self.dFF = dFF
        self.ropeTheta = ropeTheta; self.ropeDimensions = ropeDimensions; self.ropeScaling = ropeScaling
        self.rmsNormEps = rmsNormEps; self.contextLength = contextLength; self.tiedOutput = tiedOutput
    }

    /// Query width (nHeads · headDim) and key/value width (nKVHeads · headDim).
    public var qDim: Int { nHeads * headDim }
    public var kvDim: Int { nKVHeads * headDim }

    /// Checks every field against sane limits so that later arithmetic cannot overflow.
    /// `source` names the file in the message.
    public func validate(source: String) throws {
        func check(_ ok: Bool, _ what: String) throws {
            if !ok { throw ModelError.invalid("\(source): \(what)") }
        }
        let limit = 1 << 20
        try check((1...(1 << 22)).contains(vocabSize), "vocabulary size \(vocabSize) is out of range (1 to 4,194,304)")
        try check((1...limit).contains(dModel), "model width \(dModel) is out of range")
        try check((1...1024).contains(nLayers), "layer count \(nLayers) is out of range (1 to 1024)")
        try check((1...4096).contains(nHeads), "head count \(nHeads) is out of range")
        try check((1...nHeads).contains(nKVHeads) && nHeads % nKVHeads == 0,
                  "key/value head count \(nKVHeads) must divide the head count \(nHeads)")
        try check((1...4096).contains(headDim) && headDim % 2 == 0, "head dimension \(headDim) must be even and at most 4096")
        try check((1...limit).contains(dFF), "feed-forward width \(dFF) is out of range")
        try check(ropeDimensions > 0 && ropeDimensions <= headDim && ropeDimensions % 2 == 0,
                  "RoPE dimension count \(ropeDimensions) must be even and at most the head dimension \(headDim)")
        try check(ropeTheta.isFinite && ropeTheta > 1, "RoPE base \(ropeTheta) must be a finite number above 1")
        try check(rmsNormEps.isFinite && rmsNormEps > 0 && rmsNormEps < 1, "RMSNorm epsilon \(rmsNormEps) must be in (0, 1)")
        try check((1...(1 << 24)).contains(contextLength), "context length \(contextLength) is out of range")
        switch ropeScaling {
        case .none: break
        case .linear(let factor):
            try check(factor.isFinite && factor > 0, "RoPE linear scaling factor \(factor) must be positive")
        case .llama3(let factor, let low, let high, let original):
            try check(factor.isFinite && factor > 0 && low.isFinite && low > 0 && high.isFinite && high > low && original > 0,
                      "llama3 RoPE scaling (factor \(factor), low \(low), high \(high), original context \(original)) is inconsistent")
        }
    }

    /// The RoPE inverse frequencies θ_i = 1 / base^(2i/d), i < ropeDimensions/2, with the scaling
    /// applied, in float32 as transformers computes them. `frequencyFactors` (GGUF `rope_freqs.weight`,
    /// how llama.cpp stores Llama 3.1 scaling) divides each frequency when given.
    public func inverseFrequencies(frequencyFactors: [Float]? = nil) -> [Float] {
        let half = ropeDimensions / 2
        let base = Float(ropeTheta)
        var frequencies = (0..<half).map { i in Float(1) / powf(base, Float(2 * i) / Float(ropeDimensions)) }
        switch ropeScaling {
        case .none: break
        case .linear(let factor):
            frequencies = frequencies.map { $0 / Float(factor) }
        case .llama3(let factor, let lowFreqFactor, let highFreqFactor, let originalContext):
            let factor = Float(factor), low = Float(lowFreqFactor), high = Float(highFreqFactor)
            let original = Float(originalContext)
            let lowFreqWavelength = original / low
            let highFreqWavelength = original / high
            frequencies = frequencies.map { frequency in
                let wavelength = 2 * Float.pi / frequency
                if wavelength < highFreqWavelength { return frequency }
                if wavelength > lowFreqWavelength { return frequency / factor }
                let smooth = (original / wavelength - low) / (high - low)
                return (1 - smooth) * frequency / factor + smooth * frequency
            }
        }
        if let factors = frequencyFactors, factors.count == half {
            frequencies = zip(frequencies, factors).map { $0 / $1 }
        }
        return frequencies
    }

    /// Parameters of the model (embedding counted once when tied).
    public var parameterCount: Int {
        let attention = dModel * qDim + 2 * dModel * kvDim + qDim * dModel
        let mlp = 3 * dModel * dFF
        let perLayer = attention + mlp + 2 * dModel
        return vocabSize * dModel + nLayers * perLayer + dModel + (tiedOutput ? 0 : vocabSize * dModel)
    }
}
