import Foundation
import HTTPServer
import XCTest

@testable import CodexSimulator

/// Drives the routes and the engine through an in-memory sink: the wire result of every decision.
final class SimulatorHTTPHandlerTests: XCTestCase {
    let path = "/backend-api/codex/responses"

    func testFullStreamHeadersAndUsage() throws {
        let h = Harness()
        let sink = h.send("POST", path, headers: Requests.chatgpt(1, [("session-id", "s-1")]), body: Requests.body())
        sink.waitFinished()
        XCTAssertEqual(sink.snapshot.status, 200)
        XCTAssertTrue(sink.snapshot.ended)
        XCTAssertEqual(sink.snapshot.headers["content-type"], "text/event-stream")
        XCTAssertEqual(sink.snapshot.headers["openai-model"], "gpt-test")
        XCTAssertTrue(sink.snapshot.headers["x-request-id"]?.hasPrefix("req_sim_") ?? false)
        for name in ["primary", "secondary"] {
            XCTAssertNotNil(sink.snapshot.headers["x-codex-\(name)-used-percent"])
            XCTAssertNotNil(sink.snapshot.headers["x-codex-\(name)-window-minutes"])
            XCTAssertNotNil(sink.snapshot.headers["x-codex-\(name)-reset-at"])
        }
        let events = sink.events
        XCTAssertEqual(events.first?["type"] as? String, "response.created")
        XCTAssertEqual(events.last?["type"] as? String, "response.completed")
        let response = try XCTUnwrap(events.last?["response"] as? [String: Any])
        let id = try XCTUnwrap(response["id"] as? String)
        XCTAssertTrue(id.hasPrefix("resp_sim_"))
        let text = ((response["output"] as? [[String: Any]])?.first?["content"] as? [[String: Any]])?.first?["text"]
        XCTAssertEqual(text as? String, "Hello from the Codex simulator (acct1): hi")
        let record = try XCTUnwrap(h.requests.last)
        XCTAssertEqual(record["account"] as? String, "acct1")
        XCTAssertEqual(record["session_id"] as? String, "s-1")
        XCTAssertEqual(record["response_id"] as? String, id)
        XCTAssertEqual(record["has_authorization"] as? Bool, true)
        XCTAssertEqual(record["header_names"] as? [String], ["authorization", "chatgpt-account-id", "session-id"])
    }

    func testValidationErrors() throws {
        let h = Harness()
        let cases: [([UInt8], Int, String?, String)] = [
            (Requests.body(stream: false), 400, nil, "Stream must be set to true"),
            (Requests.body(stream: nil), 400, nil, "Stream must be set to true"),
            (Requests.body(extra: ["store": true]), 400, nil, "Store must be set to false"),
            (
                Requests.body(extra: ["previous_response_id": "resp_x"]), 400, "previous_response_not_found",
                "Previous response with id 'resp_x' not found."
            ),
        ]
        for (body, status, code, message) in cases {
            let sink = h.send("POST", path, headers: Requests.chatgpt(1), body: body)
            XCTAssertEqual(sink.snapshot.status, status, message)
            let error = try XCTUnwrap(sink.json["error"] as? [String: Any])
            XCTAssertEqual(error["message"] as? String, message)
            XCTAssertEqual(error["type"] as? String, "invalid_request_error")
            XCTAssertEqual(error["code"] as? String, code)
        }
    }

    func testAnchorsResolveWhenConfigured() throws {
        var configuration = SimulatorConfiguration.demo(accounts: 1)
        configuration.httpAnchorsResolve = true
        let h = Harness(configuration)
        let first = h.send("POST", path, headers: Requests.chatgpt(1), body: Requests.body())
        let id = try XCTUnwrap((first.events.last?["response"] as? [String: Any])?["id"] as? String)
        let chained = h.send(
            "POST",
            path,
            headers: Requests.chatgpt(1),
            body: Requests.body(extra: ["previous_response_id": id])
        )
        XCTAssertEqual(chained.snapshot.status, 200)
        let unknown = h.send(
            "POST",
            path,
            headers: Requests.chatgpt(1),
            body: Requests.body(extra: ["previous_response_id": "resp_no"])
        )
        XCTAssertEqual(unknown.snapshot.status, 400)
    }

