import Foundation
import XCTest

/// The core proxy path through real processes: a `sightline simulator` and a `sightline serve` in front
/// of it, driven by a raw-socket client so every byte and its timing is visible.
final class ProxyHTTPTests: XCTestCase {
    var stack: SightlineStack!

    override func setUpWithError() throws {
        stack = try SightlineStack(
            label: "http",
            extraConfig: ["limits": ["maxBodyBytes": 64 * 1024, "maxHeaderBytes": 8 * 1024]],
            simulator: ["eventProfile": ["deltaCount": 6, "deltaDelayMs": 150]]
        )
    }

    override func tearDown() {
        stack?.stop()
    }

    /// The proxy sets `content-type` and `accept` on what it sends upstream; the client's own do not go as well.
    /// Until 2026-12-07 every request carried both twice (a Codex or SDK request sends its own).
    func testContentTypeAndAcceptGoUpstreamOnce() throws {
        let r = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(
                path: "/v1/responses",
                json: #"{"model":"gpt-5.5","input":"hi"}"#,
                headers: [("Accept", "application/json")]
            )
        )
        XCTAssertEqual(r.status, 200, r.bodyText)
        let sent = try XCTUnwrap(try stack.simulatorLog().last?["header_names"] as? [String])
        XCTAssertEqual(sent.filter { $0 == "content-type" }.count, 1, "\(sent)")
        XCTAssertEqual(sent.filter { $0 == "accept" }.count, 1, "\(sent)")
    }

    /// `sightline_downstream_received_bytes_total` and `…_sent_bytes_total` are bytes on the wire (docs/metrics.md):
    /// heads and framing included, every answer included, a non-streaming one and the proxy's own error answers
    /// as much as a relayed stream. Counted from bodies at a few call sites, a non-streaming answer, an error answer
    /// and every head were missing, and the received side was the body alone.
    func testDownstreamBytesAreTheBytesOnTheWire() throws {
        let json = #"{"model":"gpt-5.5","input":"hi"}"#
        let r = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(path: "/v1/responses", json: json)
        )
        XCTAssertEqual(r.status, 200, r.bodyText)
        let missing = try HTTPTestClient.get(port: stack.proxyPort, path: "/v1/nothing-here")
        XCTAssertEqual(missing.status, 404)
        // The request line and headers came with the body; the answers' heads and bodies went out (the scrape's own
        // request and answer only add to both).
        let requestLine = "POST /v1/responses HTTP/1.1\r\n".utf8.count
        var received = 0.0
        var sent = 0.0
        let counted = poll(timeout: 5) {
            received = (try? self.stack.metric("sightline_downstream_received_bytes_total")) ?? 0
            sent = (try? self.stack.metric("sightline_downstream_sent_bytes_total")) ?? 0
            return received >= Double(json.utf8.count + requestLine)
                && sent >= Double(r.body.count + missing.body.count)
        }
        XCTAssertTrue(counted, "received \(received), sent \(sent)")
    }

    func testStreamingRelaysEachEventAsItIsProduced() throws {
        let client = try HTTPTestClient(port: stack.proxyPort)
        try client.send(
            HTTPTestClient.post(path: "/v1/responses", json: #"{"model":"gpt-5.5","input":"Say hello","stream":true}"#)
        )
        var arrivals: [(Date, String)] = []
        var all: [UInt8] = []
        while !String(decoding: all, as: UTF8.self).contains("response.completed") {
            let chunk = try client.readSome()
            if chunk.isEmpty { break }
            all += chunk
            arrivals.append((Date(), String(decoding: chunk, as: UTF8.self)))
        }
        let text = String(decoding: all, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 200"), text)
        XCTAssertTrue(text.lowercased().contains("content-type: text/event-stream"))
        let firstDelta = try XCTUnwrap(arrivals.first { $0.1.contains("response.output_text.delta") })
        let completed = try XCTUnwrap(arrivals.last { $0.1.contains("response.completed") })
        // Six deltas 150 ms apart: the first one must reach us well before the stream ends, not in one flush.
        XCTAssertGreaterThan(completed.0.timeIntervalSince(firstDelta.0), 0.5, "events were buffered, not streamed")
        XCTAssertGreaterThanOrEqual(arrivals.count, 4)
    }

    func testNonStreamingClientGetsOneResponseObject() throws {
        let r = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(path: "/v1/responses", json: #"{"model":"gpt-5.5","input":"Say hello"}"#)
        )
        XCTAssertEqual(r.status, 200, r.bodyText)
        XCTAssertEqual(r.headers["content-type"], "application/json")
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
        XCTAssertEqual(json["object"] as? String, "response")
        XCTAssertEqual(json["status"] as? String, "completed")
        let output = try XCTUnwrap(json["output"] as? [[String: Any]])
        let content = try XCTUnwrap(output.first?["content"] as? [[String: Any]])
        XCTAssertTrue((content.first?["text"] as? String ?? "").contains("Hello from the Codex simulator"))
        let usage = try XCTUnwrap(json["usage"] as? [String: Any])
        XCTAssertGreaterThan(usage["input_tokens"] as? Int ?? 0, 0)
    }

    func testMalformedRequestLineGets400() throws {
        let r = try HTTPTestClient.exchange(port: stack.proxyPort, Array("GARBAGE\r\n\r\n".utf8))
        XCTAssertEqual(r.status, 400)
        XCTAssertTrue(r.bodyText.contains("\"malformed_request\""), r.bodyText)
    }

    func testOversizedHeadersGet431() throws {
        let big = String(repeating: "a", count: 16 * 1024)
        let r = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            Array("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: \(big)\r\n\r\n".utf8)
        )
        XCTAssertEqual(r.status, 431)
        XCTAssertTrue(r.bodyText.contains("header_too_large"), r.bodyText)
    }

    func testOversizedBodyGets413() throws {
        let body = #"{"model":"m","input":""# + String(repeating: "x", count: 80 * 1024) + #""}"#
        let r = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(path: "/v1/responses", json: body)
        )
        XCTAssertEqual(r.status, 413)
        XCTAssertTrue(r.bodyText.contains("body_too_large"), r.bodyText)
    }

    func testInvalidJSONGets400InvalidJSON() throws {
        let r = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(path: "/v1/responses", json: #"{"model": "m", "input": [}"#)
        )
        XCTAssertEqual(r.status, 400)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
        XCTAssertEqual((json["error"] as? [String: Any])?["code"] as? String, "invalid_json")
        XCTAssertTrue(try stack.metric(#"sightline_http_protocol_errors_total{reason="invalid_json"}"#) >= 1)
    }

    func testTruncatedChunkedBodyIsRejectedAndTheProxyKeepsServing() throws {
        let client = try HTTPTestClient(port: stack.proxyPort, timeout: 10)
        try client.send(
            "POST /v1/responses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n{\"model\":\"m\""
        )
        client.shutdownWrite()
        let answer = try client.readUntil { _ in false }
        let text = String(decoding: answer, as: UTF8.self)
        XCTAssertTrue(text.isEmpty || text.hasPrefix("HTTP/1.1 400"), text)
        XCTAssertEqual(try HTTPTestClient.get(port: stack.proxyPort, path: "/healthz").status, 200)
    }

    func testWebSocketUpgradeIsAcceptedAndBadVersionGets426() throws {
        let ws = try WebSocketClient(port: stack.proxyPort, path: "/v1/responses")
        XCTAssertEqual(ws.status, 101)
        ws.close()
        let r = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            Array(
                ("GET /v1/responses HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").utf8
            )
        )
        XCTAssertEqual(r.status, 426)
    }

    func testClientDisconnectMidStreamCancelsTheUpstreamWithinASecond() throws {
        let client = try HTTPTestClient(port: stack.proxyPort)
        try client.send(
            HTTPTestClient.post(path: "/v1/responses", json: #"{"model":"gpt-5.5","input":"long","stream":true}"#)
        )
        _ = try client.readUntil { String(decoding: $0, as: UTF8.self).contains("response.output_text.delta") }
        XCTAssertEqual(try stack.metric("sightline_in_flight_requests"), 1)
        let closedAt = Date()
        client.disconnect()
        let cancelled = poll(timeout: 1.0) { (try? self.stack.metric("sightline_in_flight_requests")) == 0 }
        XCTAssertTrue(
            cancelled,
            "the upstream transfer was still running \(Date().timeIntervalSince(closedAt)) s after the client left"
        )
        let attempts = try stack.metricSum(
            prefix: "sightline_upstream_attempts_total{",
            containing: #"outcome="cancelled""#
        )
        XCTAssertEqual(attempts, 1)
    }

    func testUnauthenticatedModelsAndHealth() throws {
        XCTAssertEqual(try HTTPTestClient.get(port: stack.proxyPort, path: "/healthz").status, 200)
        XCTAssertEqual(try HTTPTestClient.get(port: stack.proxyPort, path: "/readyz").status, 200)
        let models = try HTTPTestClient.get(port: stack.proxyPort, path: "/v1/models")
        XCTAssertEqual(models.status, 200, models.bodyText)
        XCTAssertTrue(models.bodyText.contains("\"data\"") || models.bodyText.contains("\"models\""), models.bodyText)
    }
}
