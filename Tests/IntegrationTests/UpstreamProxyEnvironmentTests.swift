import Foundation
import XCTest

/// Where the proxy's upstream traffic goes is its configuration's choice, never its environment's: the
/// `http_proxy` family of variables is ignored by HTTP transfers and upstream WebSockets alike
/// (`CurlConnectionOptions`, docs/websocket.md).
final class UpstreamProxyEnvironmentTests: XCTestCase {
    var stack: SightlineStack!

    override func tearDown() { stack?.stop() }

    /// Every proxy variable libcurl reads points at a closed port, and nothing is exempt: an HTTP request and a
    /// WebSocket turn still reach the simulator directly. Until 2026-12-07 the upstream WebSocket followed
    /// them, so the turn failed to connect while HTTP worked.
    func testProxyEnvironmentVariablesDivertNeitherHTTPNorWebSocketTraffic() throws {
        let nowhere = "http://127.0.0.1:1"
        stack = try SightlineStack(
            label: "proxy-environment",
            proxyEnvironment: [
                "http_proxy": nowhere, "https_proxy": nowhere, "HTTPS_PROXY": nowhere, "all_proxy": nowhere,
                "ALL_PROXY": nowhere, "no_proxy": "", "NO_PROXY": "",
            ]
        )
        let r = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(
                path: "/v1/responses",
                json: #"{"model":"gpt-5.5","input":"Say hello"}"#,
                headers: [("Authorization", "Bearer client-FAKE")]
            )
        )
        XCTAssertEqual(r.status, 200, r.bodyText)

        let ws = try WebSocketClient(
            port: stack.proxyPort,
            path: "/v1/responses",
            headers: [("Authorization", "Bearer client-FAKE")]
        )
        defer { ws.close() }
        XCTAssertEqual(ws.status, 101)
        XCTAssertNotNil(try ws.turn(WebSocketProxyTests.frame(nil, "hello")))
        XCTAssertEqual(
            try stack.metric(#"sightline_websocket_upstream_turns_total{client="websocket",session="new"}"#),
            1
        )
    }
}
