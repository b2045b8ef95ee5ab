import Foundation
import PersonaTensor

/// The tokenizer of a model file or folder: a GGUF file, or a Hugging Face folder with
/// `tokenizer.json`.
public func loadTokenizer(path: String) throws -> Tokenizer {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw TextError.invalid("\(path): no such file or folder")
    }
    if isDirectory.boolValue { return try loadTokenizer(huggingFaceDirectory: path) }
    return try loadTokenizer(gguf: GGUFFile(path: path))
}

/// The chat template of a model file or folder, or nil when it ships none.
public func loadChatTemplate(path: String) throws -> ChatTemplate? {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw TextError.invalid("\(path): no such file or folder")
    }
    if isDirectory.boolValue { return try loadChatTemplate(huggingFaceDirectory: path) }
    return try ChatTemplate.forModel(gguf: GGUFFile(path: path))
}
