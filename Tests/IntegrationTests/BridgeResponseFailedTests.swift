import Foundation
import XCTest

/// An upstream `response.failed` on a bridged request is decided as the HTTP path decides it: by its code alone,
/// its reset read from the error under `response`. Until 2026-12-07 the bridge read every early one as a 500: a
/// usage limit cooled its account for 5 s instead of until its reset, and a failure nothing recovers was sent
/// again over HTTP, so the model ran twice for it.
final class BridgeResponseFailedTests: XCTestCase {
    private var stack: SightlineStack!

    override func tearDown() { stack?.stop() }

    private func start(_ label: String) throws {
        stack = try SightlineStack(label: label, extraConfig: ["httpBridge": true])
    }

    private func post(stream: Bool, key: String) throws -> ParsedResponse {
        try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(
                path: "/v1/responses",
                json: #"{"model":"gpt-5.5","input":"hi","stream":\#(stream),"prompt_cache_key":"\#(key)"}"#
            )
        )
    }

    /// The sends the simulator answered: bridged turns (`WS`) and plain HTTP requests (`POST`).
    private func upstreamSends() throws -> [[String: Any]] {
        try stack.simulatorLog().filter { ["WS", "POST"].contains($0["method"] as? String ?? "") }
    }

    func testAnEarlyUsageLimitCoolsTheAccountUntilItsResetAndMovesOn() throws {
        try start("bridge-failed-limit")
        let params: [String: Any] = ["code": "usage_limit_reached", "resets_in_seconds": 900]
        try stack.injectFault(account: nil, "response_failed", params: params)
        let before = Date().timeIntervalSince1970
        let r = try post(stream: true, key: "bridge-failed-limit")
        XCTAssertEqual(r.status, 200, r.bodyText)
        XCTAssertTrue(r.bodyText.contains("event: response.completed"), r.bodyText)
        XCTAssertFalse(r.bodyText.contains("usage_limit_reached"), r.bodyText)
        let sends = try upstreamSends()
        XCTAssertEqual(sends.count, 2, "\(sends)")
        XCTAssertNotEqual(sends.first?["account"] as? String, sends.last?["account"] as? String, "\(sends)")
        XCTAssertEqual(try stack.decision("pin_reset").succeeded, 1)
        let until = try stack.cooldownsUntil().filter { $0 > 0 }
        XCTAssertEqual(until.count, 1, "\(until)")
        XCTAssertEqual(until.first ?? 0, before + 900, accuracy: 5, "the reset the error names, not 5 s")
    }

    func testAnEarlyFailureNothingRecoversIsRelayedOnce() throws {
        try start("bridge-failed-unknown")
        for stream in [true, false] {
            try stack.injectFault(account: nil, "response_failed", params: ["code": "invalid_image"])
            let r = try post(stream: stream, key: "bridge-failed-unknown-\(stream)")
            if stream {
                XCTAssertEqual(r.status, 200)
                XCTAssertTrue(r.bodyText.contains("event: response.failed"), r.bodyText)
            } else {
                XCTAssertEqual(r.status, 502, r.bodyText)
            }
            XCTAssertTrue(r.bodyText.contains("invalid_image"), r.bodyText)
        }
        let sends = try upstreamSends()
        XCTAssertEqual(sends.count, 2, "each request sent once, never again over HTTP: \(sends)")
        XCTAssertEqual(sends.filter { $0["method"] as? String == "POST" }.count, 0, "\(sends)")
        XCTAssertEqual(try stack.cooldownsUntil().filter { $0 > 0 }, [], "an unknown code says nothing of the account")
        XCTAssertEqual(try stack.decision("failover").attempted, 0)
        XCTAssertEqual(try stack.requests("5xx"), 2, "as the 502 the code stands for")
    }

    func testAUsageLimitAfterOutputCoolsTheAccountAsOverHTTP() throws {
        try start("bridge-failed-late-limit")
        let params: [String: Any] = ["code": "usage_limit_reached", "after": 5, "mode": "failed"]
        try stack.injectFault(account: nil, "response_failed", params: params)
        let r = try post(stream: true, key: "bridge-failed-late-limit")
        XCTAssertTrue(r.bodyText.contains("event: response.failed"), r.bodyText)
        XCTAssertTrue(r.bodyText.contains("response.output_text.delta"), "after output: \(r.bodyText)")
        // No reset named after output: the bare 429 backoff, as over HTTP.
        XCTAssertEqual(try stack.cooldownsUntil().filter { $0 > Date().timeIntervalSince1970 }.count, 1)
        XCTAssertEqual(try stack.coolingAccounts(), 1)
    }

    /// A bare error frame after output reached the client (how the backend fails a response mid-stream over a
    /// WebSocket) ends the stream as the same `error` event does over HTTP: a terminal `response.failed` with the
    /// upstream's code, which Codex classifies (`context_length_exceeded` is fatal for it). Until 2026-12-08 the
    /// client got `stream_incomplete`, which Codex retries, and the request was logged as that.
    func testAnErrorFrameAfterOutputIsRelayedWithItsCode() throws {
        try start("bridge-error-late")
        let params: [String: Any] = ["code": "context_length_exceeded", "after": 5, "status": 400]
        try stack.injectFault(account: nil, "response_failed", params: params)
        let r = try post(stream: true, key: "bridge-error-late")
        XCTAssertEqual(r.status, 200)
        XCTAssertTrue(r.bodyText.contains("response.output_text.delta"), "after output: \(r.bodyText)")
        XCTAssertTrue(r.bodyText.contains("event: response.failed"), r.bodyText)
        XCTAssertTrue(r.bodyText.contains(#""code":"context_length_exceeded""#), r.bodyText)
        XCTAssertFalse(r.bodyText.contains("stream_incomplete"), r.bodyText)
        let last = try XCTUnwrap(stack.awaitLogRecords(event: "sightline.request", count: 1).last)
        let attributes = try XCTUnwrap(last["attributes"] as? [String: Any])
        XCTAssertEqual(attributes["sightline.bridge"] as? Bool, true, "\(attributes)")
        XCTAssertEqual(attributes["error.type"] as? String, "context_length_exceeded")
        XCTAssertEqual(try stack.requests("4xx"), 1, "as the 400 the frame carries")
        let open = #"sightline_websocket_open_sessions{side="upstream"}"#
        XCTAssertTrue(poll(timeout: 5) { (try? self.stack.metric(open)) == 0 }, "the failed session's socket goes")
    }

    /// A `response.failed` the HTTP path can still recover is handed to it, not relayed: here
    /// `invalid_encrypted_content` on a body holding reasoning another account sealed, which the HTTP path strips
    /// when its own send is refused the same way. Relayed (as the first version of the bridge's code decision did),
    /// the conversation ended.
    func testAFailureTheHTTPPathRecoversIsHandedOver() throws {
        try start("bridge-failed-sealed")
        try stack.injectFault(account: nil, "response_failed", params: ["code": "invalid_encrypted_content"])
        let input =
            #"[{"type":"reasoning","id":"rs_elsewhere","summary":[],"encrypted_content":"gAAAA-sim-sealed-acct9-x"},"#
            + #"{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}]"#
        let r = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(
                path: "/v1/responses",
                json: #"{"model":"gpt-5.5","stream":true,"prompt_cache_key":"bridge-sealed","input":\#(input)}"#
            )
        )
        XCTAssertEqual(r.status, 200, r.bodyText)
        XCTAssertTrue(r.bodyText.contains("event: response.completed"), r.bodyText)
        XCTAssertFalse(r.bodyText.contains("invalid_encrypted_content"), r.bodyText)
        let sends = try upstreamSends().map { $0["method"] as? String ?? "" }
        XCTAssertEqual(sends.first, "WS", "\(sends)")
        XCTAssertEqual(
            sends.last,
            "POST",
            "sent again over HTTP, which can strip what another account sealed: \(sends)"
        )
    }
}
