import PersonaCore

extension CommandTable {
    /// Commands of the sample area.
    static let sampleCommands: [CommandSpec] = []
}

extension BenchTable {
    /// Benchmarks of the sample area.
    static let sampleBenches: [BenchSpec] = []
}
