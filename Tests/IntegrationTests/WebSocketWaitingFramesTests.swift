import Foundation
import XCTest

/// Frames a client sends while its turn runs wait, and each is served after it, under the default limits
/// (`WebSocketLimitsTests` has the bound on how much may wait).
final class WebSocketWaitingFramesTests: XCTestCase {
    var stack: SightlineStack!

    override func tearDown() { stack?.stop() }

    /// Even a thousand waiting frames answered without going upstream are each answered after the turn. Until
    /// 2026-12-07 each started inside the end of the one before, a stack frame deeper per frame, and the process
    /// died of a stack overflow (SIGSEGV) at about 800.
    func testAThousandFramesWaitingBehindATurnAreEachAnswered() throws {
        stack = try SightlineStack(label: "ws-waiting")
        // Upstream events paced at 300 ms: the turn runs long enough for every frame to wait behind it.
        let paced = try HTTPTestClient.exchange(
            port: stack.simulatorPort,
            HTTPTestClient.post(path: "/__sim/standing-fault", json: #"{"fault":"slow","ms":300}"#)
        )
        XCTAssertEqual(paced.status, 200, paced.bodyText)
        let ws = try WebSocketClient(port: stack.proxyPort, path: "/v1/responses")
        XCTAssertEqual(ws.status, 101)
        try ws.send(WebSocketProxyTests.frame(nil, "first question"))
        let count = 1000
        for _ in 0..<count { try ws.send("x") }
        var completed = false
        var refused = 0
        while refused < count, case .text(let text) = ws.next(timeout: 30) {
            if text.contains(#""response.completed""#) { completed = true }
            if text.contains("invalid_websocket_message") { refused += 1 }
        }
        XCTAssertTrue(completed, "the running turn's answer")
        XCTAssertEqual(
            refused,
            count,
            "every waiting frame answered; proxy exit: \(String(describing: stack.proxy.waitForExit(timeout: 0.1)))"
        )
        XCTAssertEqual(try HTTPTestClient.get(port: stack.proxyPort, path: "/readyz").status, 200, "still serving")
        ws.close()
    }
}
