import PersonaCore

extension CommandTable {
    /// Commands that read model files (GGUF, safetensors folders) without running them.
    static let modelFileCommands: [CommandSpec] = []
}

extension BenchTable {
    /// Benchmarks of model-file reading.
    static let modelFileBenches: [BenchSpec] = []
}
