import XCTest

@testable import Proxy

/// The committed-stream fast path forwards text deltas without parsing them; it must recognise exactly
/// the `event: response.….delta` blocks and nothing that needs the slow path.
final class ResponsesExchangeDeltaTests: XCTestCase {
    func testOnlyDeltaBlocksTakeTheFastPath() {
        let rows: [(String, Bool)] = [
            ("event: response.output_text.delta\ndata: {\"delta\":\"hi\"}\n\n", true),
            ("event: response.reasoning_summary_text.delta\ndata: {}\n\n", true),
            ("event: response.output_item.done\ndata: {}\n\n", false),
            ("event: response.completed\ndata: {}\n\n", false),
            ("event: response.failed\ndata: {\"type\":\"response.delta\"}\n\n", false),
            ("data: {\"type\":\"response.output_text.delta\"}\n\n", false),
            (": keepalive\n\n", false),
            ("event: response.delta", false),
        ]
        for (block, expected) in rows {
            XCTAssertEqual(ResponsesExchange.isDelta(Array(block.utf8)), expected, block)
        }
    }
}
