import Foundation
import XCTest

/// With fake but realistic-looking credentials configured (API keys, OAuth tokens, account ids, client
/// keys), drive traffic including errors, then prove none of them appears in the log file, stdout,
/// stderr or `/metrics` — while their pseudonyms do appear where expected.
final class SecretLeakTests: XCTestCase {
    // Shaped like the real thing, obviously not real: every value says FAKE or TEST.
    static let apiKey = "sk-proj-FAKEFAKEtestKEY0123456789abcdefABCDEF0123"
    static let clientKey = "sk-sightline-client-TESTKEY-0123456789abcdef"
    static func accessToken(_ i: Int) -> String {
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJGQUtFLXRlc3QtdXNlci\(i)iLCJleHAiOjE5MDAwMDAwMDB9.FAKEsignatureTEST\(i)abcdefghijklmnop"
    }
    static func refreshToken(_ i: Int) -> String { "rt_FAKE_refresh_token_test_\(i)_0123456789abcdefghij" }
    static func accountID(_ i: Int) -> String { "d3b07384-FAKE-4e2a-9c1b-00000000000\(i)" }

    func testNoConfiguredSecretReachesLogsOrMetrics() throws {
        let simulatorAccounts: [[String: Any]] = (1...2).map { i in
            [
                "name": "leak\(i)", "accountId": Self.accountID(i), "accessToken": Self.accessToken(i),
                "refreshToken": Self.refreshToken(i), "apiKey": Self.apiKey, "plan": "plus",
            ]
        }
        let stack = try SightlineStack(
            label: "leak",
            extraConfig: ["clientKeys": [["name": "ci", "key": Self.clientKey]]],
            simulator: ["accounts": simulatorAccounts]
        ) { base in
            (1...2).map { i in
                [
                    "name": "leak\(i)", "kind": "chatgpt", "baseURL": base, "accountId": Self.accountID(i),
                    "accessToken": Self.accessToken(i), "refreshToken": Self.refreshToken(i),
                ]
            }
        }
        defer { stack.stop() }
        let auth = [("Authorization", "Bearer \(Self.clientKey)")]
        func post(_ json: String, _ extra: [(String, String)] = []) throws -> ParsedResponse {
            try HTTPTestClient.exchange(
                port: stack.proxyPort,
                HTTPTestClient.post(path: "/v1/responses", json: json, headers: auth + extra)
            )
        }
        XCTAssertEqual(try post(#"{"model":"m","input":"hi","stream":true}"#).status, 200)
        XCTAssertEqual(try post(#"{"model":"m","input":"hi"}"#).status, 200)
        for fault in ["usage_limit", "server_error", "token_invalidated", "stream_cut", "previous_response_not_found"] {
            _ = try post(#"{"model":"m","input":"fault","stream":true}"#, [("x-sim-fault", fault)])
        }
        // A wrong client key, and secrets pasted into a request body and headers by a careless client.
        let rejected = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(
                path: "/v1/responses",
                json: "{}",
                headers: [("Authorization", "Bearer \(Self.apiKey)")]
            )
        )
        XCTAssertEqual(rejected.status, 401)
        _ = try post(
            #"{"model":"m","input":"my key is \#(Self.apiKey)","stream":true}"#,
            [("x-debug", Self.accessToken(1))]
        )
        let metrics = try HTTPTestClient.get(port: stack.proxyPort, path: "/metrics").bodyText
        stack.proxy.stop()  // flush everything

        let everything = stack.allOutput() + metrics
        XCTAssertFalse(everything.isEmpty)
        let secrets = [
            Self.apiKey, Self.clientKey, Self.accessToken(1), Self.accessToken(2), Self.refreshToken(1),
            Self.refreshToken(2), Self.accountID(1), Self.accountID(2),
        ]
        for secret in secrets {
            XCTAssertFalse(everything.contains(secret), "a configured secret leaked")
            // Also no long fragment of it (a truncated token is still a leak).
            XCTAssertFalse(everything.contains(String(secret.suffix(24))), "a fragment of a configured secret leaked")
        }
        // The pseudonym of account 1 (of its name) is what operators grep for; it must be there.
        let stateDir = stack.directory.appendingPathComponent("state").path
        let hash = try ChildProcess(
            name: "hash-id",
            executable: TestEnvironment.sightlineBinary,
            arguments: ["hash-id", "--kind", "account", "--state-dir", stateDir, "leak1"],
            directory: stack.directory
        )
        XCTAssertEqual(hash.waitForExit(timeout: 10), 0, hash.stderr)
        let pseudonym = hash.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(pseudonym.hasPrefix("acct_") && pseudonym.count == 21, pseudonym)
        XCTAssertTrue(everything.contains(pseudonym), "the account pseudonym should appear in logs and metrics")
        XCTAssertTrue(metrics.contains(#"account="\#(pseudonym)""#))
    }
}
