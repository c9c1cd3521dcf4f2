import Foundation
import XCTest

/// A client that does not ask for `include: ["reasoning.encrypted_content"]` (the OpenAI SDK by default) gets reasoning
/// items that are only an id and a summary. Resent in its history to a ChatGPT account, which stores nothing to look
/// them up in, they were a 404 on every later turn; the proxy leaves them out before sending (docs/recovery.md, "A
/// request leaves out reasoning it cannot carry"), over HTTP, WebSocket and the HTTP bridge, and only there.
final class ReferenceOnlyReasoningTests: XCTestCase {
    var stack: SightlineStack!

    override func tearDown() {
        stack?.stop()
    }

    static let user1 = #"{"type":"message","role":"user","content":"first"}"#
    static let user2 = #"{"type":"message","role":"user","content":"second"}"#
    static let answer = #"{"type":"message","id":"msg_FAKE_1","role":"assistant","content":"hello"}"#
    /// As the API sends it to a client that did not ask for the content.
    static let referenceOnly = #"{"type":"reasoning","id":"rs_FAKE_1","summary":[]}"#

    func post(_ json: String) throws -> ParsedResponse {
        try HTTPTestClient.exchange(port: stack.proxyPort, HTTPTestClient.post(path: "/v1/responses", json: json))
    }

    /// The simulator's log of `…/responses` sends, HTTP and WebSocket alike.
    func upstreamSends() throws -> [[String: Any]] {
        try stack.simulatorLog().filter {
            ($0["path"] as? String ?? "").hasSuffix("/responses") && ["POST", "WS"].contains($0["method"] as? String)
        }
    }

    /// `reasoning_strip` was attempted and succeeded `n` times, once the requests finished (each settles as it ends,
    /// which may be just after its client read the answer).
    func assertStrips(_ n: Double, file: StaticString = #filePath, line: UInt = #line) throws {
        let settled = try poll(timeout: 5) { try stack.decision("reasoning_strip").succeeded == n }
        let d = try stack.decision("reasoning_strip")
        XCTAssertTrue(settled, "\(d)", file: file, line: line)
        XCTAssertEqual(d.attempted, n, file: file, line: line)
        XCTAssertEqual(d.gaveUp, 0, file: file, line: line)
    }

