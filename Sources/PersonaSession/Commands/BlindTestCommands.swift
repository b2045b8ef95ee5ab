import Foundation
import PersonaCore
import PersonaData
import PersonaEval
import PersonaStore

extension CommandTable {
    static let blindTestCommands: [CommandSpec] = [
        CommandSpec("blindtest", summary: "Real or generated? Judge held-out real messages and generated ones shown in random order",
                    details: """
                    The generated messages are the person's turns in a stored evaluation (eval=N, default the latest that \
                    judged them); the real ones are their held-out messages in that evaluation's dataset. Single mode shows one \
                    message at a time (half of them generated) and asks real or generated (r/g); --pairs shows one of each and \
                    asks which is real (1/2). Answers are read from the terminal, from piped standard input, or from answers= \
                    (comma-separated, for session files). The result is the share of generated messages judged real: above half, \
                    the judge could not tell. Every test is stored.
                    """,
                    examples: ["blindtest with=\"Alex Chen\"", "blindtest with=\"Alex Chen\" n=6 --pairs", "blindtest with=\"Alex Chen\" n=4 answers=r,g,g,r"],
                    arguments: [
                        .keyed("with", .string, required: true, "the person whose messages to judge"),
                        .keyed("n", .int, default: "10", "questions (pairs with --pairs)"),
                        .keyed("eval", .int, "the evaluation whose generated turns to use (default: the latest with this person)"),
                        .keyed("answers", .string, "the answers, comma-separated, instead of asking"),
                        .flag("pairs", "show one real and one generated side by side; ask which is real"),
                    ]) { ctx in
            let a = ctx.arguments
            let person = try a.required("with")
            let n = a.int("n", default: 10)
            guard (1...500).contains(n) else { throw CommandError.badValue(command: "blindtest", argument: "n", value: String(n), expected: "1 to 500") }
            let records = try ctx.evalRecords()
            let evalID: Int64
            if let given = a.int("eval") {
                evalID = Int64(given)
            } else {
                let candidates = try records.evals().reversed().filter { row in
                    (try? EvalReport.fromJSON(row.reportJSON))?.persons.contains { $0.person == person } == true
                }
                guard let latest = candidates.first else {
                    throw CommandError.failed(command: "blindtest", reason: "no stored eval judged \(person); run 'eval ADAPTER on=DATASET' first")
                }
                evalID = latest.id
            }
            let report = try EvalRunner.load(ctx, evalID)
            let generated = report.conversations.filter { $0.person == person }.flatMap(\.personTexts).filter { !$0.isEmpty }
            guard !generated.isEmpty else {
                throw CommandError.failed(command: "blindtest", reason: "eval \(evalID) has no generated turns by \(person)")
            }
            let real = RealMessages(dataset: try ctx.dataset(named: report.settings.dataset)).texts(of: person, split: .test)
            guard !real.isEmpty else {
                throw CommandError.failed(command: "blindtest", reason: "\(person) has no held-out messages in dataset '\(report.settings.dataset)'")
            }
            var rng = ctx.bench.rng.fork()
            let test = BlindTest(real: real, generated: generated, count: n, pairs: a.flag("pairs"), rng: &rng)
            var scripted = a.string("answers").map { $0.split(separator: ",").map { String($0) } }
            func nextAnswer() -> String? {
                if scripted != nil { return scripted!.isEmpty ? nil : scripted!.removeFirst() }
                return ctx.evalArea.readAnswer()
            }
            ctx.print("blind test: \(test.items.count) \(test.pairs ? "pairs" : "messages") of \(person) (generated ones from eval \(evalID))")
            var answers: [Int] = []
            var answerTexts: [String] = []
            questions: for (i, item) in test.items.enumerated() {
                ctx.print()
                if test.pairs {
                    ctx.print("\(i + 1)/\(test.items.count):")
                    ctx.print("  1: \(item.snippets[0])")
                    ctx.print("  2: \(item.snippets[1])")
                } else {
                    ctx.print("\(i + 1)/\(test.items.count): \(item.snippets[0])")
                }
                let question = test.pairs ? "which is real? [1/2] " : "real or generated? [r/g] "
                var tries = 0
                while true {
                    ctx.bench.output.write(question)
                    guard let text = nextAnswer() else {
                        ctx.print()
                        ctx.print("(no more answers: scoring the \(answers.count) given)")
                        break questions
                    }
                    // A typed answer is already on the screen; a scripted or piped one is shown.
                    if scripted != nil || isatty(0) == 0 { ctx.print(text) }
                    if let answer = test.parseAnswer(text) {
                        answers.append(answer)
                        answerTexts.append(text.trimmingCharacters(in: .whitespaces))
                        break
                    }
                    tries += 1
                    if tries >= 3 {
                        throw CommandError.badValue(command: "blindtest", argument: "answer", value: text,
                                                    expected: test.pairs ? "1 or 2" : "r (real) or g (generated)")
                    }
                }
            }
            guard !answers.isEmpty else { throw CommandError.failed(command: "blindtest", reason: "no answers given; nothing stored") }
            let score = test.score(answers)
            ctx.print()
            var rows = [["#", "was", "answer"]]
            for (i, (item, answer)) in zip(test.items, answers).enumerated() {
                let truth = test.pairs ? "real is \(item.realIndex! + 1)" : (item.isReal ? "real" : "generated")
                let said = test.pairs ? "said \(answer + 1)" : (answer == 1 ? "real" : "generated")
                rows.append([String(i + 1), truth, said])
            }
            ctx.printTable(rows, rightAligned: [0])
            let items = String(decoding: try JSONEncoder().encode(test), as: UTF8.self)
            let id = try records.saveBlindTest(person: person, source: "eval \(evalID)", pairs: test.pairs, itemsJSON: items,
                                               answers: answerTexts.joined(separator: ","), generatedJudgedReal: score.generatedJudgedReal)
            ctx.print(String(format: "%d of %d right; generated messages judged real: %d of %d (%.0f%%; above 50%% the judge could not tell)",
                             score.correct, score.answered, Int((score.generatedJudgedReal * Double(score.generatedShown)).rounded()),
                             score.generatedShown, score.generatedJudgedReal * 100))
            ctx.print("saved as blind test \(id)")
        },
    ]
}
