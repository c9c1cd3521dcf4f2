import Foundation
import XCTest

@testable import Proxy

final class AtomicFileTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "atomicfile-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func testRepeatedWritesAlwaysLeaveOneWholeFileWithMode0600() throws {
        let path = directory + "/state.json"
        for round in 0..<200 {
            let payload = Array("{\"round\":\(round),\"pad\":\"\(String(repeating: "x", count: round * 7))\"}".utf8)
            try AtomicFile.write(payload, to: path)
            XCTAssertEqual(try AtomicFile.read(path), payload)
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        // No temporary files are left behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["state.json"])
    }

    func testWriteOfDataAndCustomMode() throws {
        let path = directory + "/public.txt"
        try AtomicFile.write(Data("hello".utf8), to: path, mode: 0o640)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o640)
        XCTAssertEqual(try AtomicFile.read(path, requirePrivate: false), Array("hello".utf8))
    }

    func testReadRefusesGroupOrWorldReadableFile() throws {
        let path = directory + "/loose.json"
        try AtomicFile.write(Array("{}".utf8), to: path)
        XCTAssertEqual(chmod(path, 0o644), 0)
        XCTAssertThrowsError(try AtomicFile.read(path)) { error in
            XCTAssertEqual((error as? AtomicFileError)?.reason, .insecurePermissions)
        }
        XCTAssertEqual(try AtomicFile.read(path, requirePrivate: false), Array("{}".utf8))
    }

    func testMissingFileIsNotFoundAndReadIfExistsIsNil() throws {
        let path = directory + "/absent.json"
        XCTAssertThrowsError(try AtomicFile.read(path)) { error in
            XCTAssertEqual((error as? AtomicFileError)?.reason, .notFound)
        }
        XCTAssertNil(try AtomicFile.readIfExists(path))
    }

    func testWriteIntoMissingDirectoryFailsAndLeavesNothing() throws {
        let path = directory + "/no/such/dir/state.json"
        XCTAssertThrowsError(try AtomicFile.write([1, 2, 3], to: path)) { error in
            XCTAssertEqual((error as? AtomicFileError)?.reason.description, "not_found")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), [])
    }

    func testWriteIntoReadOnlyDirectoryIsPermissionDenied() throws {
        try XCTSkipIf(geteuid() == 0, "root ignores directory permissions")
        let locked = directory + "/locked"
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false)
        XCTAssertEqual(chmod(locked, 0o500), 0)
        defer { chmod(locked, 0o700) }
        XCTAssertThrowsError(try AtomicFile.write([1], to: locked + "/state.json")) { error in
            XCTAssertEqual((error as? AtomicFileError)?.reason, .permissionDenied)
        }
    }

    func testEnsureDirectoryCreatesPrivateDirectory() throws {
        let path = directory + "/state/nested"
        try AtomicFile.ensureDirectory(path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o700)
        try AtomicFile.ensureDirectory(path)  // idempotent
    }
}
