import Foundation
import XCTest
import PersonaTestSupport
@testable import PersonaModel

/// The one resolution order every command uses for the default model.
final class DefaultModelTests: XCTestCase {
    func testExplicitThenEnvironmentThenCurrentFolder() throws {
        let folder = try TestPaths.temporaryDirectory("default-model")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        XCTAssertEqual(try DefaultModel.resolve("given.gguf", environment: ["PERSONA_MODEL": "/elsewhere.gguf"]), "given.gguf")

        let configured = folder + "/mine.gguf"
        FileManager.default.createFile(atPath: configured, contents: Data([0]))
        XCTAssertEqual(try DefaultModel.resolve(nil, environment: ["PERSONA_MODEL": configured]), configured)
        XCTAssertThrowsError(try DefaultModel.resolve(nil, environment: ["PERSONA_MODEL": folder + "/missing.gguf"])) {
            XCTAssertEqual($0 as? DefaultModelError, .environmentPathMissing(folder + "/missing.gguf"))
        }

        // models/ in the current folder comes before the checkout and the cache.
        try FileManager.default.createDirectory(atPath: folder + "/models", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: folder + "/" + DefaultModel.relativePath, contents: Data([0]))
        let places = DefaultModel.searchPlaces(environment: ["XDG_CACHE_HOME": folder + "/cache"], currentDirectory: folder)
        XCTAssertEqual(places.first?.path, folder + "/" + DefaultModel.relativePath)
        XCTAssertEqual(places.last?.path, folder + "/cache/persona/" + DefaultModel.fileName)
        XCTAssertEqual(try DefaultModel.resolve(nil, environment: [:], currentDirectory: folder), DefaultModel.relativePath)
    }

    func testTheCheckoutIsFoundFromTheSourceAndTheCacheFollowsXDG() {
        XCTAssertEqual(DefaultModel.checkoutOfSource(), TestPaths.packageRoot)
        XCTAssertEqual(DefaultModel.cacheFolder(environment: ["XDG_CACHE_HOME": "/x/cache", "HOME": "/home/u"]), "/x/cache/persona")
        XCTAssertEqual(DefaultModel.cacheFolder(environment: ["HOME": "/home/u"]), "/home/u/.cache/persona")
        // A relative XDG_CACHE_HOME is invalid by the spec and ignored.
        XCTAssertEqual(DefaultModel.cacheFolder(environment: ["XDG_CACHE_HOME": "rel", "HOME": "/home/u"]), "/home/u/.cache/persona")
    }

    func testNotFoundIsOneLineNamingThePlacesAndTheFixes() {
        let error = DefaultModelError.notFound(places: [.init(label: "the current folder", path: "/w/models/m.gguf"),
                                                        .init(label: "the user cache", path: "/h/.cache/persona/m.gguf")])
        let line = error.description
        XCTAssertFalse(line.contains("\n"))
        for expected in ["/w/models/m.gguf", "/h/.cache/persona/m.gguf", "model=FILE", "PERSONA_MODEL", "scripts/setup"] {
            XCTAssertTrue(line.contains(expected), "\(expected) missing from: \(line)")
        }
    }
}
