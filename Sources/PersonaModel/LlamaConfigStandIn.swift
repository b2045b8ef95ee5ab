import PersonaTensor

/// Stand-in until the formats branch lands `Config/LlamaConfig.swift`; same field names.
public struct LlamaConfig: Equatable, Sendable {
    public var vocabSize: Int
    public var dModel: Int
    public var nLayers: Int
    public var nHeads: Int
    public var nKVHeads: Int
    public var headDim: Int
    public var dFF: Int
    public var ropeTheta: Double
    public var ropeDimensions: Int
    public var ropeScaling: RopeFrequencyScaling?
    public var rmsNormEps: Double
    public var contextLength: Int
    public var tiedOutput: Bool

    public init(vocabSize: Int, dModel: Int, nLayers: Int, nHeads: Int, nKVHeads: Int, headDim: Int, dFF: Int,
                ropeTheta: Double, ropeDimensions: Int, ropeScaling: RopeFrequencyScaling?, rmsNormEps: Double,
                contextLength: Int, tiedOutput: Bool) {
        self.vocabSize = vocabSize; self.dModel = dModel; self.nLayers = nLayers; self.nHeads = nHeads
        self.nKVHeads = nKVHeads; self.headDim = headDim; self.dFF = dFF; self.ropeTheta = ropeTheta
        self.ropeDimensions = ropeDimensions; self.ropeScaling = ropeScaling; self.rmsNormEps = rmsNormEps
        self.contextLength = contextLength; self.tiedOutput = tiedOutput
    }
}
