import XCTest

@testable import WireFormats

/// `SSEForwardOnly` lets a committed stream skip the summary of events that only mark parts; anything the
/// proxy reads after commit (items, terminal events, errors) and anything unrecognised must not match.
final class SSEForwardOnlyTests: XCTestCase {
    private func matches(_ text: String) -> Bool { SSEForwardOnly.contains(Array(text.utf8)) }

    func testPartMarkersAreForwardOnly() {
        XCTAssertTrue(matches("event: response.output_text.done\ndata: {\"text\":\"hi\"}\n\n"))
        XCTAssertTrue(matches("event: response.content_part.added\ndata: {}\n\n"))
        XCTAssertTrue(matches("event: response.output_item.added\ndata: {}\n\n"))
        XCTAssertTrue(matches("event: response.function_call_arguments.done\ndata: {}\n\n"))
    }

    func testWhatTheProxyReadsOrDoesNotKnowIsNot() {
        let rows = [
            "event: response.output_item.done\ndata: {}\n\n",
            "event: response.completed\ndata: {}\n\n",
            "event: response.failed\ndata: {}\n\n",
            "event: response.incomplete\ndata: {}\n\n",
            "event: error\ndata: {}\n\n",
            "event: response.output_text.done.extra\ndata: {}\n\n",
            "event: response.output_text.don\ndata: {}\n\n",
            "event: response.output_text.done\r\ndata: {}\r\n\r\n",
            "data: {\"type\":\"response.output_text.done\"}\n\n",
            "event:response.output_text.done\ndata: {}\n\n",
            "event: \n\n",
            "event: response.output_text.done",
            "",
        ]
        for row in rows { XCTAssertFalse(matches(row), row.debugDescription) }
    }
}
