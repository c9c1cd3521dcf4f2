import Foundation
import XCTest

/// A silent upstream over WebSocket meets the same `upstream.firstByteTimeoutSeconds` and `idleTimeoutSeconds` an
/// HTTP request does: the silent socket is dropped and the turn goes to another account, and after the last
/// attempt the client gets a retryable error, with no account cooled. Until 2026-12-07 a WebSocket turn waited
/// for as long as the client did, holding its account's slot and the in-flight gauge.
final class WebSocketSilenceTests: XCTestCase {
    private var stack: SightlineStack!

    override func tearDown() { stack?.stop() }

    private func start(firstByte: Double, idle: Double, simulator: [String: Any] = [:]) throws -> WebSocketClient {
        stack = try SightlineStack(
            label: "ws-silence",
            extraConfig: ["upstream": ["firstByteTimeoutSeconds": firstByte, "idleTimeoutSeconds": idle]],
            simulator: simulator
        )
        let ws = try WebSocketClient(port: stack.proxyPort, path: "/v1/responses")
        XCTAssertEqual(ws.status, 101)
        return ws
    }

    private func standing(_ fault: String) throws {
        let r = try HTTPTestClient.exchange(
            port: stack.simulatorPort,
            HTTPTestClient.post(path: "/__sim/standing-fault", json: fault)
        )
        XCTAssertEqual(r.status, 200, r.bodyText)
    }

    private static let frame = #"{"type":"response.create","model":"gpt-5.5","store":false,"stream":true,"input":"hi"}"#

    private func failoverReasons() -> [String] {
        stack.logRecords().compactMap { record -> String? in
            let attributes = record["attributes"] as? [String: Any]
            guard record["event_name"] as? String == "sightline.recovery",
                attributes?["sightline.recovery.decision"] as? String == "failover",
                attributes?["sightline.recovery.outcome"] as? String == "attempted"
            else { return nil }
            return attributes?["error.type"] as? String
        }
    }

