import HTTPServer
import XCTest

@testable import CodexSimulator

final class ReplyPlannerTests: XCTestCase {
    private func parse(
        _ input: [[String: Any]],
        tools: [[String: Any]] = [Requests.execTool]
    ) throws -> SimulatedRequest {
        try SimulatedRequest.parse(
            body: Requests.body(input: input, extra: ["tools": tools]),
            headers: HTTPHeaders(),
            path: "/v1/responses"
        )
    }

    func testToolCallTurnAndFollowUp() throws {
        let user = Requests.message("user", "please [[tool:echo hi]] now")
        let first = try parse([user])
        XCTAssertEqual(
            ReplyPlanner.plan(first, account: "acct1"),
            .toolCall(name: "exec_command", arguments: #"{"cmd":"echo hi"}"#)
        )

        let call: [String: Any] = [
            "type": "function_call", "name": "exec_command", "arguments": "{}", "call_id": "call_1",
        ]
        let output: [String: Any] = [
            "type": "function_call_output", "call_id": "call_1",
            "output": "Chunk ID: 1\nProcess exited with code 0\nOutput:\nhi\nmore\n",
        ]
        let followUp = try parse([user, call, output])
        XCTAssertEqual(ReplyPlanner.plan(followUp, account: "acct1"), .text("Tool said: hi"))

        // After the tool ran, an assistant message closes the turn: no second tool call for the same turn.
        let done = try parse([user, call, output, Requests.message("assistant", "Tool said: hi")])
        guard case .text(let text) = ReplyPlanner.plan(done, account: "acct1") else { return XCTFail("expected text") }
        XCTAssertTrue(text.hasPrefix("Hello from the Codex simulator (acct1): please"))
    }

    func testToolShapes() throws {
        let shell: [String: Any] = [
            "type": "function", "name": "shell",
            "parameters": ["type": "object", "properties": ["command": ["type": "array"]]],
        ]
        let request = try parse([Requests.message("user", "[[tool:ls -l]]")], tools: [["type": "web_search"], shell])
        XCTAssertEqual(
            ReplyPlanner.plan(request, account: "a"),
            .toolCall(name: "shell", arguments: #"{"command":["bash","-lc","ls -l"]}"#)
        )
        let none = try parse([Requests.message("user", "[[tool:ls]]")], tools: [])
        guard case .text(let text) = ReplyPlanner.plan(none, account: "a") else { return XCTFail("expected text") }
        XCTAssertTrue(text.contains("cannot run: ls"))
    }

    func testGreetingEchoesAndPads() throws {
        let request = try SimulatedRequest.parse(
            body: Requests.body(input: "Say hello"),
            headers: [:],
            path: "/v1/responses"
        )
        XCTAssertEqual(
            ReplyPlanner.plan(request, account: "acct2"),
            .text("Hello from the Codex simulator (acct2): Say hello")
        )
        guard case .text(let padded) = ReplyPlanner.plan(request, account: "acct2", textSize: 500) else {
            return XCTFail("expected text")
        }
        XCTAssertGreaterThanOrEqual(padded.utf8.count, 500)
        XCTAssertEqual(ReplyPlanner.firstLine(ofToolOutput: "\n\nfirst\nsecond"), "first")
    }
}
