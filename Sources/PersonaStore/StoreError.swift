import PersonaCore

/// Errors of the store layer, each one line a person can act on.
public enum StoreError: UserFacingError, Equatable {
    /// SQLite refused something: the database file, the result code and SQLite's own words.
    case database(path: String, code: Int32, reason: String)
    /// A file being imported is malformed at `location` ("line 12", "byte 4096", "row 7").
    case badInput(file: String, location: String?, reason: String)
    /// No importer recognised the file.
    case cannotDetectFormat(file: String)
    /// The named person is not in the store.
    case noSuchPerson(String)
    /// A name matches more than one person.
    case ambiguousPerson(String, candidates: [String])
    /// A command-level mistake (bad option value and the like).
    case invalid(String)

    public var message: String {
        switch self {
        case .database(let path, let code, let reason): return "\(path): database error \(code): \(reason)"
        case .badInput(let file, let location?, let reason): return "\(file): \(location): \(reason)"
        case .badInput(let file, nil, let reason): return "\(file): \(reason)"
        case .cannotDetectFormat(let file):
            return "cannot detect the format of \(file); give format= with one of \(ImportFormat.allCases.map(\.rawValue).joined(separator: ", "))"
        case .noSuchPerson(let name): return "no person named '\(name)' in the store"
        case .ambiguousPerson(let name, let candidates):
            return "'\(name)' matches several people: \(candidates.joined(separator: ", "))"
        case .invalid(let what): return what
        }
    }

    public var hint: String? {
        switch self {
        case .noSuchPerson: return "'people' lists them"
        case .ambiguousPerson: return "use the person's number from 'people' (#12)"
        default: return nil
        }
    }
}