    func testASilentUpstreamTimesOutAndTheTurnMovesOn() throws {
        let ws = try start(firstByte: 1, idle: 1)
        try standing(#"{"fault":"silence"}"#)
        try ws.send(Self.frame)
        let events = ws.readTurn(timeout: 20)
        XCTAssertEqual(events.last?["type"] as? String, "error", "\(events)")
        XCTAssertEqual((events.last?["error"] as? [String: Any])?["code"] as? String, "upstream_unavailable")
        // The socket's `codex.rate_limits` frame came, then nothing: silence after a first frame is idle, as silence
        // after an HTTP answer's head is. One failover covers the turn's moves (it settles once).
        XCTAssertEqual(failoverReasons(), ["idle_timeout"])
        XCTAssertEqual(try stack.decision("failover").gaveUp, 1)
        XCTAssertTrue(poll(timeout: 5) { (try? self.stack.metric("sightline_in_flight_requests")) == 0 })
        XCTAssertEqual(
            try stack.metricSum(prefix: "sightline_account_state{", containing: #"state="cooling""#),
            0,
            "silence says nothing about an account"
        )
        // The upstream speaks again: the next turn is served on a new socket.
        try standing(#"{"fault":null}"#)
        try ws.send(Self.frame)
        XCTAssertEqual(ws.readTurn().last?["type"] as? String, "response.completed")
        ws.close()
    }

    /// Not a single frame (not even the quota report): the first-frame limit ends each attempt.
    func testAnUpstreamThatNeverSpeaksMeetsTheFirstFrameLimit() throws {
        let ws = try start(firstByte: 1, idle: 30)
        try standing(#"{"fault":"silence","mode":"mute"}"#)
        let sent = Date()
        try ws.send(Self.frame)
        let events = ws.readTurn(timeout: 20)
        XCTAssertEqual(events.last?["type"] as? String, "error", "\(events)")
        XCTAssertLessThan(Date().timeIntervalSince(sent), 15, "three attempts of about 1 s, not the 30 s idle limit")
        XCTAssertEqual(failoverReasons(), ["first_byte_timeout"])
        ws.close()
    }

    /// Frames that come too far apart: after the first, the 1 s idle limit ends each attempt, not the 10 s
    /// first-frame one (three attempts end well before one first-frame limit).
    func testAnUpstreamThatFallsSilentMidTurnTimesOut() throws {
        let ws = try start(firstByte: 10, idle: 1)
        try standing(#"{"fault":"slow","ms":1500}"#)
        let sent = Date()
        try ws.send(Self.frame)
        let events = ws.readTurn(timeout: 30)
        XCTAssertEqual(events.last?["type"] as? String, "error", "\(events)")
        XCTAssertLessThan(Date().timeIntervalSince(sent), 9, "each attempt ended by the idle limit")
        XCTAssertEqual(failoverReasons(), ["idle_timeout"])
        ws.close()
    }

    /// The HTTP bridge's socket falls silent: after the idle limit the request goes over plain HTTP, whose own
    /// timeouts end it with a retryable 502. Until 2026-12-07 it waited for as long as the client did.
    func testASilentBridgeSocketHandsTheRequestToHTTP() throws {
        stack = try SightlineStack(
            label: "bridge-silence",
            extraConfig: ["httpBridge": true, "upstream": ["firstByteTimeoutSeconds": 1, "idleTimeoutSeconds": 1]]
        )
        try standing(#"{"fault":"silence"}"#)
        let sent = Date()
        let r = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(
                path: "/v1/responses",
                json: #"{"model":"gpt-5.5","input":"hi","stream":true,"prompt_cache_key":"bridge-silence"}"#
            ),
            timeout: 20
        )
        XCTAssertEqual(r.status, 502, r.bodyText)
        XCTAssertLessThan(Date().timeIntervalSince(sent), 15)
        let fallbacks = stack.awaitLogRecords(event: "sightline.bridge", count: 1).filter {
            $0["body"] as? String == "bridge fell back to http"
        }
        XCTAssertEqual((fallbacks.first?["attributes"] as? [String: Any])?["error.type"] as? String, "idle_timeout")
        XCTAssertTrue(poll(timeout: 5) { (try? self.stack.metric("sightline_in_flight_requests")) == 0 })
        XCTAssertTrue(
            poll(timeout: 5) { (try? self.stack.metric(#"sightline_websocket_open_sessions{side="upstream"}"#)) == 0 }
        )
    }

    /// A limit of 0 is off, as for HTTP requests: every turn and bridged request is served (the timers fired at
    /// once and dropped every socket). The answers' deltas come 30 ms apart, longer than a timer's shortest wait.
    func testZeroTimeoutsAreOff() throws {
        let paced: [String: Any] = ["eventProfile": ["deltaCount": 5, "deltaDelayMs": 30]]
        let ws = try start(firstByte: 0, idle: 0, simulator: paced)
        try ws.send(Self.frame)
        XCTAssertEqual(ws.readTurn().last?["type"] as? String, "response.completed")
        ws.close()
        stack.stop()
        stack = try SightlineStack(
            label: "bridge-zero-timeouts",
            extraConfig: ["httpBridge": true, "upstream": ["firstByteTimeoutSeconds": 0, "idleTimeoutSeconds": 0]],
            simulator: paced
        )
        for _ in 0..<2 {
            let r = try HTTPTestClient.exchange(
                port: stack.proxyPort,
                HTTPTestClient.post(
                    path: "/v1/responses",
                    json: #"{"model":"gpt-5.5","input":"hi","stream":true,"prompt_cache_key":"zero"}"#
                )
            )
            XCTAssertEqual(r.status, 200, r.bodyText)
        }
        XCTAssertEqual(
            try stack.metric(#"sightline_websocket_upstream_turns_total{client="http_bridge",session="reused"}"#),
            1,
            "the second request found the first's socket open"
        )
    }
}
