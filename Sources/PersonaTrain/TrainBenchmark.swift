import COpenBLAS
import Foundation
import PersonaCore

/// Timing of full training steps (forward, backward, clipping, AdamW) on a fixed synthetic
/// batch: `sequences` × `length` random tokens, every token after the first counted.
public enum TrainBenchmark {
    public struct Measurement {
        /// Seconds per step, one per timed step.
        public var stepSeconds: [Double]
        public var tokensPerStep: Int
        public var loss: Double
        /// Seconds per step in each part of the step (profiled timed steps, averaged).
        public var sections: [(name: String, seconds: Double)]
    }

    public static func measure(model: FrozenLlama, rank: Int = 8, sequences: Int = 4, length: Int = 200,
                               threads: Int = 2, runs: Int = 3, warmup: Int = 1, recompute: Bool = false) throws -> Measurement {
        var rng = SeededGenerator(seed: 1234)
        let config = try LoRAConfig(rank: rank, alpha: Double(2 * rank), targets: LoRATarget.allCases)
        let adapter = LoRAAdapter(name: "bench", config: config, shape: model.shape, rng: &rng)
        let tokens = (0..<sequences).map { _ in (0..<length).map { _ in Int32(rng.next() % UInt64(model.shape.vocab)) } }
        let batch = try TrainingBatch(sequences: tokens)
        let graph = TrainingGraph(model: model, maxSequences: sequences, maxLength: length, rank: rank, recompute: recompute, threads: threads)
        let optimizer = AdamW(count: adapter.parameterCount, settings: AdamW.Settings(weightDecay: 0))
        var loss = 0.0
        for _ in 0..<warmup {
            adapter.zeroGradients()
            _ = try graph.lossAndGradients(batch: batch, adapter: adapter)
        }
        graph.profiling = true
        let samples = try measureSeconds(runs: runs, warmup: 0) {
            adapter.zeroGradients()
            loss = try graph.lossAndGradients(batch: batch, adapter: adapter).loss
            clipGradientNorm(adapter.gradients, count: adapter.parameterCount, maxNorm: 1)
            optimizer.update(parameters: adapter.parameters, gradients: adapter.gradients, lr: 1e-4)
        }
        let sections = graph.sectionSeconds.map { (name: $0.key, seconds: $0.value / Double(runs)) }.sorted { $0.seconds > $1.seconds }
        return Measurement(stepSeconds: samples, tokensPerStep: batch.realTokens, loss: loss, sections: sections)
    }
}