    func testBadAuth() throws {
        let h = Harness()
        let cases: [(HTTPHeaders, String)] = [
            ([:], "missing_authorization"),
            (["Authorization": "Bearer wrong"], "invalid_api_key"),
            (
                ["Authorization": "Bearer sim-access-acct1-0", "chatgpt-account-id": "sim-account-2"],
                "account_mismatch"
            ),
        ]
        for (headers, code) in cases {
            let sink = h.send("POST", path, headers: headers, body: Requests.body())
            XCTAssertEqual(sink.snapshot.status, 401, code)
            XCTAssertEqual((sink.json["error"] as? [String: Any])?["code"] as? String, code)
        }
        let apiKey = h.send(
            "POST",
            "/v1/responses",
            headers: ["Authorization": "Bearer sk-sim-FAKE-acct3"],
            body: Requests.body()
        )
        XCTAssertEqual(apiKey.snapshot.status, 200)
        XCTAssertEqual(h.requests.last?["account"] as? String, "acct3")
    }

    func testCachedTokensGrowPerAccountAndKey() throws {
        let h = Harness()
        var input: [[String: Any]] = [Requests.message("developer", String(repeating: "rules ", count: 400))]
        func send(_ account: Int, key: String = "thread-1") -> Int {
            let sink = h.send(
                "POST",
                path,
                headers: Requests.chatgpt(account),
                body: Requests.body(input: input, key: key)
            )
            let usage = (sink.events.last?["response"] as? [String: Any])?["usage"] as? [String: Any]
            return (usage?["input_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int ?? -1
        }
        XCTAssertEqual(send(1), 0)
        input.append(Requests.message("user", String(repeating: "question ", count: 100)))
        let second = send(1)
        XCTAssertGreaterThan(second, 0)
        XCTAssertEqual(second % 64, 0)
        input.append(Requests.message("assistant", String(repeating: "answer ", count: 100)))
        XCTAssertGreaterThan(send(1), second)
        XCTAssertEqual(send(2), 0, "another account has a cold cache")
        XCTAssertEqual(send(1, key: "thread-2"), 0, "another key has a cold cache")
        let records = h.requests
        XCTAssertEqual(records.map { $0["cached_tokens"] as? Int ?? -1 }.filter { $0 > 0 }.count, 2)
    }

    func testToolRoundTrip() throws {
        let h = Harness()
        let user = Requests.message("user", "run [[tool:echo sim-ok]]")
        let first = h.send(
            "POST",
            path,
            headers: Requests.chatgpt(1),
            body: Requests.body(input: [user], extra: ["tools": [Requests.execTool]])
        )
        let item = try XCTUnwrap(
            first.events.first { $0["type"] as? String == "response.output_item.done" }?["item"] as? [String: Any]
        )
        XCTAssertEqual(item["type"] as? String, "function_call")
        XCTAssertEqual(item["name"] as? String, "exec_command")
        XCTAssertEqual(item["arguments"] as? String, #"{"cmd":"echo sim-ok"}"#)
        let callId = try XCTUnwrap(item["call_id"] as? String)
        let output: [String: Any] = ["type": "function_call_output", "call_id": callId, "output": "sim-ok\n"]
        let second = h.send(
            "POST",
            path,
            headers: Requests.chatgpt(1),
            body: Requests.body(input: [user, item, output], extra: ["tools": [Requests.execTool]])
        )
        let done = second.events.first { $0["type"] as? String == "response.output_text.done" }
        XCTAssertEqual(done?["text"] as? String, "Tool said: sim-ok")
    }

    /// A `/v1/responses/compact` request as acct1.
    private func postCompact(_ h: Harness) -> RecordingSink {
        h.send(
            "POST",
            "/v1/responses/compact",
            headers: ["Authorization": "Bearer sk-sim-FAKE-acct1"],
            body: Requests.body(stream: nil)
        )
    }

    /// Compact took the queued stream fault, logged it, answered 200 anyway, and the next stream ran clean.
    func testCompactLeavesAStreamFaultForTheNextStream() throws {
        let h = Harness()
        XCTAssertEqual(h.post("/__sim/faults", json: #"{"fault":"stream_cut","after":2}"#).snapshot.status, 200)
        let compact = postCompact(h)
        XCTAssertEqual(compact.snapshot.status, 200)
        let stream = h.send(
            "POST",
            "/v1/responses",
            headers: ["Authorization": "Bearer sk-sim-FAKE-acct1"],
            body: Requests.body()
        )
        stream.waitFinished()
        XCTAssertTrue(stream.snapshot.aborted, "the stream takes the cut")
        XCTAssertEqual(stream.events.count, 2)
        XCTAssertEqual(h.requests.map { $0["fault"] as? String }, [nil, "stream_cut"])

        XCTAssertEqual(h.post("/__sim/faults", json: #"{"fault":"overloaded"}"#).snapshot.status, 200)
        let overloaded = postCompact(h)
        XCTAssertEqual(overloaded.snapshot.status, 503, "a status fault still answers compact")
    }

    func testModelsCompactAndUnknownRoutes() throws {
        let h = Harness()
        XCTAssertNotNil(h.send("GET", "/backend-api/codex/models").json["models"] as? [Any])
        XCTAssertNotNil(h.send("GET", "/v1/models").json["data"] as? [Any])
        let compact = postCompact(h)
        XCTAssertEqual(compact.snapshot.status, 200)
        XCTAssertEqual((compact.json["output"] as? [[String: Any]])?.last?["type"] as? String, "compaction")
        XCTAssertEqual(h.send("GET", "/nope").snapshot.status, 404)
        let upgrade = h.send("GET", "/v1/responses", headers: ["Upgrade": "websocket", "Connection": "Upgrade"])
        XCTAssertEqual(upgrade.snapshot.status, 426)
    }

    /// Each streamed answer carries its own turn state, as the backend's `x-codex-turn-state` header; compact and
    /// error answers carry none. The log keeps the token a request echoed, so a test sees what a proxy forwarded.
    func testStreamedAnswersCarryATurnStateAndTheLogKeepsTheEchoedOne() throws {
        let h = Harness()
        let first = h.send("POST", path, headers: Requests.chatgpt(1), body: Requests.body())
        first.waitFinished()
        let firstID = try XCTUnwrap(h.requests.last?["response_id"] as? String)
        let token = try XCTUnwrap(first.snapshot.headers["x-codex-turn-state"])
        XCTAssertEqual(token, "ts_sim_" + firstID.dropFirst("resp_sim_".count), "derived from the response id")
        XCTAssertNil(h.requests.last?["turn_state"], "the first request of a turn echoes nothing")

        let echo = h.send(
            "POST",
            path,
            headers: Requests.chatgpt(1, [("x-codex-turn-state", token)]),
            body: Requests.body()
        )
        echo.waitFinished()
        XCTAssertEqual(h.requests.last?["turn_state"] as? String, token)
        let second = try XCTUnwrap(echo.snapshot.headers["x-codex-turn-state"])
        XCTAssertNotEqual(second, token, "every response has its own")

        let compact = postCompact(h)
        XCTAssertEqual(compact.snapshot.status, 200)
        XCTAssertNil(compact.snapshot.headers["x-codex-turn-state"])
        let failed = h.send("POST", path, headers: Requests.chatgpt(1), body: Requests.body(stream: false))
        XCTAssertEqual(failed.snapshot.status, 400)
        XCTAssertNil(failed.snapshot.headers["x-codex-turn-state"])
    }
}
