import Foundation
import XCTest

@testable import LogRedaction

final class PseudonymKeyStoreTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "sightline-keystore-\(UUID().uuidString)"
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    func testCreatesKeyOnceWithPrivateModes() throws {
        let stateDirectory = directory + "/state"
        let first = try PseudonymKeyStore.loadOrCreate(
            explicitKeyHex: nil,
            environment: [:],
            stateDirectory: stateDirectory
        )
        XCTAssertEqual(first.count, 32)
        let keyPath = stateDirectory + "/pseudonym.key"
        XCTAssertEqual(try mode(keyPath), 0o600)
        XCTAssertEqual(try mode(stateDirectory), 0o700)
        let contents = try String(contentsOfFile: keyPath, encoding: .utf8)
        XCTAssertEqual(contents, Hex.encode(first) + "\n")
        let second = try PseudonymKeyStore.loadOrCreate(
            explicitKeyHex: nil,
            environment: [:],
            stateDirectory: stateDirectory
        )
        XCTAssertEqual(first, second)
        // No temporary files are left behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: stateDirectory), ["pseudonym.key"])
    }

    func testExplicitKeyThenEnvironmentTakePrecedence() throws {
        let explicit = String(repeating: "ab", count: 32)
        let environment = String(repeating: "cd", count: 32)
        XCTAssertEqual(
            try PseudonymKeyStore.loadOrCreate(
                explicitKeyHex: explicit,
                environment: ["SIGHTLINE_PSEUDONYM_KEY": environment],
                stateDirectory: directory
            ),
            [UInt8](repeating: 0xab, count: 32)
        )
        XCTAssertEqual(
            try PseudonymKeyStore.loadOrCreate(
                explicitKeyHex: nil,
                environment: ["SIGHTLINE_PSEUDONYM_KEY": environment],
                stateDirectory: directory
            ),
            [UInt8](repeating: 0xcd, count: 32)
        )
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory), "no key file is created when one is given")
    }

    func testBadEnvironmentKeysAreRefused() {
        XCTAssertThrowsError(
            try PseudonymKeyStore.loadOrCreate(
                explicitKeyHex: nil,
                environment: ["SIGHTLINE_PSEUDONYM_KEY": "not-hex"],
                stateDirectory: directory
            )
        ) { XCTAssertEqual(($0 as? PseudonymKeyError)?.reason, .invalidHex) }
        XCTAssertThrowsError(
            try PseudonymKeyStore.loadOrCreate(
                explicitKeyHex: nil,
                environment: ["SIGHTLINE_PSEUDONYM_KEY": "abcd"],
                stateDirectory: directory
            )
        ) { XCTAssertEqual(($0 as? PseudonymKeyError)?.reason, .keyTooShort) }
    }

    func testRefusesGroupOrWorldReadableKeyFile() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/pseudonym.key"
        try (String(repeating: "00", count: 32) + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        for badMode in [0o644, 0o640, 0o604, 0o660] {
            XCTAssertEqual(chmod(path, mode_t(badMode)), 0)
            XCTAssertThrowsError(try PseudonymKeyStore.load(keyFile: path)) { error in
                XCTAssertEqual((error as? PseudonymKeyError)?.reason, .insecurePermissions)
                XCTAssertFalse("\(error)".contains("0000000000"), "errors never include key bytes")
            }
            XCTAssertThrowsError(
                try PseudonymKeyStore.loadOrCreate(explicitKeyHex: nil, environment: [:], stateDirectory: directory)
            )
        }
        XCTAssertEqual(chmod(path, 0o600), 0)
        XCTAssertEqual(try PseudonymKeyStore.load(keyFile: path), [UInt8](repeating: 0, count: 32))
    }

    func testLoadsRawKeyFilesAndReportsMissingOnes() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/raw.key"
        let raw = (0..<32).map { UInt8(200 + $0 % 50) }
        XCTAssertTrue(
            FileManager.default.createFile(atPath: path, contents: Data(raw), attributes: [.posixPermissions: 0o600])
        )
        XCTAssertEqual(try PseudonymKeyStore.load(keyFile: path), raw)
        XCTAssertThrowsError(try PseudonymKeyStore.load(keyFile: directory + "/missing.key")) {
            XCTAssertEqual(($0 as? PseudonymKeyError)?.reason, .notFound)
        }
    }
}
