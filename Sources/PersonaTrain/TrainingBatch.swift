/// A batch of B token sequences right-padded to one length T, with next-token targets.
/// `targets[i]` is the token at i + 1 when the loss mask counts it, else −1: the loss is the
/// mean cross-entropy over the tokens the mask counts (the same as transformers with
/// labels = input ids where uncounted labels are −100).
public struct TrainingBatch: Sendable {
    public let sequences: Int
    public let length: Int
    public let tokens: [Int32]     // [B·T]
    public let targets: [Int32]    // [B·T], −1 = not counted
    public let keyMask: [UInt8]    // [B·T], 1 = a real token
    public let positions: [Int32]  // [B·T]
    public var rows: Int { sequences * length }
    public var countedTokens: Int { targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }
    /// Real (unpadded) tokens.
    public var realTokens: Int { keyMask.reduce(0) { $0 + Int($1) } }

    /// `counted[s][i]` says whether token i of sequence s is a prediction target (nil: every
    /// token after the first). Sequences longer than `maxLength` are cut.
    public init(sequences seqs: [[Int32]], counted: [[Bool]]? = nil, maxLength: Int = .max) throws {
        guard !seqs.isEmpty else { throw TrainError.noData("an empty batch") }
        let length = min(maxLength, seqs.map(\.count).max() ?? 0)
        guard length >= 2 else { throw TrainError.noData("sequences need at least two tokens to predict one") }
        var tokens = [Int32](repeating: 0, count: seqs.count * length)
        var targets = [Int32](repeating: -1, count: seqs.count * length)
        var mask = [UInt8](repeating: 0, count: seqs.count * length)
        var positions = [Int32](repeating: 0, count: seqs.count * length)
        for (s, seq) in seqs.enumerated() {
            let n = min(seq.count, length)
            for i in 0..<length { positions[s * length + i] = Int32(i) }
            for i in 0..<n {
                tokens[s * length + i] = seq[i]
                mask[s * length + i] = 1
                if i + 1 < n {
                    let counts = counted.map { s < $0.count && i + 1 < $0[s].count && $0[s][i + 1] } ?? true
                    if counts { targets[s * length + i] = seq[i + 1] }
                }
            }
        }
        self.sequences = seqs.count; self.length = length
        self.tokens = tokens; self.targets = targets; self.keyMask = mask; self.positions = positions
    }
}
