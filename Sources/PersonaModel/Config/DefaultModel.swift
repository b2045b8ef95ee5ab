import Foundation
import PersonaCore

/// Where the default model is found, in one order for every command:
///
/// 1. `model=` as given on the command line;
/// 2. the `PERSONA_MODEL` environment variable;
/// 3. `models/SmolLM2-135M-Instruct.Q4_1.gguf` in the current folder;
/// 4. the same file in the checkout the executable was built in (found from the executable's
///    real path, so a link on PATH works from any folder);
/// 5. the user cache that scripts/setup fills, `${XDG_CACHE_HOME:-~/.cache}/persona/`.
public enum DefaultModel {
    public static let fileName = "SmolLM2-135M-Instruct.Q4_1.gguf"
    public static let relativePath = "models/" + fileName

    /// A place the default model may be, for the resolution and its error message.
    public struct Place: Equatable {
        public var label: String
        public var path: String
    }

    /// The model path for a command given `explicit` (a `model=` value) or nothing.
    public static func resolve(_ explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                               currentDirectory: String = FileManager.default.currentDirectoryPath) throws -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let configured = environment["PERSONA_MODEL"], !configured.isEmpty {
            guard FileManager.default.fileExists(atPath: configured) else {
                throw DefaultModelError.environmentPathMissing(configured)
            }
            return configured
        }
        let places = searchPlaces(environment: environment, currentDirectory: currentDirectory)
        if let found = places.first(where: { FileManager.default.fileExists(atPath: $0.path) }) {
            return found.label == "the current folder" ? relativePath : found.path
        }
        throw DefaultModelError.notFound(places: places)
    }

    /// The default model's path, or nil when none of the places has it (for `--version`).
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        try? resolve(nil, environment: environment)
    }

    /// Places 3 to 5, in order, without duplicates.
    public static func searchPlaces(environment: [String: String], currentDirectory: String) -> [Place] {
        var places = [Place(label: "the current folder", path: currentDirectory + "/" + relativePath)]
        if let checkout = checkoutOfExecutable() ?? checkoutOfSource() {
            places.append(Place(label: "the checkout persona was built in", path: checkout + "/" + relativePath))
        }
        places.append(Place(label: "the user cache", path: cacheFolder(environment: environment) + "/" + fileName))
        var seen = Set<String>()
        return places.filter { seen.insert(URL(fileURLWithPath: $0.path).standardizedFileURL.path).inserted }
    }

    /// `${XDG_CACHE_HOME:-~/.cache}/persona`, where scripts/setup keeps the model it fetched.
    public static func cacheFolder(environment: [String: String]) -> String {
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/persona" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.cache/persona"
    }

    /// The folder above the executable's real path that holds Package.swift: the release
    /// binary lives at CHECKOUT/.build/TRIPLE/release/persona, and a link on PATH resolves to it.
    static func checkoutOfExecutable() -> String? {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        guard executable.path != "/proc/self/exe" else { return nil }
        return packageFolder(above: executable)
    }

    /// The checkout this file was compiled from, when it is still there.
    static func checkoutOfSource() -> String? {
        packageFolder(above: URL(fileURLWithPath: #filePath))
    }

    private static func packageFolder(above url: URL) -> String? {
        var folder = url.deletingLastPathComponent()
        for _ in 0..<6 {
            if FileManager.default.fileExists(atPath: folder.path + "/Package.swift") { return folder.path }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { break }
            folder = parent
        }
        return nil
    }
}

/// The default model could not be found.
public enum DefaultModelError: UserFacingError, Equatable {
    case notFound(places: [DefaultModel.Place])
    case environmentPathMissing(String)

    public var message: String {
        switch self {
        case .notFound(let places):
            return "no model given and the default model (\(DefaultModel.fileName)) is not in "
                + places.map { "\($0.label) (\($0.path))" }.joined(separator: ", ")
        case .environmentPathMissing(let path):
            return "PERSONA_MODEL names \(path), which does not exist"
        }
    }

    public var hint: String? {
        "give model=FILE (a GGUF file or a Hugging Face folder), set PERSONA_MODEL=FILE, or run scripts/setup in the checkout to fetch the default model"
    }
}
