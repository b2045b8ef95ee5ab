import Foundation
import PersonaCore
import PersonaTensor

/// A benchmark: `persona bench NAME` prints a table, `--json` one JSON object.
public struct BenchSpec {
    public var name: String
    public var summary: String
    public var run: (CommandContext) throws -> BenchReport

    public init(_ name: String, summary: String, run: @escaping (CommandContext) throws -> BenchReport) {
        self.name = name; self.summary = summary; self.run = run
    }
}

public enum BenchTable {
    public static let all: [BenchSpec] = [
        storeBenches, textBenches, modelFileBenches, modelBenches, dataBenches, inspectBenches, sampleBenches, trainBenches,
    ].flatMap { $0 }
}

extension CommandTable {
    static let benchCommands: [CommandSpec] = [
        CommandSpec("bench", summary: "Run a benchmark and print its figures",
                    details: "Benchmarks measure; they never fail a test. The value is the median of the runs.",
                    examples: ["bench import", "bench decode --threads 2 --json"],
                    arguments: [
                        .positional("name", .choice(BenchTable.all.map(\.name)), required: false, "the benchmark"),
                        .keyed("model", .path, "model file or folder (default: the default model)"),
                        .keyed("threads", .int, "threads (default: the session's)"),
                        .keyed("runs", .int, "repetitions"),
                        .flag("json", "print one JSON object instead of a table"),
                    ]) { ctx in
            guard let name = ctx.arguments.string("name") else {
                ctx.printTable([["bench", "what it measures"]] + BenchTable.all.map { [$0.name, $0.summary] })
                return
            }
            guard let spec = BenchTable.all.first(where: { $0.name == name }) else {
                throw CommandError.unknownCommand("bench " + name, suggestion: nil)
            }
            var report = try spec.run(ctx)
            report.machine = BenchMachine.describe(threads: ctx.arguments.int("threads") ?? ctx.bench.settings.threads)
            ctx.print(ctx.arguments.flag("json") ? report.json() : report.table())
            if let warning = BenchMachine.openBLASWarning() { ctx.bench.diagnostics.write("warning: " + warning + "\n") }
        },
    ]
}

/// Where a benchmark ran: every figure names its CPU, the vector path of this build and the
/// thread count, and the OpenBLAS kernel in use, since OpenBLAS picks it by guessing the CPU.
enum BenchMachine {
    static func describe(threads: Int) -> [(key: String, value: String)] {
        [("cpu", CPUFeatures.modelName), ("cpu_supports", CPUFeatures.cpuSupports), ("vector_path", CPUFeatures.vectorPath),
         ("threads", String(threads)), ("openblas_core", BLASThreads.coreName)]
    }

    /// OpenBLAS kernels that use less than the AVX2 width: on a CPU OpenBLAS does not
    /// recognise it falls back to one of these (PRESCOTT, its SSE3 kernel, on an Intel Xeon
    /// seen here) and runs at a fraction of the machine.
    static let genericCores: Set<String> = ["prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai",
                                            "coppermine", "northwood", "banias", "opteron", "barcelona", "generic", "unknown"]

    static func openBLASWarning(core: String = BLASThreads.coreName, cpuHasAVX2: Bool = CPUFeatures.cpuHasAVX2) -> String? {
        guard cpuHasAVX2, genericCores.contains(core.lowercased()) else { return nil }
        return "OpenBLAS runs its generic \(core) kernel on this CPU (\(CPUFeatures.modelName)): figures that go through sgemm are far below the machine's"
    }
}
