import PersonaCore

extension CommandTable {
    /// Commands of the model area.
    static let modelCommands: [CommandSpec] = []
}

extension BenchTable {
    /// Benchmarks of the model area.
    static let modelBenches: [BenchSpec] = []
}
