import XCTest

@testable import WireFormats

final class ResponseEventSummaryTests: XCTestCase {
    private func summary(_ json: String) throws -> ResponseEventSummary {
        try ResponseEventSummary(data: Fixtures.bytes(json))
    }

    func testCompletedWithUsage() throws {
        let s = try summary(
            #"{"type":"response.completed","sequence_number":8,"response":\#(Fixtures.responseObjectCompleted)}"#
        )
        XCTAssertEqual(s.type, "response.completed")
        XCTAssertEqual(s.sequenceNumber, 8)
        XCTAssertEqual(s.responseID, "resp_1")
        XCTAssertEqual(s.status, "completed")
        XCTAssertTrue(s.isTerminal)
        XCTAssertNil(s.error)
        XCTAssertEqual(
            s.usage,
            .init(inputTokens: 123, cachedInputTokens: 100, outputTokens: 7, reasoningOutputTokens: 0, totalTokens: 130)
        )
    }

    func testMinimalCompletedAndNullUsage() throws {
        let s = try summary(#"{"type":"response.completed","response":{"id":"resp_9"}}"#)
        XCTAssertEqual(s.responseID, "resp_9")
        XCTAssertNil(s.usage)
        XCTAssertNil(s.sequenceNumber)
        XCTAssertNil(try summary(#"{"type":"response.created","response":{"id":"r","usage":null}}"#).usage)
    }

    func testFailedCarriesResponseError() throws {
        let s = try summary(
            #"{"type":"response.failed","sequence_number":3,"response":{"id":"resp_2","status":"failed","error":{"code":"rate_limit_exceeded","message":"Rate limit reached. Please try again in 11.054s.","type":"rate_limit_error"}}}"#
        )
        XCTAssertEqual(s.status, "failed")
        XCTAssertEqual(
            s.error,
            .init(
                code: "rate_limit_exceeded",
                message: "Rate limit reached. Please try again in 11.054s.",
                type: "rate_limit_error"
            )
        )
    }

    func testIncompleteReason() throws {
        let s = try summary(
            #"{"type":"response.incomplete","response":{"id":"r","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"}}}"#
        )
        XCTAssertEqual(s.incompleteReason, "max_output_tokens")
        XCTAssertTrue(s.isTerminal)
    }

    func testBareErrorEvents() throws {
        let flat = try summary(
            #"{"type":"error","sequence_number":2,"code":"server_error","message":"boom","param":null}"#
        )
        XCTAssertEqual(flat.error, .init(code: "server_error", message: "boom", type: nil))
        XCTAssertFalse(flat.isTerminal)
        let nested = try summary(
            #"{"type":"error","error":{"type":"invalid_request_error","code":"bad","message":"m"}}"#
        )
        XCTAssertEqual(nested.error, .init(code: "bad", message: "m", type: "invalid_request_error"))
    }

    func testItemEvents() throws {
        let s = try summary(#"{"type":"response.output_item.done","output_index":1,"item":\#(Fixtures.toolCallItem)}"#)
        XCTAssertEqual(s.outputIndex, 1)
        XCTAssertEqual(s.itemType, "function_call")
        XCTAssertNil(s.responseID)
    }

    func testMalformedDataThrows() {
        XCTAssertThrowsError(try summary(#"{"type":"response.completed","response":{"id":}"#))
        XCTAssertThrowsError(try summary("[]"))
    }
}
