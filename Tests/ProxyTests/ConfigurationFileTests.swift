import Foundation
import XCTest

@testable import Proxy

final class ConfigurationFileTests: XCTestCase {
    func testPermissionRule() {
        XCTAssertNil(ConfigurationFile.permissionProblem(mode: 0o600, hasInlineSecret: true))
        XCTAssertNil(ConfigurationFile.permissionProblem(mode: 0o400, hasInlineSecret: true))
        XCTAssertNil(ConfigurationFile.permissionProblem(mode: 0o640, hasInlineSecret: false))
        XCTAssertNotNil(ConfigurationFile.permissionProblem(mode: 0o640, hasInlineSecret: true))
        XCTAssertNotNil(ConfigurationFile.permissionProblem(mode: 0o644, hasInlineSecret: false))
        XCTAssertNotNil(ConfigurationFile.permissionProblem(mode: 0o601, hasInlineSecret: false))
        XCTAssertNotNil(ConfigurationFile.permissionProblem(mode: 0o620, hasInlineSecret: false))
    }

    func testInlineSecretDetection() {
        func has(_ json: String) -> Bool { ConfigurationFile.hasInlineSecret(Data(json.utf8)) }
        XCTAssertTrue(has(#"{"accounts":[{"name":"a","accessToken":"sim-access-FAKE"}]}"#))
        XCTAssertTrue(has(#"{"accounts":[{"name":"a","apiKey":"sk-test-FAKE"}]}"#))
        XCTAssertTrue(has(#"{"accounts":[],"clientKeys":[{"name":"k","key":"client-FAKE"}]}"#))
        XCTAssertFalse(has(#"{"accounts":[{"name":"a","accessTokenEnv":"T","accountIdEnv":"A"}]}"#))
        XCTAssertFalse(has(#"{"accounts":[],"clientKeys":[{"name":"k","sha256":"00"}]}"#), "a hash is no secret")
        XCTAssertFalse(has(#"{"accounts":[{"name":"a","accessToken":""}]}"#), "empty is nothing")
        XCTAssertFalse(has("not json"))
    }

    func testReadRefusesAWorldReadableFileAndNamesNoValue() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = FileManager.default.createFile(
            atPath: path,
            contents: Data(#"{"accounts":[{"name":"a","accessToken":"sim-access-FAKE"}]}"#.utf8),
            attributes: [.posixPermissions: 0o644]
        )
        XCTAssertThrowsError(try ConfigurationFile.read(path)) { error in
            let e = error as? ConfigurationError
            XCTAssertEqual(e?.reason, "insecure_permissions")
            XCTAssertFalse(e?.description.contains("sim-access-FAKE") ?? true)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        XCTAssertFalse(try ConfigurationFile.read(path).isEmpty)
        XCTAssertThrowsError(try ConfigurationFile.read(path + ".missing"))
    }

    /// A key held twice is refused, naming its path and no value. The decoder kept the first copy and the permission
    /// check the last: a group-readable file whose first `accounts` held an inline key was accepted, and a typo in
    /// one copy of `log` passed the unknown-key check.
    func testARepeatedKeyIsRefusedBeforeEitherParserChoosesACopy() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let json = #"{"accounts":[{"name":"a","kind":"apikey","apiKey":"sk-FAKE-dup"}],"accounts":[]}"#
        _ = FileManager.default.createFile(
            atPath: path,
            contents: Data(json.utf8),
            attributes: [.posixPermissions: 0o640]
        )
        XCTAssertThrowsError(try ConfigurationFile.read(path)) { error in
            let e = error as? ConfigurationError
            XCTAssertEqual(e?.reason, "duplicate_key")
            XCTAssertEqual(e?.detail, "accounts")
            XCTAssertFalse(e?.description.contains("sk-FAKE-dup") ?? true)
        }
        for (json, path) in [
            (#"{"accounts":[],"log":{"levle":"debug"},"log":{}}"#, "log"),
            (#"{"accounts":[{"name":"a","apiKey":"x","apiKey":"y"}]}"#, "accounts[0].apiKey"),
            (#"{"accounts":[],"upstream":{"limits":{"a":1},"x":[{"k":1,"k":2}]}}"#, "upstream.x[0].k"),
        ] {
            XCTAssertEqual(ConfigurationFile.duplicateKey(in: Data(json.utf8)), path, json)
            XCTAssertThrowsError(try ConfigurationFile.decode(Data(json.utf8), environment: [:])) { error in
                XCTAssertEqual((error as? ConfigurationError)?.reason, "duplicate_key")
            }
        }
        XCTAssertNil(
            ConfigurationFile.duplicateKey(in: Data(#"{"a":{"k":1},"b":{"k":1}}"#.utf8)),
            "same key, two objects"
        )
    }
}
