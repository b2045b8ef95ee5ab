import PersonaCore

extension CommandTable {
    /// Commands of the inspect area.
    static let inspectCommands: [CommandSpec] = []
}

extension BenchTable {
    /// Benchmarks of the inspect area.
    static let inspectBenches: [BenchSpec] = []
}
