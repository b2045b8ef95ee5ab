import PersonaCore

extension CommandTable {
    /// Commands of the store area.
    static let storeCommands: [CommandSpec] = []
}

extension BenchTable {
    /// Benchmarks of the store area.
    static let storeBenches: [BenchSpec] = []
}
