import PersonaCore

extension CommandTable {
    /// Commands of the train area.
    static let trainCommands: [CommandSpec] = []
}

extension BenchTable {
    /// Benchmarks of the train area.
    static let trainBenches: [BenchSpec] = []
}
