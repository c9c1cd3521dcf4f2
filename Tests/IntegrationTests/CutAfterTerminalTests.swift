import Foundation
import XCTest

/// An upstream whose connection breaks after `response.completed`, before the end of its chunked body: the answer
/// is whole. Until this test, the proxy took it for a cut stream: a streaming client got `response.failed` after
/// the completed response, and a `stream:false` request ran a second time on another account.
final class CutAfterTerminalTests: XCTestCase {
    private var stack: SightlineStack!

    override func setUpWithError() throws { stack = try SightlineStack(label: "cut-after-terminal") }
    override func tearDown() { stack?.stop() }

    func testABreakAfterTheTerminalEventKeepsTheAnswer() throws {
        for stream in [true, false] {
            try stack.injectFault(account: nil, "stream_cut", params: ["mode": "after_terminal"])
            let r = try stack.postHi(stream: stream)
            XCTAssertEqual(r.status, 200, r.bodyText)
            XCTAssertFalse(r.bodyText.contains("response.failed"), "stream \(stream): \(r.bodyText)")
            XCTAssertFalse(r.bodyText.contains("stream_incomplete"), "stream \(stream): \(r.bodyText)")
            XCTAssertTrue(
                r.bodyText.contains(stream ? "event: response.completed" : #""status":"completed""#),
                r.bodyText
            )
        }
        let log = try HTTPTestClient.get(port: stack.simulatorPort, path: "/__sim/requests").bodyText
        let requests = try JSONSerialization.jsonObject(with: Data(log.utf8)) as? [[String: Any]] ?? []
        XCTAssertEqual(requests.filter { ($0["path"] as? String)?.hasSuffix("/responses") == true }.count, 2, log)
        XCTAssertEqual(try stack.requests("2xx"), 2)
        XCTAssertEqual(try stack.requests("5xx"), 0)
        XCTAssertEqual(try stack.decision("failover").attempted, 0)
    }
}
