import PersonaCore

extension CommandTable {
    /// Commands of the data area.
    static let dataCommands: [CommandSpec] = []
}

extension BenchTable {
    /// Benchmarks of the data area.
    static let dataBenches: [BenchSpec] = []
}
