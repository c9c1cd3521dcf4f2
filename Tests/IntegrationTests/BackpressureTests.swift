import Foundation
import XCTest

/// A client that reads slower than the upstream sends: the proxy pauses the upstream transfer rather than
/// buffer without bound, counts the pause, and resumes without losing, repeating or splicing an event.
final class BackpressureTests: XCTestCase {
    func testASlowClientPausesTheUpstreamAndGetsEveryEventIntact() throws {
        // About 3 MB of unpaced events: libcurl hands them over in chunks that end mid-event, far more than
        // the 256 KiB write high-water mark plus what the sockets hold for a client that does not read.
        let deltas = 20000
        let stack = try SightlineStack(
            label: "backpressure",
            simulator: ["eventProfile": ["deltaCount": deltas, "textSize": 20 * deltas]]
        )
        defer { stack.stop() }
        let client = try HTTPTestClient(port: stack.proxyPort, timeout: 60, receiveBuffer: 4096)
        try client.send(
            HTTPTestClient.post(path: "/v1/responses", json: #"{"model":"gpt-5.5","input":"Say hello","stream":true}"#)
        )
        let paused = poll(timeout: 30) {
            ((try? stack.metric("sightline_upstream_backpressure_pauses_total")) ?? 0) >= 1
        }
        XCTAssertTrue(paused, "the upstream transfer was never paused for the slow client")

        let terminator = Array("\r\n0\r\n\r\n".utf8)
        var all: [UInt8] = []
        while !all.suffix(terminator.count).elementsEqual(terminator) {
            let chunk = try client.readSome()
            if chunk.isEmpty { break }
            all += chunk
        }
        let response = try XCTUnwrap(ParsedResponse.parse(all), "incomplete response")
        XCTAssertEqual(response.status, 200)

        var text = ""
        var deltaEvents = 0
        var completedText: String?
        for block in response.bodyText.components(separatedBy: "\n\n") where !block.isEmpty {
            let lines = block.split(separator: "\n", omittingEmptySubsequences: false)
            XCTAssertEqual(lines.count, 2, "malformed event: \(block.prefix(200))")
            guard lines.count == 2, lines[0].hasPrefix("event: "), lines[1].hasPrefix("data: ") else {
                XCTFail("malformed event: \(block.prefix(200))")
                break
            }
            let type = String(lines[0].dropFirst(7))
            let data = try XCTUnwrap(
                JSONSerialization.jsonObject(with: Data(lines[1].dropFirst(6).utf8)) as? [String: Any],
                "data is not a JSON object: \(lines[1].prefix(200))"
            )
            XCTAssertEqual(data["type"] as? String, type)
            if type == "response.output_text.delta" {
                text += data["delta"] as? String ?? ""
                deltaEvents += 1
            }
            if type == "response.completed" {
                let output = (data["response"] as? [String: Any])?["output"] as? [[String: Any]]
                let content = output?.first?["content"] as? [[String: Any]]
                completedText = content?.first?["text"] as? String
            }
        }
        XCTAssertEqual(deltaEvents, deltas)
        XCTAssertEqual(text, completedText, "the deltas do not add up to the completed text")
    }

    /// A stream an upstream WebSocket carries cannot be paused: about 16 MB of events (4000 deltas of 1000
    /// characters, then the whole text three times in the closing events), far more than the sockets hold. Paced
    /// 1 ms a delta, so the backlog passes its bound while the turn runs, not in one read with its end.
    static var bigStreamSimulator: [String: Any] {
        ["eventProfile": ["deltaCount": 4000, "deltaDelayMs": 1, "textSize": 4_000_000]]
    }
    /// The backlog bound under test, its smallest: the write high-water mark.
    static var backlogLimits: [String: Any] { ["limits": ["maxDownstreamBacklogBytes": 256 * 1024]] }

    /// A WebSocket client that stops reading while its turn streams is dropped once more than
    /// `limits.maxDownstreamBacklogBytes` wait for it, and its upstream socket goes with it. Until 2026-12-08 the
    /// proxy held the turn's whole output in memory for it.
    func testAWebSocketClientThatStopsReadingIsDroppedAndFreesItsUpstream() throws {
        let stack = try SightlineStack(
            label: "backlog-ws",
            extraConfig: Self.backlogLimits,
            simulator: Self.bigStreamSimulator
        )
        defer { stack.stop() }
        let ws = try WebSocketClient(port: stack.proxyPort, path: "/v1/responses", receiveBuffer: 4096)
        defer { ws.close() }
        XCTAssertEqual(ws.status, 101)
        try ws.send(#"{"type":"response.create","model":"gpt-5.5","input":"Say hello","stream":true}"#)
        let dropped = poll(timeout: 30) {
            ((try? stack.metric(#"sightline_http_protocol_errors_total{reason="client_not_reading"}"#)) ?? 0) == 1
        }
        XCTAssertTrue(dropped, "the client that reads nothing was never dropped")
        XCTAssertTrue(
            poll(timeout: 10) {
                (try? stack.metric(#"sightline_websocket_open_sessions{side="upstream"}"#)) == 0
                    && (try? stack.metric(#"sightline_websocket_open_sessions{side="downstream"}"#)) == 0
            },
            "the sessions on both sides end"
        )
        XCTAssertTrue(
            poll(timeout: 10) { (try? stack.requests("4xx", transport: "websocket")) == 1 },
            "the turn ends 499"
        )
        XCTAssertTrue(stack.allOutput().contains("client_not_reading"), "the turn's log line says why")
    }

    /// The same for an HTTP client whose request the bridge carries over an upstream WebSocket.
    func testABridgedHTTPClientThatStopsReadingIsDroppedAndFreesItsUpstream() throws {
        var config = Self.backlogLimits
        config["httpBridge"] = true
        let stack = try SightlineStack(label: "backlog-bridge", extraConfig: config, simulator: Self.bigStreamSimulator)
        defer { stack.stop() }
        let client = try HTTPTestClient(port: stack.proxyPort, timeout: 60, receiveBuffer: 4096)
        try client.send(
            HTTPTestClient.post(
                path: "/v1/responses",
                json: #"{"model":"gpt-5.5","input":"Say hello","stream":true,"prompt_cache_key":"backlog"}"#
            )
        )
        let dropped = poll(timeout: 30) {
            ((try? stack.metric(#"sightline_http_protocol_errors_total{reason="client_not_reading"}"#)) ?? 0) == 1
        }
        XCTAssertTrue(dropped, "the client that reads nothing was never dropped")
        XCTAssertTrue(
            poll(timeout: 10) { (try? stack.metric(#"sightline_websocket_open_sessions{side="upstream"}"#)) == 0 },
            "the bridge's upstream socket is retired"
        )
        XCTAssertEqual(try stack.requests("4xx"), 1, "the request ends 499")
        XCTAssertEqual(try stack.metric("sightline_in_flight_requests"), 0)
        XCTAssertTrue(stack.allOutput().contains("client_not_reading"), "the request's log line says why")
    }

    /// An HTTP client that stops reading pauses its upstream transfer; one that never reads again is dropped once
    /// it has taken nothing for `limits.idleTimeoutSeconds`, and the request's slot and transfer go with it.
    func testAnHTTPClientThatNeverReadsAgainIsDroppedAfterTheIdleTimeout() throws {
        let stack = try SightlineStack(
            label: "backlog-http-idle",
            extraConfig: ["limits": ["idleTimeoutSeconds": 2]],
            simulator: Self.bigStreamSimulator
        )
        defer { stack.stop() }
        let client = try HTTPTestClient(port: stack.proxyPort, timeout: 60, receiveBuffer: 4096)
        try client.send(
            HTTPTestClient.post(path: "/v1/responses", json: #"{"model":"gpt-5.5","input":"Say hello","stream":true}"#)
        )
        XCTAssertTrue(
            poll(timeout: 30) { ((try? stack.metric("sightline_upstream_backpressure_pauses_total")) ?? 0) >= 1 },
            "the upstream transfer was never paused"
        )
        XCTAssertTrue(
            poll(timeout: 15) { (try? stack.metric("sightline_in_flight_requests")) == 0 },
            "the request is still in flight"
        )
        XCTAssertEqual(try stack.metric(#"sightline_http_protocol_errors_total{reason="idle_timeout"}"#), 1)
        XCTAssertEqual(try stack.requests("4xx"), 1, "the request ends as a client that left")
    }
}
