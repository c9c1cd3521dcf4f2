import Foundation
import XCTest

@testable import Proxy

final class ProxyConfigurationTests: XCTestCase {
    let base = #"{"accounts":[{"name":"a","kind":"chatgpt","accessToken":"fake-access","accountId":"fake-id"}]"#

    func decode(_ json: String, env: [String: String] = [:]) throws -> ProxyConfiguration {
        try ProxyConfiguration.decode(Data(json.utf8), environment: env)
    }

    func testMinimalConfigurationDecodesWithDefaults() throws {
        let c = try decode(base + "}")
        XCTAssertEqual(c.listen, .init(host: "127.0.0.1", port: 8787))
        XCTAssertEqual(c.accounts.first?.baseURL, "https://chatgpt.com/backend-api/codex")
        XCTAssertTrue(c.verifyTLS)
    }

    func testWebSocketLimitsDefaultTo16MiBAndNeverGoBelowAControlFrame() throws {
        let defaults = try decode(base + "}")
        XCTAssertEqual(defaults.maxWebSocketFrameBytes, 16 << 20)
        XCTAssertEqual(defaults.maxWebSocketMessageBytes, 16 << 20)
        let set = try decode(base + #","limits":{"maxWebSocketFrameBytes":4096,"maxWebSocketMessageBytes":8192}}"#)
        XCTAssertEqual(set.maxWebSocketFrameBytes, 4096)
        XCTAssertEqual(set.maxWebSocketMessageBytes, 8192)
        let tiny = try decode(base + #","limits":{"maxWebSocketFrameBytes":0,"maxWebSocketMessageBytes":-1}}"#)
        XCTAssertEqual(tiny.maxWebSocketFrameBytes, 125, "a client's close frame must still fit")
        XCTAssertEqual(tiny.maxWebSocketMessageBytes, 125)
    }

    /// The backlog a client that does not read may leave: 64 MiB unless set, never below the write high-water mark
    /// (a smaller one would drop a client before a pausable producer had even paused for it).
    func testTheDownstreamBacklogBoundDefaultsTo64MiBAndNeverGoesBelowTheHighWaterMark() throws {
        XCTAssertEqual(try decode(base + "}").maxDownstreamBacklogBytes, 64 << 20)
        XCTAssertEqual(
            try decode(base + #","limits":{"maxDownstreamBacklogBytes":1048576}}"#).maxDownstreamBacklogBytes,
            1 << 20
        )
        XCTAssertEqual(
            try decode(base + #","limits":{"maxDownstreamBacklogBytes":0}}"#).maxDownstreamBacklogBytes,
            256 << 10
        )
    }

    /// The admin routes exist only with a token digest, which must be 32 bytes of hex.
    func testTheAdminTokenIsADigest() throws {
        XCTAssertNil(try decode(base + "}").adminTokenSHA256)
        let digest = String(repeating: "ab", count: 32)
        XCTAssertEqual(try decode(base + #","admin":{"tokenSha256":"\#(digest)"}}"#).adminTokenSHA256?.count, 32)
        for bad in ["admin-FAKE-plaintext", String(repeating: "ab", count: 31), String(repeating: "zz", count: 32)] {
            XCTAssertThrowsError(try decode(base + #","admin":{"tokenSha256":"\#(bad)"}}"#)) { error in
                XCTAssertEqual((error as? ConfigurationError)?.reason, "invalid_admin_token")
                XCTAssertFalse("\(error)".contains(bad), "the value is never echoed")
            }
        }
    }

    func testUnknownKeysAreRejectedWithTheirPath() {
        for (json, path) in [
            (base + #","lisen":{"port":1}}"#, "lisen"),
            (base + #","log":{"stdout":true,"levle":"debug"}}"#, "log.levle"),
            (#"{"accounts":[{"name":"a","kind":"apikey","apiKey":"k","baseUrl":"x"}]}"#, "accounts[0].baseUrl"),
        ] {
            XCTAssertThrowsError(try decode(json), json) { error in
                XCTAssertEqual((error as? ConfigurationError)?.reason, "unknown_key")
                XCTAssertEqual((error as? ConfigurationError)?.detail, path)
            }
        }
    }

    /// A string that names no value of its key (a `kind` typo: `apiKey` is the credential's key, `apikey` the kind)
    /// is refused naming the key, as the documentation promises. Until 2026-12-08 the answer was
    /// `invalid_json: the configuration is not valid JSON`, for a file that was valid JSON.
    func testAValueTheKeyCannotHoldNamesTheKey() {
        for (json, path) in [
            (#"{"accounts":[{"name":"a","kind":"apiKey","apiKey":"sk-FAKE-0"}]}"#, "accounts[0].kind"),
            (#"{"accounts":[{"name":"a","apiKey":"sk-FAKE-0"},{"name":"b","kind":"ChatGPT"}]}"#, "accounts[1].kind"),
        ] {
            XCTAssertThrowsError(try decode(json), json) { error in
                XCTAssertEqual((error as? ConfigurationError)?.reason, "invalid_value", json)
                XCTAssertEqual((error as? ConfigurationError)?.detail, path, json)
                XCTAssertFalse("\(error)".contains("sk-FAKE"), "the value is never echoed")
            }
        }
        XCTAssertThrowsError(try decode(#"{"accounts":[}"#)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.reason, "invalid_json", "broken JSON is still that")
        }
    }

    /// A log level that names none (`warning`) once logged at INFO without a word; it is refused, naming the key.
    func testAnUnknownLogLevelIsRefused() throws {
        XCTAssertThrowsError(try decode(base + #","log":{"level":"warning"}}"#)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.reason, "invalid_value")
            XCTAssertTrue(((error as? ConfigurationError)?.detail ?? "").hasPrefix("log.level"))
        }
        XCTAssertEqual(try decode(base + #","log":{"level":"WARN"}}"#).logLevel, "WARN")
    }

    /// `1e300` seconds once decoded and then trapped at the first request that made it a timer's integer; a
    /// port past 65535 bound its low 16 bits. Both are refused at start-up now, naming the key.
    func testNumbersNoSettingCanMeanAreRefusedWithTheirKey() throws {
        for (json, key) in [
            (base + #","listen":{"port":70000}}"#, "listen.port"),
            (base + #","metrics":{"listen":{"port":-1}}}"#, "metrics.listen.port"),
            (base + #","upstream":{"connectTimeoutSeconds":1e300}}"#, "upstream.connectTimeoutSeconds"),
            (base + #","upstream":{"idleTimeoutSeconds":-5}}"#, "upstream.idleTimeoutSeconds"),
            (base + #","upstream":{"connectTimeoutSeconds":0}}"#, "upstream.connectTimeoutSeconds"),
            (base + #","limits":{"shutdownDrainSeconds":31536001}}"#, "limits.shutdownDrainSeconds"),
            (base + #","continuity":{"transcriptCacheBytes":-1}}"#, "continuity.transcriptCacheBytes"),
            (base + #","log":{"keepSegments":-2}}"#, "log.keepSegments"),
        ] {
            XCTAssertThrowsError(try decode(json), json) { error in
                XCTAssertEqual((error as? ConfigurationError)?.reason, "out_of_range", json)
                XCTAssertTrue("\(error)".contains(key), "\(error)")
            }
        }
        let edges = try decode(
            base + #","listen":{"port":0},"upstream":{"firstByteTimeoutSeconds":31536000,"idleTimeoutSeconds":0}}"#
        )
        XCTAssertEqual(edges.listen.port, 0)
        XCTAssertEqual(edges.upstreamFirstByteTimeoutSeconds, 31_536_000)
        XCTAssertEqual(edges.upstreamIdleTimeoutSeconds, 0)
    }

    func testSecretsFromEnvironmentAndErrorsNeverEchoValues() throws {
        let json = #"{"accounts":[{"name":"a","kind":"apikey","apiKeyEnv":"SIGHTLINE_TEST_KEY"}]}"#
        let c = try decode(json, env: ["SIGHTLINE_TEST_KEY": "sk-test-FAKE-from-env"])
        XCTAssertEqual(c.accounts.first?.apiKey?.reveal(), "sk-test-FAKE-from-env")
        XCTAssertEqual("\(c.accounts.first!.apiKey!)", "REDACTED")
        XCTAssertThrowsError(try decode(json)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.reason, "missing_environment")
        }
        XCTAssertThrowsError(try decode(#"{"accounts":[{"name":"a","kind":"apikey","apiKey":7}]}"#)) { error in
            XCTAssertFalse("\(error)".contains("7\""), "\(error)")
        }
    }

    func testDuplicateAccountsAndMissingCredentialsAreRejected() {
        XCTAssertThrowsError(try decode(#"{"accounts":[{"name":"a","apiKey":"k"},{"name":"a","apiKey":"k"}]}"#))
        XCTAssertThrowsError(try decode(#"{"accounts":[{"name":"a","kind":"chatgpt"}]}"#))
    }

    /// An account named "" is refused: `accounts.json` cannot hold it (an entry without a name is `corrupt_state`),
    /// so until 2026-12-08 the first `serve` started and wrote the file, and every later start stopped on
    /// `state_corrupt_state`, the rotated tokens of every account in a file it refused to read.
    func testAnAccountNeedsAName() throws {
        let directory = NSTemporaryDirectory() + "config-empty-name-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try AccountStore.open(stateDirectory: directory, seeds: [AccountStoreSeed(name: "")])
        XCTAssertThrowsError(try AccountStore.open(stateDirectory: directory, seeds: []), "why: the file refuses it")
        XCTAssertThrowsError(try decode(#"{"accounts":[{"name":"","kind":"apikey","apiKey":"sk-FAKE-0"}]}"#)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.reason, "invalid_value")
            XCTAssertEqual((error as? ConfigurationError)?.detail, "accounts[0].name must not be empty")
        }
    }

    /// A key belongs to one principal, and "anonymous" is no principal's name; several keys may share a name
    /// (a rotation: the old and the new key, one principal).
    func testClientKeysNameOnePrincipalEach() throws {
        func reason(_ keys: String) -> String? {
            do {
                _ = try decode(#"{"accounts":[{"name":"a","apiKey":"k"}],"clientKeys":"# + keys + "}")
                return nil
            } catch {
                return (error as? ConfigurationError)?.reason
            }
        }
        XCTAssertEqual(
            reason(#"[{"name":"x","key":"client-FAKE-1"},{"name":"y","key":"client-FAKE-1"}]"#),
            "duplicate_client_key"
        )
        XCTAssertEqual(reason(#"[{"name":"anonymous","key":"client-FAKE-1"}]"#), "invalid_client_key")
        XCTAssertEqual(reason(#"[{"name":"","key":"client-FAKE-1"}]"#), "invalid_client_key")
        XCTAssertNil(reason(#"[{"name":"x","key":"client-FAKE-1"},{"name":"x","key":"client-FAKE-2"}]"#))
        let error = try XCTUnwrap(
            { () -> ConfigurationError? in
                do {
                    _ = try decode(
                        #"{"accounts":[{"name":"a","apiKey":"k"}],"clientKeys":[{"name":"x","key":"client-FAKE-1"},"#
                            + #"{"name":"y","key":"client-FAKE-1"}]}"#
                    )
                    return nil
                } catch { return error as? ConfigurationError }
            }()
        )
        XCTAssertFalse(String(describing: error).contains("client-FAKE-1"), "never the key")
    }

    func testRawControlCharactersAreInvalidJSONNotAnUncheckedFile() {
        let json = "{\"accounts\":[{\"name\":\"a\",\"api\u{0}Key\":\"k\"}],\"x\":1}"
        XCTAssertThrowsError(try decode(json)) { error in
            XCTAssertTrue(
                ["invalid_json", "unknown_key"].contains((error as? ConfigurationError)?.reason ?? ""),
                "\(error)"
            )
        }
    }
}
