import XCTest

@testable import Proxy

/// The one table of `sightline_upstream_attempts_total` outcomes every transport uses.
final class AttemptOutcomeTests: XCTestCase {
    func testStatusesAndStreamFailures() {
        XCTAssertEqual(
            [200, 400, 404, 429, 500, 503].map(AttemptOutcome.status),
            [
                "success", "http_4xx", "http_4xx", "http_429", "http_5xx", "http_5xx",
            ]
        )
        XCTAssertEqual(AttemptOutcome.failure(.rateLimitExceeded), "http_429")
        XCTAssertEqual(AttemptOutcome.failure(.usageLimitReached), "http_429")
        XCTAssertEqual(AttemptOutcome.failure(.contextLengthExceeded), "http_4xx")
        XCTAssertEqual(AttemptOutcome.failure(.serverError), "stream_error")
        XCTAssertEqual(AttemptOutcome.failure(.other), "stream_error")
        XCTAssertEqual(AttemptOutcome.terminal(failure: nil), "success")
        XCTAssertEqual(AttemptOutcome.terminal(failure: .overloaded), "stream_error")
    }

    func testWebSocketEndings() {
        XCTAssertEqual(AttemptOutcome.errorFrame(status: 429), "http_429")
        XCTAssertEqual(AttemptOutcome.errorFrame(status: 200), "stream_error", "an error frame is never a success")
        XCTAssertEqual(AttemptOutcome.errorFrame(status: 400, connectionAgeCap: true), "stream_error")
        XCTAssertNil(AttemptOutcome.socketLost(status: 426, didEverOpen: false), "426 carried nothing")
        XCTAssertEqual(AttemptOutcome.socketLost(status: 401, didEverOpen: false), "http_4xx")
        XCTAssertEqual(AttemptOutcome.socketLost(status: nil, didEverOpen: false), "connect_error")
        XCTAssertEqual(AttemptOutcome.socketLost(status: nil, didEverOpen: true), "stream_error")
        XCTAssertEqual(AttemptOutcome.unsettled(status: 499, error: "client_closed"), "cancelled")
        XCTAssertEqual(AttemptOutcome.unsettled(status: 200, error: nil), "success")
        XCTAssertEqual(AttemptOutcome.unsettled(status: 502, error: "stream_incomplete"), "stream_error")
    }

    /// The proxy's own `stream_incomplete` event is byte for byte what the HTTP path and the bridge wrote
    /// before they shared it; an upstream message loses its response ids.
    func testFailedResponseEvents() {
        XCTAssertEqual(
            String(decoding: FailedResponseEvent.streamIncomplete, as: UTF8.self),
            #"{"type":"response.failed","response":{"status":"failed","error":{"code":"stream_incomplete","message":"The upstream stream ended before the response completed; retry the request."}}}"#
        )
        let json = String(decoding: FailedResponseEvent.json(code: "x", message: "gone: resp_abc-1"), as: UTF8.self)
        XCTAssertTrue(json.contains(#""message":"gone: resp_redacted""#), json)
        XCTAssertTrue(
            String(decoding: FailedResponseEvent.sse(Array("{}".utf8)), as: UTF8.self).hasPrefix(
                "event: response.failed\n"
            )
        )
    }
}
