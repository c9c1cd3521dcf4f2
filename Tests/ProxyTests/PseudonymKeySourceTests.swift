import Foundation
import XCTest

@testable import Proxy

/// Which key the proxy's pseudonyms come from: `pseudonymKeyFile` unless the environment names a key. An empty
/// `SIGHTLINE_PSEUDONYM_KEY` (compose's `KEY=${UNSET}`) names none. It used to override the file: the proxy made a
/// new `pseudonym.key`, every `acct_` label changed, and the continuity state written under the old key was lost.
final class PseudonymKeySourceTests: XCTestCase {
    func testAnEmptyEnvironmentKeyLeavesTheConfiguredFileInForce() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sightline-keysource-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyFile = directory.appendingPathComponent("operator.key").path
        try Data(String(repeating: "ab", count: 32).utf8).write(to: URL(fileURLWithPath: keyFile))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyFile)
        let state = directory.appendingPathComponent("state").path
        let config = """
            {"listen":{"host":"127.0.0.1","port":0},"stateDirectory":"\(state)","pseudonymKeyFile":"\(keyFile)",
             "log":{"stdout":false},
             "accounts":[{"name":"a1","kind":"apikey","baseURL":"http://127.0.0.1:9/v1","apiKey":"sk-FAKE-key-source"}]}
            """
        func keyID(_ environment: [String: String]) throws -> String {
            let proxy = try SightlineProxy(configurationJSON: Data(config.utf8), environment: environment)
            defer { proxy.shutdown() }
            return proxy.ctx.pseudonymizer.keyID
        }
        let fromFile = try keyID([:])
        XCTAssertEqual(try keyID(["SIGHTLINE_PSEUDONYM_KEY": ""]), fromFile)
        XCTAssertFalse(FileManager.default.fileExists(atPath: state + "/pseudonym.key"), "no second key was made")
        XCTAssertNotEqual(try keyID(["SIGHTLINE_PSEUDONYM_KEY": String(repeating: "cd", count: 32)]), fromFile)
    }

    /// A configured key file that does not exist yet is created (0600), as the default one is; serve refused to
    /// start with `not_found`.
    func testAMissingConfiguredKeyFileIsCreated() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sightline-keynew-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyFile = directory.appendingPathComponent("keys/operator.key").path
        let config = """
            {"listen":{"host":"127.0.0.1","port":0},"stateDirectory":"\(directory.path)/state",
             "pseudonymKeyFile":"\(keyFile)","log":{"stdout":false},
             "accounts":[{"name":"a1","kind":"apikey","baseURL":"http://127.0.0.1:9/v1","apiKey":"sk-FAKE-key-new"}]}
            """
        let proxy = try SightlineProxy(configurationJSON: Data(config.utf8), environment: [:])
        proxy.shutdown()
        let mode = try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? NSNumber
        XCTAssertEqual(mode?.intValue, 0o600)
    }
}
