import Foundation
import XCTest

@testable import WireFormats

final class ResponseAggregatorTests: XCTestCase {
    private func aggregate(_ stream: String) throws -> ResponseAggregator {
        var parser = SSEParser()
        var aggregator = ResponseAggregator()
        for event in try parser.feed(Fixtures.bytes(stream)) { try aggregator.consume(eventData: event.data) }
        return aggregator
    }

    private func event(_ type: String, _ json: String) -> String { "event: \(type)\ndata: \(json)\n\n" }

    func testCompletedWithEmptyOutputIsFilledInIndexOrder() throws {
        guard case .completed(let json) = try aggregate(Fixtures.fullStream()).finish() else {
            return XCTFail("expected completed")
        }
        let response = try Fixtures.parse(json)
        let output = try XCTUnwrap(response["output"] as? [[String: Any]])
        XCTAssertEqual(output.map { $0["type"] as? String }, ["message", "function_call"])
        XCTAssertEqual(output[1]["arguments"] as? String, #"{"cmd":["ls"]}"#)
        XCTAssertEqual(response["id"] as? String, "resp_1")
        // Untouched members keep their exact bytes.
        let top = try JSONTopLevel.scan(json)
        XCTAssertEqual(
            Fixtures.string(top.rawValue(forKey: "usage")!),
            try XCTUnwrap(
                Fixtures.string(
                    JSONTopLevel.scan(Fixtures.bytes(Fixtures.responseObjectCompleted)).rawValue(forKey: "usage")!
                )
            )
        )
        XCTAssertEqual(
            Fixtures.string(top.rawValue(forKey: "output")!),
            "[\(Fixtures.messageItem),\(Fixtures.toolCallItem)]"
        )
    }

    func testCompletedWithOutputIsReturnedVerbatim() throws {
        let stream = Fixtures.fullStream(completedOutput: "[\(Fixtures.messageItem)]")
        guard case .completed(let json) = try aggregate(stream).finish() else { return XCTFail("expected completed") }
        let expected = Fixtures.responseObjectCompleted.replacingOccurrences(
            of: #""output":[]"#,
            with: #""output":[\#(Fixtures.messageItem)]"#
        )
        XCTAssertEqual(Fixtures.string(json), expected)
    }

    func testMinimalStreamWithMissingOutputGetsOne() throws {
        let stream =
            event(
                "response.output_item.done",
                #"{"type":"response.output_item.done","output_index":0,"item":\#(Fixtures.messageItem)}"#
            )
            + event("response.completed", #"{"type":"response.completed","response":{"id":"resp_1","usage":null}}"#)
        guard case .completed(let json) = try aggregate(stream).finish() else { return XCTFail("expected completed") }
        XCTAssertEqual(Fixtures.string(json), #"{"id":"resp_1","usage":null,"output":[\#(Fixtures.messageItem)]}"#)
    }

    func testIncomplete() throws {
        let stream =
            event(
                "response.output_item.done",
                #"{"type":"response.output_item.done","output_index":0,"item":\#(Fixtures.messageItem)}"#
            )
            + event(
                "response.incomplete",
                #"{"type":"response.incomplete","response":{"id":"r","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[]}}"#
            )
        guard case .incomplete(let json) = try aggregate(stream).finish() else { return XCTFail("expected incomplete") }
        let response = try Fixtures.parse(json)
        XCTAssertEqual(response["status"] as? String, "incomplete")
        XCTAssertEqual((response["output"] as? [Any])?.count, 1)
    }

    func testFailedCodesMapToStatuses() throws {
        let cases: [(code: String?, status: Int)] = [
            ("rate_limit_exceeded", 429), ("insufficient_quota", 429), ("usage_not_included", 403),
            ("context_length_exceeded", 400), ("invalid_prompt", 400), ("cyber_policy", 400),
            ("server_is_overloaded", 503), ("slow_down", 503), ("server_error", 502), ("something_new", 502),
            (nil, 502),
        ]
        for c in cases {
            let code = c.code.map { #""code":"\#($0)","# } ?? ""
            let error = #"{\#(code)"message":"m","type":"t"}"#
            let stream = event(
                "response.failed",
                #"{"type":"response.failed","response":{"id":"r","status":"failed","error":\#(error)}}"#
            )
            let aggregator = try aggregate(stream)
            XCTAssertEqual(
                aggregator.finish(),
                .failed(status: c.status, errorJSON: Fixtures.bytes(#"{"error":\#(error)}"#))
            )
            XCTAssertEqual(aggregator.terminalSummary?.error?.code, c.code)
        }
    }

    func testFailedWithoutErrorObjectSynthesisesOne() throws {
        let stream = event(
            "response.failed",
            #"{"type":"response.failed","response":{"id":"r","status":"failed","error":null}}"#
        )
        guard case .failed(let status, let json) = try aggregate(stream).finish() else {
            return XCTFail("expected failed")
        }
        XCTAssertEqual(status, 502)
        let error = try XCTUnwrap(try Fixtures.parse(json)["error"] as? [String: Any])
        XCTAssertEqual(error["type"] as? String, "server_error")
        XCTAssertEqual(error["message"] as? String, "upstream response failed")
    }

    func testBareErrorThenEOFFails() throws {
        let stream = event(
            "error",
            #"{"type":"error","code":"context_length_exceeded","message":"too long","param":null}"#
        )
        guard case .failed(let status, let json) = try aggregate(stream).finish() else {
            return XCTFail("expected failed")
        }
        XCTAssertEqual(status, 400)
        XCTAssertEqual(try JSONObjectScan.string(forPath: ["error", "code"], in: json[...]), "context_length_exceeded")
    }

    func testBareErrorThenCompletedCompletes() throws {
        let stream =
            event("error", #"{"type":"error","code":"server_error","message":"x"}"#)
            + event("response.completed", #"{"type":"response.completed","response":{"id":"r","output":[]}}"#)
        guard case .completed = try aggregate(stream).finish() else { return XCTFail("expected completed") }
    }

    func testFirstTerminalWins() throws {
        let stream =
            event(
                "response.failed",
                #"{"type":"response.failed","response":{"id":"r","error":{"code":"server_error"}}}"#
            )
            + event("response.completed", #"{"type":"response.completed","response":{"id":"r"}}"#)
        XCTAssertEqual(
            try aggregate(stream).finish(),
            .failed(status: 502, errorJSON: Fixtures.bytes(#"{"error":{"code":"server_error"}}"#))
        )
    }

    func testTruncatedStream() throws {
        let stream = String(Fixtures.fullStream().split(separator: "event: response.completed")[0])
        XCTAssertEqual(try aggregate(stream).finish(), .truncated)
        XCTAssertEqual(ResponseAggregator().finish(), .truncated)
    }

    func testMalformedEventDataThrows() {
        var aggregator = ResponseAggregator()
        XCTAssertThrowsError(try aggregator.consume(eventData: Fixtures.bytes(#"{"type":"response.completed","#)))
    }
}
