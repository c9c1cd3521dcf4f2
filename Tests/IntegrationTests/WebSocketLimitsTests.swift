import Foundation
import XCTest

/// `limits.maxWebSocketFrameBytes` and `limits.maxWebSocketMessageBytes` through the real proxy binary, the
/// second also as the bound on frames waiting behind a running turn
/// (docs/configuration.md, "Limits"): a client over either limit on `/v1/responses` gets a well-formed close
/// frame with code 1009 and the limit's reason, its TCP connection is closed, nothing goes upstream, and the
/// rejection is one increment of `sightline_http_protocol_errors_total{reason="websocket_…"}` (no request
/// counted). Another client's session on the same proxy is not disturbed, and new WebSocket and HTTP
/// requests are served afterwards.
final class WebSocketLimitsTests: XCTestCase {
    static let frameLimit = 4096
    static let messageLimit = 8192
    var stack: SightlineStack!

    override func setUpWithError() throws {
        stack = try SightlineStack(
            label: "ws-limits",
            extraConfig: [
                "limits": ["maxWebSocketFrameBytes": Self.frameLimit, "maxWebSocketMessageBytes": Self.messageLimit]
            ]
        )
    }

    override func tearDown() {
        stack?.stop()
    }

    // MARK: Helpers

    func connect() throws -> WebSocketClient {
        let ws = try WebSocketClient(port: stack.proxyPort, path: "/v1/responses")
        XCTAssertEqual(ws.status, 101)
        return ws
    }

