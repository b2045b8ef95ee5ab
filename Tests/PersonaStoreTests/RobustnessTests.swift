import CZlib
import Foundation
import XCTest
import PersonaCore
@testable import PersonaStore

/// Damaged exports must give an error, never a crash: every format's fixture is cut short
/// and has bytes flipped (with a fixed seed), and each variant is imported.
/// `PERSONA_FUZZ_VARIANTS=400` runs more variants per fixture (2,400 passed when written).
final class RobustnessTests: StoreTestCase {
    func fixtures() throws -> [(String, [UInt8])] {
        var out: [(String, [UInt8])] = [
            ("imazing.csv", Array(IMazingImportTests.fifteen.utf8)),
            ("sms.xml", Array(SMSBackupImportTests.xml.utf8)),
            ("result.json", Array(TelegramImportTests.single.utf8)),
            ("contacts.vcf", Array("BEGIN:VCARD\nVERSION:3.0\nFN:Bea Santos\nTEL:(415) 555-0177\nEND:VCARD\n".utf8)),
        ]
        for name in ["whatsapp-ferry.txt", "WhatsApp Chat - Rosa Delgado.zip"] {
            out.append((name, [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/" + name)))))
        }
        return out
    }

    func testCutAndCorruptedExportsFailCleanly() throws {
        var rng = SeededGenerator(seed: 2024)
        var imported = 0, refused = 0
        for (name, bytes) in try fixtures() {
            for variant in 0..<(ProcessInfo.processInfo.environment["PERSONA_FUZZ_VARIANTS"].flatMap(Int.init) ?? 24) {
                var damaged = bytes
                if variant % 2 == 0 {
                    damaged = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count))))
                } else {
                    for _ in 0..<(1 + Int(rng.next() % 4)) {
                        damaged[Int(rng.next() % UInt64(damaged.count))] = UInt8(truncatingIfNeeded: rng.next())
                    }
                }
                let path = try write(Data(damaged), to: "\(variant)-\(name)")
                do {
                    _ = try store.importFile(path, options: options(me: "Kim Osei"))
                    imported += 1
                } catch let error as StoreError {
                    refused += 1
                    XCTAssertFalse(error.message.contains("\n"), error.message)
                } catch {
                    XCTFail("\(path): not a StoreError: \(error)")
                }
            }
        }
        XCTAssertGreaterThan(refused, 20)
        XCTAssertGreaterThan(imported, 10)
    }

    /// A zip whose member is stored rather than deflated (some tools write those).
    func testStoredZipMember() throws {
        let chat = Array("[01/02/2024, 10:00:00] Ines Duarte: hi\n[01/02/2024, 10:01:00] Teo Lund: hey\n".utf8)
        let name = Array("_chat.txt".utf8)
        let crc = chat.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
        var zip: [UInt8] = le32(0x0403_4B50) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(crc)
        zip += le32(UInt32(chat.count)) + le32(UInt32(chat.count)) + le16(name.count) + le16(0) + name + chat
        let directory = zip.count
        zip += le32(0x0201_4B50) + le16(20) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(crc)
        zip += le32(UInt32(chat.count)) + le32(UInt32(chat.count)) + le16(name.count) + le16(0) + le16(0) + le16(0) + le16(0)
        zip += le32(0) + le32(0) + name
        let directorySize = zip.count - directory
        zip += le32(0x0605_4B50) + le16(0) + le16(0) + le16(1) + le16(1) + le32(UInt32(directorySize)) + le32(UInt32(directory)) + le16(0)
        let path = try write(Data(zip), to: "WhatsApp Chat - Ines Duarte.zip")
        let s = try store.importFile(path, options: options())
        XCTAssertEqual(s.newMessages, 2)
        XCTAssertEqual(try all().map(\.isMe), [false, true])
    }
}
