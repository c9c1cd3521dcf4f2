import Foundation
import XCTest

/// Anchors belong to the client principal whose request produced them (docs/recovery.md, "Anchors belong to
/// their principal"): another principal's `previous_response_id` is answered as not found, over HTTP and
/// WebSocket, before anything is looked up, replayed or sent upstream, and the owner's conversation goes on.
final class AnchorOwnershipTests: XCTestCase {
    var stack: SightlineStack!

    override func tearDown() { stack?.stop() }

    static let keyA = "sk-team-a-FAKE-0000"
    static let keyB = "sk-team-b-FAKE-0000"

    func startStack(_ label: String, bridge: Bool = false) throws {
        stack = try SightlineStack(
            label: label,
            extraConfig: [
                "clientKeys": [["name": "team-a", "key": Self.keyA], ["name": "team-b", "key": Self.keyB]],
                "httpBridge": bridge,
            ]
        )
    }

    func post(_ json: String, key: String) throws -> ParsedResponse {
        try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(path: "/v1/responses", json: json, headers: [("Authorization", "Bearer \(key)")])
        )
    }

    func upstreamRequests() throws -> Int {
        let r = try HTTPTestClient.get(port: stack.simulatorPort, path: "/__sim/requests")
        let list = try JSONSerialization.jsonObject(with: Data(r.body)) as? [[String: Any]] ?? []
        return list.filter { ($0["path"] as? String ?? "").hasSuffix("/responses") || $0["method"] as? String == "WS" }
            .count
    }

    /// Team B names `id` over HTTP and gets the API's not-found, with no id in the answer.
    func assertForeignRefused(_ id: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let foreign = try post(
            #"{"model":"gpt-5.5","input":"what did I ask?","previous_response_id":"\#(id)","stream":true}"#,
            key: Self.keyB
        )
        XCTAssertEqual(foreign.status, 400, foreign.bodyText, file: file, line: line)
        XCTAssertEqual(foreign.errorObject?["code"] as? String, "previous_response_not_found", file: file, line: line)
        XCTAssertEqual(foreign.errorObject?["param"] as? String, "previous_response_id", file: file, line: line)
        XCTAssertEqual(foreign.errorObject?["type"] as? String, "invalid_request_error", file: file, line: line)
        XCTAssertFalse(foreign.bodyText.contains("resp_"), foreign.bodyText, file: file, line: line)
    }

    func refusals(_ transport: String) throws -> Double {
        try stack.metric(#"sightline_foreign_anchor_refusals_total{transport="\#(transport)"}"#)
    }

    /// The refusal's log record names both principals by pseudonym and nothing else about them.
    func assertRefusalLogged(transport: String, file: StaticString = #filePath, line: UInt = #line) {
        let records = stack.awaitLogRecords(event: "sightline.foreign_anchor", count: 1)
        XCTAssertEqual(records.count, 1, file: file, line: line)
        let attributes = records.first?["attributes"] as? [String: Any] ?? [:]
        XCTAssertEqual(attributes["sightline.transport"] as? String, transport, file: file, line: line)
        let owner = attributes["sightline.anchor.owner"] as? String ?? ""
        let requester = attributes["sightline.principal"] as? String ?? ""
        XCTAssertTrue(owner.hasPrefix("prn_"), "\(attributes)", file: file, line: line)
        XCTAssertTrue(requester.hasPrefix("prn_"), "\(attributes)", file: file, line: line)
        XCTAssertNotEqual(owner, requester, file: file, line: line)
        let output = stack.allOutput()
        for secret in [Self.keyA, Self.keyB, "team-a", "team-b"] {
            XCTAssertFalse(output.contains(secret), "\(secret) in the log", file: file, line: line)
        }
    }

    func testAnotherPrincipalsAnchorIsNotFoundOverHTTP() throws {
        try startStack("owner-http")
        let first = try post(#"{"model":"gpt-5.5","input":"a private question"}"#, key: Self.keyA)
        XCTAssertEqual(first.status, 200, first.bodyText)
        let id = try XCTUnwrap(first.responseID)
        let sent = try upstreamRequests()

        try assertForeignRefused(id)
        XCTAssertEqual(try upstreamRequests(), sent, "nothing goes upstream for a foreign anchor")
        XCTAssertEqual(try refusals("http"), 1)
        XCTAssertEqual(try stack.metric("sightline_affinity_lookups_total{result=\"hit\"}"), 0, "not even looked up")
        assertRefusalLogged(transport: "http")

        // The owner's conversation is untouched: its next turn is replayed from the transcript as before.
        let own = try post(
            #"{"model":"gpt-5.5","input":"and now?","previous_response_id":"\#(id)","stream":true}"#,
            key: Self.keyA
        )
        XCTAssertEqual(own.status, 200, own.bodyText)
        XCTAssertTrue(own.bodyText.contains("response.completed"), own.bodyText)
        XCTAssertEqual(try refusals("http"), 1)
        XCTAssertGreaterThan(try stack.metric("sightline_affinity_lookups_total{result=\"hit\"}"), 0)
    }

    /// The HTTP bridge records what it serves with its owner too (its own record path).
    func testAnAnchorTheBridgeProducedIsItsPrincipalsToo() throws {
        try startStack("owner-bridge", bridge: true)
        let first = try post(
            #"{"model":"gpt-5.5","input":"a private question","prompt_cache_key":"owner-bridge-1"}"#,
            key: Self.keyA
        )
        XCTAssertEqual(first.status, 200, first.bodyText)
        XCTAssertEqual(
            try stack.metric(#"sightline_websocket_upstream_turns_total{client="http_bridge",session="new"}"#),
            1,
            "served over the bridge"
        )
        let id = try XCTUnwrap(first.responseID)
        try assertForeignRefused(id)
        XCTAssertEqual(try refusals("http"), 1)
    }

    /// A request the bridge serves is logged as the same request over plain HTTP is (docs/logs.md, `sightline.request`):
    /// with its principal, its continuity key's source and its attempt count. Without them, a principal's requests
    /// could not be found in the access log once the bridge was on.
    func testABridgedRequestsRecordNamesItsPrincipal() throws {
        try startStack("owner-bridge-log", bridge: true)
        let first = try post(
            #"{"model":"gpt-5.5","input":"hello","prompt_cache_key":"owner-bridge-log"}"#,
            key: Self.keyA
        )
        XCTAssertEqual(first.status, 200, first.bodyText)
        XCTAssertEqual(
            try stack.metric(#"sightline_websocket_upstream_turns_total{client="http_bridge",session="new"}"#),
            1,
            "served over the bridge"
        )
        let records = stack.awaitLogRecords(event: "sightline.request", count: 1)
        let attributes = try XCTUnwrap(records.last?["attributes"] as? [String: Any], "\(records)")
        XCTAssertEqual(attributes["sightline.bridge"] as? Bool, true, "\(attributes)")
        let principal = try XCTUnwrap(attributes["sightline.principal"] as? String, "\(attributes)")
        XCTAssertTrue(principal.hasPrefix("prn_"), principal)
        XCTAssertEqual(attributes["sightline.continuity_key.source"] as? String, "body", "\(attributes)")
        XCTAssertEqual(attributes["sightline.recovery.attempts"] as? Int, 1, "\(attributes)")
    }

    /// Two principals that send the same `prompt_cache_key` never share a bridge socket: B's request that
    /// repeats A's history is sent in full on a socket of its own, never continued from A's response.
    func testPrincipalsNeverShareABridgeSession() throws {
        try startStack("owner-bridge-key", bridge: true)
        func post(_ input: [[String: Any]], key: String) throws -> [[String: Any]] {
            let body: [String: Any] = ["model": "gpt-5.5", "input": input, "prompt_cache_key": "shared-thread-1"]
            let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
            let r = try self.post(json, key: key)
            XCTAssertEqual(r.status, 200, r.bodyText)
            return (try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])?["output"]
                as? [[String: Any]] ?? []
        }
        let first: [[String: Any]] = [["role": "user", "content": "first question"]]
        let output = try post(first, key: Self.keyA)
        XCTAssertFalse(output.isEmpty)
        let continued = first + output + [["role": "user", "content": "second question"]]
        _ = try post(continued, key: Self.keyB)
        _ = try post(continued, key: Self.keyA)
        let r = try HTTPTestClient.get(port: stack.simulatorPort, path: "/__sim/requests")
        let all = try JSONSerialization.jsonObject(with: Data(r.body)) as? [[String: Any]] ?? []
        let frames = all.filter { $0["method"] as? String == "WS" }
        XCTAssertEqual(frames.count, 3, "\(all)")
        XCTAssertEqual(frames.map { $0["has_previous_response_id"] as? Bool }, [false, false, true], "\(frames)")
        let connections = frames.map { $0["connection"] as? String ?? "" }
        XCTAssertNotEqual(connections[1], connections[0], "B gets a socket of its own")
        XCTAssertEqual(connections[2], connections[0], "A goes on incrementally on its own socket")
    }

    func testOwnersOutliveARestart() throws {
        try startStack("owner-restart")
        let first = try post(#"{"model":"gpt-5.5","input":"a private question"}"#, key: Self.keyA)
        XCTAssertEqual(first.status, 200, first.bodyText)
        let id = try XCTUnwrap(first.responseID)
        // A clean stop writes the snapshot; the new process has no transcripts, only the snapshot's owners.
        try stack.restartProxy()
        try assertForeignRefused(id)
        XCTAssertEqual(try refusals("http"), 1)
    }

    func testAnotherPrincipalsAnchorIsNotFoundOverWebSocket() throws {
        try startStack("owner-ws")
        let a = try WebSocketClient(
            port: stack.proxyPort,
            path: "/v1/responses",
            headers: [("Authorization", "Bearer \(Self.keyA)")]
        )
        XCTAssertEqual(a.status, 101)
        let id = try XCTUnwrap(try a.turn(WebSocketProxyTests.frame(nil, "a private question")))
        let sent = try upstreamRequests()

        let b = try WebSocketClient(
            port: stack.proxyPort,
            path: "/v1/responses",
            headers: [("Authorization", "Bearer \(Self.keyB)")]
        )
        XCTAssertEqual(b.status, 101)
        try b.send(WebSocketProxyTests.frame(id, "what did they ask?"))
        guard case .text(let text) = b.next() else { return XCTFail("no frame") }
        XCTAssertTrue(text.contains(#""code":"previous_response_not_found""#), text)
        XCTAssertTrue(text.contains(#""status":400"#), text)
        XCTAssertFalse(text.contains("resp_"), text)
        XCTAssertEqual(try upstreamRequests(), sent, "nothing goes upstream for a foreign anchor")
        XCTAssertEqual(try refusals("websocket"), 1)
        assertRefusalLogged(transport: "websocket")
        // B's session goes on with a conversation of its own.
        XCTAssertNotNil(try b.turn(WebSocketProxyTests.frame(nil, "my own question")))
        // A's live anchor still continues on A's upstream socket.
        XCTAssertNotNil(try a.turn(WebSocketProxyTests.frame(id, "follow-up")))
        XCTAssertEqual(try refusals("websocket"), 1)
        let turns = stack.awaitLogRecords(event: "sightline.request", count: 4)
        let principals = Set(
            turns.compactMap { ($0["attributes"] as? [String: Any])?["sightline.principal"] as? String }
        )
        XCTAssertEqual(principals.count, 2, "each WebSocket turn's record names its principal: \(principals)")
        a.close()
        b.close()
    }
}