    /// Sends a frame and reads its turn; returns the completed response id (fails the test otherwise).
    @discardableResult
    func rejections(_ reason: String) throws -> Double {
        try stack.metric(#"sightline_http_protocol_errors_total{reason="websocket_\#(reason)"}"#)
    }

    func openDownstreamSessions() throws -> Double {
        try stack.metric(#"sightline_websocket_open_sessions{side="downstream"}"#)
    }

    func upstreamFrames() throws -> [[String: Any]] {
        let r = try HTTPTestClient.get(port: stack.simulatorPort, path: "/__sim/requests")
        let list = try JSONSerialization.jsonObject(with: Data(r.body)) as? [[String: Any]] ?? []
        return list.filter { $0["transport"] as? String == "websocket" && $0["method"] as? String == "WS" }
    }

    /// The proxy fails the connection: a close frame exactly as RFC 6455 §5.5.1 wants it from a server
    /// (FIN, opcode 8, unmasked, 2-byte code then the UTF-8 reason), and then EOF without the client
    /// answering the close: the proxy does not wait on the offender beyond its close timeout.
    func assertFailed(_ ws: WebSocketClient, reason: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(ws.next(timeout: 10), .close(1009), file: file, line: line)
        let expected: [UInt8] = [0x88, UInt8(2 + reason.utf8.count), 0x03, 0xF1] + Array(reason.utf8)
        XCTAssertEqual(ws.lastCloseFrame, expected, "close frame on the wire", file: file, line: line)
        XCTAssertEqual(ws.next(timeout: 10), .eof, "the proxy closes the TCP connection", file: file, line: line)
    }

    /// A `response.create` frame whose input text makes the JSON exactly `bytes` long.
    static func createFrame(bytes: Int, anchor: String? = nil, text: String = "question") -> [UInt8] {
        let base = WebSocketProxyTests.frame(anchor, text, key: "offender")
        let padding = String(repeating: "x", count: bytes - base.utf8.count)
        let padded = WebSocketProxyTests.frame(anchor, text + padding, key: "offender")
        precondition(padded.utf8.count == bytes)
        return Array(padded.utf8)
    }

    /// What must hold after a rejection: the offender's session is gone from the gauge; the bystander's
    /// session still answers on its upstream connection; a new WebSocket client and an HTTP request are
    /// served; nothing of the refused message went upstream (`turnsBefore` WebSocket turns were served
    /// before it, the bystander's first); and no HTTP request was counted for the rejection.
    func assertNothingElseIsLost(bystander: WebSocketClient, anchor: String?, turnsBefore: Int) throws {
        XCTAssertTrue(try poll(timeout: 10) { try openDownstreamSessions() == 1 }, "only the bystander's session")
        let next = try bystander.turn(WebSocketProxyTests.frame(anchor, "still there?", key: "bystander"))
        XCTAssertNotNil(next)
        let fresh = try connect()
        try fresh.turn(WebSocketProxyTests.frame(nil, "a new client", key: "fresh"))
        fresh.close()
        let http = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(path: "/v1/responses", json: #"{"model":"gpt-5.5","input":"over HTTP"}"#)
        )
        XCTAssertEqual(http.status, 200, http.bodyText)
        let frames = try upstreamFrames()
        XCTAssertEqual(frames.count, turnsBefore + 2, "the refused message never went upstream: \(frames)")
        XCTAssertEqual(
            frames.first?["connection"] as? String,
            frames.count > turnsBefore ? frames[turnsBefore]["connection"] as? String : "none",
            "the bystander kept its upstream connection: \(frames)"
        )
        for statusClass in ["4xx", "5xx"] {
            XCTAssertEqual(
                try stack.metric(
                    #"sightline_requests_total{route="other",status_class="\#(statusClass)",transport="http"}"#
                ),
                0,
                "a WebSocket close code is not an HTTP status"
            )
        }
        XCTAssertEqual(
            try stack.metric(#"sightline_requests_total{route="responses",status_class="2xx",transport="websocket"}"#),
            Double(turnsBefore + 2)
        )
    }

    // MARK: Tests

    func testAFrameOverTheFrameLimitClosesWith1009AndIsCounted() throws {
        XCTAssertEqual(try rejections("frame_too_big"), 0, "pre-initialised")
        let bystander = try connect()
        let anchor = try bystander.turn(WebSocketProxyTests.frame(nil, "first question", key: "bystander"))

        let offender = try connect()
        // Within the message limit, so only the frame limit can refuse it.
        try offender.sendFrame(opcode: 0x1, fin: true, Self.createFrame(bytes: Self.frameLimit + 1))
        assertFailed(offender, reason: "frame_too_big")
        XCTAssertEqual(try rejections("frame_too_big"), 1)
        XCTAssertEqual(try rejections("message_too_big"), 0)

        try assertNothingElseIsLost(bystander: bystander, anchor: anchor, turnsBefore: 1)
        bystander.close()
    }

    /// More than `limits.maxWebSocketMessageBytes` waiting behind a running turn closes the connection 1008 and is
    /// counted once; another client's session goes on.
    func testFramesWaitingBeyondTheMessageLimitClose1008AndAreCounted() throws {
        XCTAssertEqual(try rejections("too_many_pending_frames"), 0, "pre-initialised")
        let bystander = try connect()
        let anchor = try bystander.turn(WebSocketProxyTests.frame(nil, "first question", key: "bystander"))
        try slowStreams()
        let offender = try connect()
        try offender.send(WebSocketProxyTests.frame(nil, "first question", key: "offender"))
        let chunk = String(repeating: "x", count: Self.frameLimit - 16)
        for _ in 0..<4 { try offender.send(chunk) }  // 16 KB sent to wait, against an 8 KB limit: the third is refused
        var ending = offender.next(timeout: 30)
        while case .text = ending { ending = offender.next(timeout: 30) }  // the running turn's events, if any
        XCTAssertEqual(ending, .close(1008))
        XCTAssertEqual(try rejections("too_many_pending_frames"), 1, "once, however many frames came after")
        try clearSlowStreams()
        XCTAssertTrue(try poll(timeout: 10) { try openDownstreamSessions() == 1 }, "only the bystander's session")
        XCTAssertNotNil(try bystander.turn(WebSocketProxyTests.frame(anchor, "still there?", key: "bystander")))
        bystander.close()
    }

    /// Upstream streams paced at 300 ms an event: a turn runs long enough for frames to wait behind it.
    func slowStreams() throws {
        let r = try HTTPTestClient.exchange(
            port: stack.simulatorPort,
            HTTPTestClient.post(path: "/__sim/standing-fault", json: #"{"fault":"slow","ms":300}"#)
        )
        XCTAssertEqual(r.status, 200, r.bodyText)
    }

    func clearSlowStreams() throws {
        let r = try HTTPTestClient.exchange(
            port: stack.simulatorPort,
            HTTPTestClient.post(path: "/__sim/standing-fault", json: #"{"fault":null}"#)
        )
        XCTAssertEqual(r.status, 200, r.bodyText)
    }

    func testAFragmentedMessageOverTheMessageLimitClosesWith1009AndIsCounted() throws {
        XCTAssertEqual(try rejections("message_too_big"), 0, "pre-initialised")
        let bystander = try connect()
        let anchor = try bystander.turn(WebSocketProxyTests.frame(nil, "first question", key: "bystander"))

        let offender = try connect()
        // First a fragmented message within both limits: fragments are reassembled and served.
        let fits = Self.createFrame(bytes: Self.frameLimit * 3 / 2)
        let half = fits.count / 2
        try offender.sendFrame(opcode: 0x1, fin: false, Array(fits[..<half]))
        try offender.sendFrame(opcode: 0x0, fin: true, Array(fits[half...]))
        let offenderAnchor = WebSocketClient.completedID(offender.readTurn())
        // Then three fragments, each under the frame limit, together over the message limit.
        let tooBig = Self.createFrame(bytes: Self.messageLimit + 1, anchor: offenderAnchor)
        let third = tooBig.count / 3
        try offender.sendFrame(opcode: 0x1, fin: false, Array(tooBig[..<third]))
        try offender.sendFrame(opcode: 0x0, fin: false, Array(tooBig[third..<(2 * third)]))
        try offender.sendFrame(opcode: 0x0, fin: true, Array(tooBig[(2 * third)...]))
        assertFailed(offender, reason: "message_too_big")
        XCTAssertEqual(try rejections("message_too_big"), 1)
        XCTAssertEqual(try rejections("frame_too_big"), 0)

        // The offender's fitting message was served: two turns before the refused one.
        try assertNothingElseIsLost(bystander: bystander, anchor: anchor, turnsBefore: 2)
        bystander.close()
    }
}
