import Foundation
import XCTest

/// A 401 that a token refresh does not cure (a deactivated seat, a revoked key) cools the account for
/// `AccountPool.unauthorizedCooldownSeconds`, over HTTP and WebSocket. Until 2026-12-07 it cooled nothing: every
/// later request that picked the account paid a refused attempt and a refresh before moving on.
final class UnauthorizedCooldownTests: XCTestCase {
    private var stack: SightlineStack!

    override func tearDown() { stack?.stop() }

    /// The sends the simulator answered, and its token endpoint's refreshes.
    private func log() throws -> (sends: [[String: Any]], refreshes: Int) {
        let all = try stack.simulatorLog()
        let sends = all.filter {
            ($0["path"] as? String ?? "").hasSuffix("/responses") && $0["method"] as? String != "GET"
        }
        return (sends, all.filter { ($0["path"] as? String ?? "").hasSuffix("/oauth/token") }.count)
    }

    private func assertCooledForFiveMinutes(
        since before: Double,
        file: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        let until = try stack.cooldownsUntil().filter { $0 > 0 }
        XCTAssertEqual(until.count, 1, "\(until)", file: file, line: line)
        XCTAssertEqual(until.first ?? 0, before + 300, accuracy: 5, file: file, line: line)
    }

    func testOverHTTP() throws {
        stack = try SightlineStack(label: "unauthorized-http")
        try stack.injectFault(account: nil, "unauthorized", count: 2)
        let before = Date().timeIntervalSince1970
        XCTAssertEqual(try stack.postHi(stream: true).status, 200)
        let first = try log()
        XCTAssertEqual(first.sends.count, 3, "refused, refreshed and refused, then another account: \(first.sends)")
        let refused = try XCTUnwrap(first.sends.first?["account"] as? String)
        try assertCooledForFiveMinutes(since: before)
        for _ in 0..<4 { XCTAssertEqual(try stack.postHi(stream: false).status, 200) }
        let after = try log()
        XCTAssertEqual(after.sends.filter { $0["account"] as? String == refused }.count, 2, "\(after.sends)")
        XCTAssertEqual(after.refreshes, 1)
    }

    /// A stack whose next two upstream answers are 401 (at `stage`, when given), and a WebSocket whose first turn
    /// met them: refused, refreshed, refused again, then served by another account; the refused one cooled.
    private func firstWebSocketTurnMeetsTwo401s(label: String, stage: String? = nil) throws -> WebSocketClient {
        stack = try SightlineStack(label: label)
        try stack.injectFault(account: nil, "unauthorized", count: 2, params: stage.map { ["stage": $0] } ?? [:])
        let before = Date().timeIntervalSince1970
        let ws = try WebSocketClient(
            port: stack.proxyPort,
            path: "/v1/responses",
            headers: [("Authorization", "Bearer client-FAKE")]
        )
        XCTAssertNotNil(try ws.turn(WebSocketProxyTests.frame(nil, "first question", key: "\(label)-1")))
        try assertCooledForFiveMinutes(since: before)
        return ws
    }

    func testOverWebSocket() throws {
        let ws = try firstWebSocketTurnMeetsTwo401s(label: "unauthorized-ws")
        defer { ws.close() }
        let frames = try stack.simulatorLog().filter { $0["method"] as? String == "WS" }
        let refused = try XCTUnwrap(frames.first?["account"] as? String)
        for i in 2...4 {
            XCTAssertNotNil(try ws.turn(WebSocketProxyTests.frame(nil, "question \(i)", key: "unauthorized-ws-\(i)")))
        }
        let all = try stack.simulatorLog().filter { $0["method"] as? String == "WS" }
        XCTAssertEqual(all.filter { $0["account"] as? String == refused }.count, 2, "\(all)")
    }

    /// The same 401 at a socket's upgrade (where a real backend refuses a dead login): refreshed once, then the
    /// account cools. Until 2026-12-07 only an error frame's 401 cooled it.
    func testAtTheWebSocketUpgrade() throws {
        try firstWebSocketTurnMeetsTwo401s(label: "unauthorized-ws-upgrade", stage: "handshake").close()
    }
}
