import Foundation
import PersonaCore

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
            let report = try spec.run(ctx)
            ctx.print(ctx.arguments.flag("json") ? report.json() : report.table())
        },
    ]
}
