import Foundation
import XCTest

/// The books of downstream WebSocket turns: the in-flight gauge the load shedding reads, and the recovery
/// decisions' `attempted = succeeded + gave_up`, whatever way a turn ends.
final class WebSocketAccountingTests: XCTestCase {
    private var stack: SightlineStack!

    override func tearDown() { stack?.stop() }

    /// Frames that are not `response.create` are answered locally with a 400; each is a turn in and out of
    /// flight. The gauge went to −1 per frame, and `limits.maxInFlightRequests` rose with it.
    func testRefusedFramesLeaveTheInFlightGaugeAtZero() throws {
        stack = try SightlineStack(label: "ws-accounting-frames")
        let ws = try WebSocketClient(port: stack.proxyPort, path: "/v1/responses")
        XCTAssertEqual(ws.status, 101)
        for _ in 0..<3 {
            try ws.send(#"{"type":"hello"}"#)
            let events = ws.readTurn()
            XCTAssertEqual(events.last?["type"] as? String, "error", "\(events)")
        }
        XCTAssertTrue(poll(timeout: 5) { (try? self.stack.requests("4xx", transport: "websocket")) == 3 })
        XCTAssertEqual(try stack.metric("sightline_in_flight_requests"), 0)
        ws.close()
    }
}
