import PersonaCore

/// Errors of the tensor layer, each one line a person can act on.
public enum TensorError: UserFacingError {
    case invalid(String)
    /// A model file (GGUF, safetensors) that cannot be read: the file, what was wrong, and where.
    case malformedFile(path: String, what: String)
    /// A file that could not be opened or mapped at all.
    case unreadableFile(path: String, reason: String)
    /// A tensor type the reader knows the layout of but cannot convert.
    case unsupportedType(String)

    public var message: String {
        switch self {
        case .invalid(let what): return what
        case .malformedFile(let path, let what): return "\(path): \(what)"
        case .unreadableFile(let path, let reason): return "\(path): cannot read the file: \(reason)"
        case .unsupportedType(let what): return what
        }
    }

    public var hint: String? {
        switch self {
        case .malformedFile: return "the file may be truncated or corrupt; download it again"
        case .unsupportedType: return "supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K"
        default: return nil
        }
    }
}
