/// Counts of a dataset by person and split, and how many messages its chunks hold.
public struct DatasetStatistics: Equatable, Sendable {
    public struct Row: Equatable, Sendable {
        public var person: String
        public var split: DatasetSplit
        public var chunks = 0
        public var tokens = 0
        /// Tokens the loss counts.
        public var countedTokens = 0
        /// Distinct messages shown.
        public var messages = 0
    }

    /// One row per (person, split), persons in first-appearance order, train before test.
    public var rows: [Row]
    public var totals: [DatasetSplit: Row]
    /// Messages per chunk (overlap context included): how many chunks hold n messages.
    public var messagesPerChunk: [Int: Int]
    public var messagesPerChunkQuantiles: (min: Int, p25: Int, median: Int, p75: Int, max: Int)
    public var meanMessagesPerChunk: Double
    /// Messages shown in both splits (must be zero).
    public var messagesInBothSplits: Int

    public static func == (a: DatasetStatistics, b: DatasetStatistics) -> Bool {
        a.rows == b.rows && a.totals == b.totals && a.messagesPerChunk == b.messagesPerChunk
            && a.messagesPerChunkQuantiles == b.messagesPerChunkQuantiles
            && a.meanMessagesPerChunk == b.meanMessagesPerChunk && a.messagesInBothSplits == b.messagesInBothSplits
    }

    public init(_ dataset: Dataset) {
        var order: [String] = []
        var byKey: [String: Row] = [:]
        var messageSets: [String: Set<Int64>] = [:]
        var splitIDs: [DatasetSplit: Set<Int64>] = [.train: [], .test: []]
        var totals: [DatasetSplit: Row] = [.train: Row(person: "all", split: .train), .test: Row(person: "all", split: .test)]
        var histogram: [Int: Int] = [:]
        var counts: [Int] = []
        for chunk in dataset.chunks {
            if !order.contains(chunk.personName) { order.append(chunk.personName) }
            let key = chunk.personName + "\u{0}" + chunk.split.rawValue
            var row = byKey[key] ?? Row(person: chunk.personName, split: chunk.split)
            row.chunks += 1
            row.tokens += chunk.tokens.count
            row.countedTokens += chunk.countedTokens
            byKey[key] = row
            messageSets[key, default: []].formUnion(chunk.sourceMessageIDs)
            splitIDs[chunk.split, default: []].formUnion(chunk.sourceMessageIDs)
            totals[chunk.split]?.chunks += 1
            totals[chunk.split]?.tokens += chunk.tokens.count
            totals[chunk.split]?.countedTokens += chunk.countedTokens
            histogram[chunk.messageCount, default: 0] += 1
            counts.append(chunk.messageCount)
        }
        var rows: [Row] = []
        for person in order {
            for split in DatasetSplit.allCases {
                let key = person + "\u{0}" + split.rawValue
                guard var row = byKey[key] else { continue }
                row.messages = messageSets[key]?.count ?? 0
                rows.append(row)
            }
        }
        for split in DatasetSplit.allCases { totals[split]?.messages = splitIDs[split]?.count ?? 0 }
        self.rows = rows
        self.totals = totals
        messagesPerChunk = histogram
        counts.sort()
        func quantile(_ q: Double) -> Int {
            guard !counts.isEmpty else { return 0 }
            return counts[min(counts.count - 1, Int((Double(counts.count - 1) * q).rounded()))]
        }
        messagesPerChunkQuantiles = (quantile(0), quantile(0.25), quantile(0.5), quantile(0.75), quantile(1))
        meanMessagesPerChunk = counts.isEmpty ? 0 : Double(counts.reduce(0, +)) / Double(counts.count)
        messagesInBothSplits = (splitIDs[.train] ?? []).intersection(splitIDs[.test] ?? []).count
    }
}
