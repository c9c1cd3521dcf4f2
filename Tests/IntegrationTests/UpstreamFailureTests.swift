import Foundation
import XCTest

/// What a client sees when the upstream cannot be reached at all.
final class UpstreamFailureTests: XCTestCase {
    func testRefusedUpstreamGivesAWellFormed502() throws {
        // A port nothing listens on: bind one, learn it, close it.
        let unused = TestEnvironment.randomPort()
        let stack = try SightlineStack(label: "refused") { _ in
            (1...2).map { i in
                [
                    "name": "dead\(i)", "kind": "chatgpt", "baseURL": "http://127.0.0.1:\(unused)/backend-api/codex",
                    "accountId": "sim-account-\(i)", "accessToken": "sim-access-acct\(i)-0",
                ]
            }
        }
        defer { stack.stop() }
        let started = Date()
        let r = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(path: "/v1/responses", json: #"{"model":"gpt-5.5","input":"hi","stream":true}"#)
        )
        XCTAssertEqual(r.status, 502, r.bodyText)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
        let error = try XCTUnwrap(json["error"] as? [String: Any])
        XCTAssertEqual(error["code"] as? String, "upstream_unavailable")
        XCTAssertEqual(error["type"] as? String, "server_error")
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        // Both accounts were tried (failover) and each decision is on /metrics.
        let metrics = try HTTPTestClient.get(port: stack.proxyPort, path: "/metrics").bodyText
        XCTAssertTrue(
            metrics.contains(#"sightline_recovery_decisions_total{decision="failover",outcome="attempted"} 1"#),
            metrics
        )
        XCTAssertTrue(metrics.contains(#"sightline_recovery_decisions_total{decision="failover",outcome="gave_up"} 1"#))
    }
}
