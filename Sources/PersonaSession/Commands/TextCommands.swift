import PersonaCore

extension CommandTable {
    /// Commands of the text area.
    static let textCommands: [CommandSpec] = []
}

extension BenchTable {
    /// Benchmarks of the text area.
    static let textBenches: [BenchSpec] = []
}
