import Foundation
import PersonaCore

/// JSONL shapes other trainers read.
public enum ExportFormat: String, CaseIterable, Sendable {
    /// Hugging Face TRL `SFTTrainer`: `{"messages": [...]}` for chat datasets (conversational
    /// format, roles from the imitated person's point of view), otherwise
    /// `{"prompt": header, "completion": messages}` (the prompt is not trained on).
    case trl
    /// mlx-lm LoRA: `{"messages": [...]}` for chat datasets, otherwise `{"text": chunk}`;
    /// the test split goes to `valid.jsonl` when exporting into a folder, as mlx-lm expects.
    case mlx
    /// Plain language-model text: `{"text": chunk}`.
    case text
}

/// Writes a dataset as one JSONL file per split, atomically and private (0600).
public enum DatasetExporter {
    public struct Written: Equatable, Sendable {
        public var split: DatasetSplit
        public var path: String
        public var lines: Int
    }

    /// The JSON object (one line, no trailing newline) for one chunk.
    public static func line(_ chunk: Chunk, dataset: Dataset, format: ExportFormat) -> String {
        let isChat = dataset.parameters.format == .chat
        switch format {
        case .trl where isChat, .mlx where isChat:
            return "{\"messages\": [" + messages(chunk, parameters: dataset.parameters).map { role, content in
                "{\"role\": \(jsonString(role)), \"content\": \(jsonString(content))}"
            }.joined(separator: ", ") + "]}"
        case .trl:
            let completion = chunk.text.hasPrefix(chunk.headerText) ? String(chunk.text.dropFirst(chunk.headerText.count)) : chunk.text
            let prompt = chunk.text.hasPrefix(chunk.headerText) ? chunk.headerText : ""
            return "{\"prompt\": \(jsonString(prompt)), \"completion\": \(jsonString(completion))}"
        case .mlx, .text:
            return "{\"text\": \(jsonString(chunk.text))}"
        }
    }

    /// The chunk as chat messages: a system prompt describing the conversation, then one
    /// message per turn, the imitated person as the assistant.
    public static func messages(_ chunk: Chunk, parameters: DatasetParameters) -> [(role: String, content: String)] {
        let context = ChunkContext(me: chunk.meName, them: chunk.personName, date: chunk.firstMessageAt,
                                   relationship: parameters.relationships[chunk.personName])
        var p = parameters
        p.format = .chat
        let system = (try? ChunkLayout(parameters: p))?.systemPrompt(context) ?? ""
        var out: [(role: String, content: String)] = [("system", system)]
        for turn in chunk.turns {
            let isAssistant = parameters.imitate == .them ? !turn.fromMe : turn.fromMe
            out.append((isAssistant ? "assistant" : "user", turn.text))
        }
        return out
    }

    /// Where each split goes: into a folder as `train.jsonl` and `test.jsonl` (`valid.jsonl`
    /// for mlx), or beside `FILE.jsonl` as `FILE.train.jsonl` and `FILE.test.jsonl`.
    public static func paths(for path: String, format: ExportFormat) -> [DatasetSplit: String] {
        var isDirectory: ObjCBool = false
        if path.hasSuffix("/") || (FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue) {
            let folder = path.hasSuffix("/") ? String(path.dropLast()) : path
            return [.train: folder + "/train.jsonl", .test: folder + (format == .mlx ? "/valid.jsonl" : "/test.jsonl")]
        }
        let stem = path.hasSuffix(".jsonl") ? String(path.dropLast(6)) : path
        return [.train: stem + ".train.jsonl", .test: stem + ".test.jsonl"]
    }

    @discardableResult
    public static func export(_ dataset: Dataset, format: ExportFormat, to path: String) throws -> [Written] {
        guard !path.isEmpty else { throw DataError.badExport(reason: "no output file given") }
        let targets = paths(for: path, format: format)
        if path.hasSuffix("/") { try PrivateFiles.makeDirectory(String(path.dropLast())) }
        var written: [Written] = []
        for split in DatasetSplit.allCases {
            guard let target = targets[split] else { continue }
            var text = ""
            var lines = 0
            for chunk in dataset.chunks where chunk.split == split {
                text += line(chunk, dataset: dataset, format: format)
                text += "\n"
                lines += 1
            }
            try PrivateFiles.writeAtomically(text, to: target)
            written.append(Written(split: split, path: target, lines: lines))
        }
        return written
    }
}
