import Foundation
import XCTest

/// A bridged request whose upstream upgrade fails without an answer counts it in
/// `sightline_websocket_upgrade_failures_total{side="upstream",reason="connect_error"}`, as a WebSocket client's
/// session does. Until 2026-12-07 the bridge counted only upgrades the upstream answered with a status.
final class BridgeUpgradeFailureTests: XCTestCase {
    private var stack: SightlineStack!

    override func tearDown() { stack?.stop() }

    func testAnUpgradeResetBeforeAnyAnswerIsCountedAsAConnectError() throws {
        stack = try SightlineStack(label: "bridge-upgrade-reset", extraConfig: ["httpBridge": true])
        try stack.injectFault(account: nil, "connection_reset", params: ["stage": "handshake"])
        let r = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(
                path: "/v1/responses",
                json: #"{"model":"gpt-5.5","input":"hi","stream":true,"prompt_cache_key":"bridge-reset"}"#
            )
        )
        XCTAssertEqual(r.status, 200, r.bodyText)
        XCTAssertTrue(r.bodyText.contains("event: response.completed"), r.bodyText)
        XCTAssertEqual(
            try stack.metric(#"sightline_websocket_upgrade_failures_total{reason="connect_error",side="upstream"}"#),
            1
        )
    }
}
