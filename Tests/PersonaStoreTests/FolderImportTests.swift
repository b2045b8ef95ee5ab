import CZlib
import Foundation
import XCTest
import PersonaCore
@testable import PersonaStore

/// Files found in a folder beside the exports (photos, read-me files, zipped photos) are
/// not exports: `importIfExport` passes them over, while `importFile` of the same file,
/// named on its own, is an error; an export that is broken is an error either way.
final class FolderImportTests: StoreTestCase {
    /// A zip with its members stored (not deflated): enough for the central directory to list them.
    static func storedZip(_ members: [(String, [UInt8])]) -> [UInt8] {
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
        var zip: [UInt8] = [], central: [UInt8] = []
        for (name, data) in members {
            let nameBytes = Array(name.utf8)
            let crc = data.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
            let offset = UInt32(zip.count)
            zip += le32(0x0403_4B50) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(crc)
            zip += le32(UInt32(data.count)) + le32(UInt32(data.count)) + le16(nameBytes.count) + le16(0) + nameBytes + data
            central += le32(0x0201_4B50) + le16(20) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(crc)
            central += le32(UInt32(data.count)) + le32(UInt32(data.count)) + le16(nameBytes.count) + le16(0) + le16(0) + le16(0) + le16(0)
            central += le32(0) + le32(offset) + nameBytes
        }
        let directory = zip.count
        zip += central
        zip += le32(0x0605_4B50) + le16(0) + le16(0) + le16(members.count) + le16(members.count)
        zip += le32(UInt32(central.count)) + le32(UInt32(directory)) + le16(0)
        return zip
    }

    /// The first bytes of a JPEG (SOI, a JFIF APP0 segment) followed by bytes that are not UTF-8.
    static let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10] + Array("JFIF".utf8) + [0x00, 0x01, 0x01, 0x00, 0x48, 0xC3, 0x28, 0xFF, 0xD9]

    func testFilesThatAreNotExportsArePassedOver() throws {
        let readme = try write("These are my exports from 2023.\nThe photos are from the trip.\n", to: "README.txt")
        let photo = try write(Data(Self.jpeg), to: "IMG-20240101-WA0001.jpg")
        let empty = try write("", to: "notes.txt")
        let zippedPhotos = try write(Data(Self.storedZip([("IMG-0001.jpg", Self.jpeg)])), to: "photos.zip")
        for path in [readme, photo, empty, zippedPhotos] {
            XCTAssertNil(try store.importIfExport(path, options: options()), path)
        }
        XCTAssertEqual(try store.database.scalarInt("SELECT COUNT(*) FROM imports"), 0)
        // Named on its own, the same file is an error that says how to force a format.
        assertStoreError(["README.txt", "cannot detect the format", "give format="]) { _ = try store.importFile(readme, options: options()) }
        assertStoreError(["IMG-20240101-WA0001.jpg", "cannot detect the format"]) { _ = try store.importFile(photo, options: options()) }
        assertStoreError(["notes.txt", "the file is empty"]) { _ = try store.importFile(empty, options: options()) }
        assertStoreError(["photos.zip", "no chat text"]) { _ = try store.importFile(zippedPhotos, options: options()) }
    }

    func testExportsInAFolderImportAndBrokenOnesStillFail() throws {
        let csv = try write("timestamp,conversation,sender,text\n2024-05-01T09:00:00Z,Juno,Juno Park,morning\n", to: "chat.csv")
        let s = try XCTUnwrap(try store.importIfExport(csv, options: options()))
        XCTAssertEqual(s.format, .csv)
        XCTAssertEqual(s.newMessages, 1)
        let zipped = try write(Data(Self.storedZip([("_chat.txt", Array("[01/02/2024, 10:00:00] Ines Duarte: hi\n".utf8)),
                                                    ("IMG-0001.jpg", Self.jpeg)])), to: "WhatsApp Chat - Ines Duarte.zip")
        XCTAssertEqual(try store.importIfExport(zipped, options: options())?.newMessages, 1)
        // Looks like an export (an SMS backup), but is cut short: an error, and nothing of it is kept.
        let cut = try write(String(SMSBackupImportTests.xml.prefix(400)), to: "sms.xml")
        assertStoreError([cut, "line 4", "truncated"]) { _ = try store.importIfExport(cut, options: options()) }
        // A zip too damaged to list may be a broken export: it is reported, not passed over.
        let damaged = try write(Data([0x50, 0x4B, 0x03, 0x04] + Array(repeating: 0, count: 40)), to: "WhatsApp Chat - Cut.zip")
        assertStoreError(["WhatsApp Chat - Cut.zip", "zip"]) { _ = try store.importIfExport(damaged, options: options()) }
        XCTAssertEqual(try all().count, 2)
    }
}
