/// Divides the logits by the temperature (Hugging Face `TemperatureLogitsWarper`).
/// Temperature 0 is not a stage: the sampler turns it into greedy choice.
public final class Temperature: LogitProcessor {
    let temperature: Float

    public init(_ temperature: Float) { self.temperature = temperature }

    public var description: String { "temperature \(formatNumber(temperature))" }

    public func process(_ logits: inout LogitsView, history: TokenHistory) {
        guard temperature > 0, temperature != 1 else { return }
        let factor = 1 / temperature
        if logits.isNarrowed {
            for id in logits.survivors { logits.values[Int(id)] *= factor }
        } else {
            SamplingKernels.scale(logits.values, by: factor)
        }
    }
}
