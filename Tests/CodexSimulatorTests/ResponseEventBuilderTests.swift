import XCTest

@testable import CodexSimulator

final class ResponseEventBuilderTests: XCTestCase {
    let builder = ResponseEventBuilder(
        responseId: "resp_sim_1",
        model: "gpt-test",
        createdAt: 1_700_000_000,
        itemSuffix: "1"
    )

    func testFirstEventGolden() {
        let events = builder.completed(
            .text("Hi"),
            usage: .init(inputTokens: 10, cachedTokens: 0, outputTokens: 1),
            deltaCount: 2
        )
        XCTAssertEqual(
            String(decoding: events.events[0], as: UTF8.self),
            "event: response.created\n"
                + #"data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_sim_1","object":"response","#
                + #""created_at":1700000000,"model":"gpt-test","status":"in_progress","output":[],"usage":null,"#
                + #""parallel_tool_calls":false,"tool_choice":"auto","tools":[],"store":false}}"# + "\n\n"
        )
    }

    func testTextSequenceAndUsage() throws {
        let text = "Hello \"world\"\nline2"
        let events = builder.completed(
            .text(text),
            usage: .init(inputTokens: 123, cachedTokens: 100, outputTokens: 7),
            deltaCount: 3
        )
        let decoded = SSE.events(String(decoding: events.events.joined(), as: UTF8.self))
        XCTAssertEqual(
            decoded.map { $0["type"] as? String ?? "" },
            [
                "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
                "response.output_text.delta", "response.output_text.delta", "response.output_text.delta",
                "response.output_text.done", "response.content_part.done", "response.output_item.done",
                "response.completed",
            ]
        )
        XCTAssertEqual(decoded.map { $0["sequence_number"] as? Int ?? -1 }, Array(0..<11))
        XCTAssertEqual(events.deltaIndices, 4..<7)
        XCTAssertEqual(decoded[4...6].map { $0["delta"] as? String ?? "" }.joined(), text)
        let response = try XCTUnwrap(decoded.last?["response"] as? [String: Any])
        let usage = try XCTUnwrap(response["usage"] as? [String: Any])
        XCTAssertEqual(usage["total_tokens"] as? Int, 130)
        XCTAssertEqual((usage["input_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int, 100)
        let output = try XCTUnwrap(response["output"] as? [[String: Any]])
        let content = try XCTUnwrap(output.first?["content"] as? [[String: Any]])
        XCTAssertEqual(content.first?["text"] as? String, text)
    }

    func testToolCallAndFailures() throws {
        let call = SSE.events(
            String(
                decoding: builder.completed(
                    .toolCall(name: "exec_command", arguments: #"{"cmd":"ls"}"#),
                    usage: .init(inputTokens: 1, cachedTokens: 0, outputTokens: 1),
                    deltaCount: 4
                ).events.joined(),
                as: UTF8.self
            )
        )
        let item = try XCTUnwrap(
            call.first { $0["type"] as? String == "response.output_item.done" }?["item"] as? [String: Any]
        )
        XCTAssertEqual(item["type"] as? String, "function_call")
        XCTAssertEqual(item["call_id"] as? String, "call_sim_1")
        XCTAssertEqual(item["arguments"] as? String, #"{"cmd":"ls"}"#)

        let failed = SSE.events(
            String(decoding: builder.failed(code: "server_error", message: "m").events.joined(), as: UTF8.self)
        )
        XCTAssertEqual(failed.last?["type"] as? String, "response.failed")
        XCTAssertEqual(
            ((failed.last?["response"] as? [String: Any])?["error"] as? [String: Any])?["code"] as? String,
            "server_error"
        )
        XCTAssertEqual(ResponseEventBuilder.split("abcdefg", into: 3), ["ab", "cd", "efg"])
        XCTAssertEqual(ResponseEventBuilder.split("", into: 3), [""])
    }
}