    /// One WebSocket turn whose input is the history as such a client holds it (reasoning without content in it),
    /// read to its `response.completed`.
    func webSocketTurnResendingHistory(conversation: String, file: StaticString = #filePath, line: UInt = #line) throws
    {
        let ws = try WebSocketClient(
            port: stack.proxyPort,
            path: "/v1/responses",
            headers: [("Authorization", "Bearer client-FAKE")]
        )
        defer { ws.close() }
        XCTAssertEqual(ws.status, 101, file: file, line: line)
        let input = [Self.user1, Self.referenceOnly, Self.answer, Self.user2].joined(separator: ",")
        try ws.turn(
            #"{"type":"response.create","model":"gpt-5.5","store":false,"prompt_cache_key":"\#(conversation)","input":[\#(input)]}"#,
            file: file,
            line: line
        )
    }

    /// The `attempted` records of `reasoning_strip`: one per strip, naming why.
    func stripRecords(count: Int) -> [[String: Any]] {
        var records: [[String: Any]] = []
        _ = poll(timeout: 5) {
            records = self.stack.logRecords().filter(Self.isStrip).compactMap { $0["attributes"] as? [String: Any] }
            return records.count >= count
        }
        return records
    }

    static func isStrip(_ record: [String: Any]) -> Bool {
        let attributes = record["attributes"] as? [String: Any]
        return record["event_name"] as? String == "sightline.recovery"
            && attributes?["sightline.recovery.decision"] as? String == "reasoning_strip"
            && attributes?["sightline.recovery.outcome"] as? String == "attempted"
    }

    /// The whole failing case: a real first turn without `include`, then the history resent as the client holds it.
    /// Without the strip the second turn was the upstream's 404, relayed, and so was every turn after it.
    func testAResentHistoryHoldingReasoningWithoutContentIsServed() throws {
        stack = try SightlineStack(label: "reference-only", simulator: ["reasoningItems": true])
        let first = try post(#"{"model":"gpt-5.5","input":[\#(Self.user1)],"prompt_cache_key":"conv-ref"}"#)
        XCTAssertEqual(first.status, 200, first.bodyText)
        let output = try XCTUnwrap(
            (try JSONSerialization.jsonObject(with: Data(first.body)) as? [String: Any])?["output"] as? [[String: Any]]
        )
        XCTAssertEqual(output.map { $0["type"] as? String }, ["reasoning", "message"])
        XCTAssertNil(output.first?["encrypted_content"] as? String, "the client did not ask for it")
        let history = try output.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
        let input = ([Self.user1] + history + [Self.user2]).joined(separator: ",")
        let second = try post(#"{"model":"gpt-5.5","input":[\#(input)],"prompt_cache_key":"conv-ref","stream":true}"#)
        XCTAssertEqual(second.status, 200, second.bodyText)
        XCTAssertTrue(second.bodyText.contains("event: response.completed"), second.bodyText)
        let sends = try upstreamSends()
        XCTAssertEqual(sends.map { $0["status"] as? Int }, [200, 200], "no 404: \(sends)")
        XCTAssertEqual(sends.map { $0["input_item_count"] as? Int }, [1, 3], "all but the reasoning item: \(sends)")
        try assertStrips(1)
        let records = stripRecords(count: 1)
        XCTAssertEqual(records.count, 1, "\(records)")
        XCTAssertEqual(records.first?["error.type"] as? String, "reference_only")
        XCTAssertEqual(records.first?["http.request.resend_count"] as? Int, 1)
        XCTAssertTrue((records.first?["sightline.account"] as? String ?? "").hasPrefix("acct_"), "\(records)")
        XCTAssertTrue((records.first?["sightline.session"] as? String ?? "").hasPrefix("sess_"), "\(records)")
    }

    /// Reasoning with its content, and everything else, goes as it came; no decision is recorded.
    func testReasoningWithContentIsNotTouched() throws {
        stack = try SightlineStack(label: "reference-only-sealed", simulator: ["reasoningItems": true])
        let include = #""include":["reasoning.encrypted_content"],"prompt_cache_key":"conv-sealed-own""#
        let first = try post(#"{"model":"gpt-5.5","input":[\#(Self.user1)],\#(include)}"#)
        XCTAssertEqual(first.status, 200, first.bodyText)
        let output = try XCTUnwrap(
            (try JSONSerialization.jsonObject(with: Data(first.body)) as? [String: Any])?["output"] as? [[String: Any]]
        )
        XCTAssertNotNil(output.first?["encrypted_content"] as? String)
        let history = try output.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
        let input = ([Self.user1] + history + [Self.user2]).joined(separator: ",")
        XCTAssertEqual(try post(#"{"model":"gpt-5.5","input":[\#(input)],\#(include)}"#).status, 200)
        XCTAssertEqual(try upstreamSends().map { $0["input_item_count"] as? Int }, [1, 4])
        XCTAssertEqual(try stack.decision("reasoning_strip").attempted, 0)
    }

    /// An API-key account gets the client's input as it came: there `store` is the client's, and with `store:false`
    /// the real API answers the same 404, which is relayed.
    func testAnAPIKeyAccountGetsTheInputAsSent() throws {
        stack = try SightlineStack(
            label: "reference-only-apikey",
            simulator: ["reasoningItems": true],
            accounts: SightlineStack.apiKeyAccounts(1)
        )
        let input = [Self.user1, Self.referenceOnly, Self.answer, Self.user2].joined(separator: ",")
        for store in [#","store":false"#, ""] {
            let r = try post(#"{"model":"gpt-5.5","input":[\#(input)],"stream":true\#(store)}"#)
            XCTAssertEqual(r.status, 404, r.bodyText)
            XCTAssertEqual(r.errorObject?["param"] as? String, "input", r.bodyText)
        }
        XCTAssertEqual(try upstreamSends().map { $0["input_item_count"] as? Int }, [4, 4])
        XCTAssertEqual(try stack.decision("reasoning_strip").attempted, 0)
    }

    /// In a mixed pool the rule is per attempt: an API-key attempt sends the input as it came, the ChatGPT attempt
    /// that follows it in the same request leaves the item out. The API-key account's key is unknown upstream, so
    /// its 401 moves the request on (`pin_reset`).
    func testInAMixedPoolOnlyTheChatGPTAttemptLeavesItOut() throws {
        stack = try SightlineStack(label: "reference-only-mixed", simulator: ["reasoningItems": true]) { base in
            var apiKey = SightlineStack.apiKeyAccounts(1)(base)[0]
            apiKey["apiKey"] = "sk-sim-FAKE-unknown"
            return [apiKey, SightlineStack.demoAccounts(base: base)[1]]
        }
        let input = [Self.user1, Self.referenceOnly, Self.answer, Self.user2].joined(separator: ",")
        let r = try post(#"{"model":"gpt-5.5","input":[\#(input)],"prompt_cache_key":"conv-mixed"}"#)
        XCTAssertEqual(r.status, 200, r.bodyText)
        let sends = try upstreamSends()
        XCTAssertEqual(sends.map { $0["path"] as? String }, ["/v1/responses", "/backend-api/codex/responses"])
        XCTAssertEqual(sends.map { $0["status"] as? Int }, [401, 200], "\(sends)")
        XCTAssertEqual(sends.map { $0["input_item_count"] as? Int }, [4, 3], "\(sends)")
        try assertStrips(1)
        XCTAssertEqual(stripRecords(count: 1).first?["http.request.resend_count"] as? Int, 2, "the ChatGPT attempt")
    }

    /// A WebSocket turn's own input goes to a ChatGPT account's socket the same way.
    func testAWebSocketTurnLeavesItOut() throws {
        stack = try SightlineStack(label: "reference-only-ws", simulator: ["reasoningItems": true])
        try webSocketTurnResendingHistory(conversation: "conv-ws")
        let sends = try upstreamSends()
        XCTAssertEqual(sends.map { $0["method"] as? String }, ["WS"])
        XCTAssertEqual(sends.map { $0["input_item_count"] as? Int }, [3], "\(sends)")
        try assertStrips(1)
        XCTAssertEqual(stripRecords(count: 1).first?["error.type"] as? String, "reference_only")
    }

    /// The strip is recorded before the first send; a refused upgrade then moves the turn, and that move is still
    /// counted as the failover it is. Until 2026-12-07 any pending decision hid it, the strip's included.
    func testAWebSocketTurnThatMovesAfterTheStripCountsItsFailover() throws {
        stack = try SightlineStack(label: "reference-only-ws-failover", simulator: ["reasoningItems": true])
        try stack.injectFault(account: "acct1", "server_error", params: ["stage": "handshake"])
        try webSocketTurnResendingHistory(conversation: "conv-ws-2")
        try assertStrips(1)
        let moved = try poll(timeout: 5) { try stack.decision("failover").succeeded == 1 }
        let failover = try stack.decision("failover")
        XCTAssertTrue(moved, "\(failover)")
        XCTAssertEqual(failover.attempted, 1)
    }

    /// The HTTP bridge sends a request's input as a frame on a ChatGPT account's socket: the same rule.
    func testTheHTTPBridgeLeavesItOut() throws {
        stack = try SightlineStack(
            label: "reference-only-bridge",
            extraConfig: ["httpBridge": true],
            simulator: ["reasoningItems": true]
        )
        let input = [Self.user1, Self.referenceOnly, Self.answer, Self.user2].joined(separator: ",")
        let r = try post(#"{"model":"gpt-5.5","input":[\#(input)],"prompt_cache_key":"conv-bridge","stream":true}"#)
        XCTAssertEqual(r.status, 200, r.bodyText)
        XCTAssertTrue(r.bodyText.contains("event: response.completed"), r.bodyText)
        let sends = try upstreamSends()
        XCTAssertEqual(sends.map { $0["method"] as? String }, ["WS"], "served over the bridge: \(sends)")
        XCTAssertEqual(sends.map { $0["input_item_count"] as? Int }, [3], "\(sends)")
        try assertStrips(1)
        XCTAssertEqual(stripRecords(count: 1).first?["error.type"] as? String, "reference_only")
    }

    /// A bridged request that fails before its first byte goes to the HTTP path, which leaves the item out again: still
    /// one decision, settled by the request that ended.
    func testABridgedRequestHandedToHTTPIsOneDecision() throws {
        stack = try SightlineStack(
            label: "reference-only-bridge-handoff",
            extraConfig: ["httpBridge": true],
            simulator: ["reasoningItems": true]
        )
        try stack.injectFault(account: nil, "server_error")
        let input = [Self.user1, Self.referenceOnly, Self.answer, Self.user2].joined(separator: ",")
        let r = try post(#"{"model":"gpt-5.5","input":[\#(input)],"prompt_cache_key":"conv-handoff","stream":true}"#)
        XCTAssertEqual(r.status, 200, r.bodyText)
        let sends = try upstreamSends()
        XCTAssertEqual(sends.map { $0["method"] as? String }, ["WS", "POST"], "handed to HTTP: \(sends)")
        XCTAssertEqual(sends.map { $0["status"] as? Int }, [500, 200], "\(sends)")
        XCTAssertEqual(sends.map { $0["input_item_count"] as? Int }, [3, 3], "\(sends)")
        try assertStrips(1)
        XCTAssertEqual(stripRecords(count: 1).count, 1)
    }
}
