import Foundation
import PersonaCore
import PersonaTestSupport
import XCTest
@testable import PersonaSession

/// `import FOLDER`: a WhatsApp export folder holds the chat beside its photos, and people
/// keep read-me files beside their exports. Those are skipped and named in one line.
final class ImportCommandTests: XCTestCase {
    var directory = ""
    let output = CapturedOutput()
    var bench: Workbench!

    override func setUpWithError() throws {
        directory = try TestPaths.temporaryDirectory("import-command")
        bench = Workbench(workspacePath: directory + "/ws", output: output)
    }

    override func tearDownWithError() throws {
        bench = nil
        try? FileManager.default.removeItem(atPath: directory)
    }

    func write(_ bytes: [UInt8], to path: String) throws {
        let full = directory + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: full))
    }

    /// Not UTF-8 (0xFF never is), as a photo's bytes are not.
    let photo: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0xFF, 0xD9]

    func testFolderSkipsFilesThatAreNotExportsInOneLine() throws {
        try write(Array("[25/02/2024, 10:00:00] Ines Duarte: hi\n[25/02/2024, 10:01:00] Teo Lund: hey\n".utf8),
                  to: "exports/WhatsApp Chat with Ines Duarte.txt")
        try write(Array("timestamp,conversation,sender,text\n2024-05-01T09:00:00Z,Juno,Juno Park,morning\n".utf8), to: "exports/juno.csv")
        try write(Array("My exports, 2024.\nThe photos are from the trip.\n".utf8), to: "exports/README.txt")
        for i in 1...7 { try write(photo, to: "exports/IMG-2024010\(i)-WA000\(i).jpg") }
        try bench.execute(line: "import \(directory)/exports me=\"Teo Lund\" timezone=UTC")
        let lines = output.take().split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3, "\(lines)")
        XCTAssertTrue(lines[0].contains("/exports/WhatsApp Chat with Ines Duarte.txt: whatsapp, 1 conversation, 2 new"), lines[0])
        XCTAssertTrue(lines[1].contains("juno.csv: csv, 1 conversation, 1 new"), lines[1])
        XCTAssertEqual(lines[2], "skipped 8 files that are not exports: IMG-20240101-WA0001.jpg, IMG-20240102-WA0002.jpg, "
                       + "IMG-20240103-WA0003.jpg, IMG-20240104-WA0004.jpg, IMG-20240105-WA0005.jpg, and 3 more")
    }

    func testOneSkippedFileAndTheErrorsThatRemain() throws {
        try write(Array("timestamp,conversation,sender,text\n2024-05-01T09:00:00Z,Juno,Juno Park,morning\n".utf8), to: "a/juno.csv")
        try write(Array("read me\n".utf8), to: "a/README.txt")
        try bench.execute(line: "import \(directory)/a")
        XCTAssertEqual(output.take().split(separator: "\n").last, "skipped 1 file that is not an export: README.txt")
        // Named on its own, a file that is not an export is an error.
        XCTAssertThrowsError(try bench.execute(line: "import \(directory)/a/README.txt")) { error in
            XCTAssertTrue(describeError(error).contains("cannot detect the format of \(directory)/a/README.txt"), describeError(error))
        }
        // A folder with nothing to import says so.
        try write(photo, to: "b/IMG-0001.jpg")
        XCTAssertThrowsError(try bench.execute(line: "import \(directory)/b")) { error in
            XCTAssertEqual(describeError(error), "import: none of the files found is an export: IMG-0001.jpg; import one by name to see why, or give format=")
        }
        // An export that is broken stops the import, in a folder too: the file before it is kept, whole.
        try write(Array("timestamp,conversation,sender,text\n2024-05-02T09:00:00Z,Kai,Kai Lee,yo\n".utf8), to: "c/1.csv")
        try write(Array("timestamp,conversation,sender,text\nnot a time,Kai,Kai Lee,yo\n".utf8), to: "c/2.csv")
        try write(photo, to: "c/3.jpg")
        XCTAssertThrowsError(try bench.execute(line: "import \(directory)/c")) { error in
            XCTAssertTrue(describeError(error).contains("2.csv: line 2: timestamp 'not a time'"), describeError(error))
        }
        XCTAssertTrue(output.take().contains("1.csv: csv, 1 conversation, 1 new"))
    }
}
