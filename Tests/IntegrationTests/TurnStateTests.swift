import Foundation
import XCTest

/// The backend's turn-state token through the real proxy (codex-protocol.md §2, §5): Codex reads it from the
/// `x-codex-turn-state` header of an HTTP answer or from the `response.metadata` frame of a WebSocket one, and
/// echoes it on the later requests of the same turn (the header over HTTP, `client_metadata` in a frame). The
/// backend uses it to keep a turn together, so a proxy must relay it both ways on every transport.
final class TurnStateTests: XCTestCase {
    private var stack: SightlineStack!

    override func tearDown() { stack?.stop() }

    /// The token the simulator gave the response `id` (docs/simulator.md).
    private static func token(of id: String) -> String { "ts_sim_" + id.dropFirst("resp_sim_".count) }

    private func post(stream: Bool, key: String, turnState: String? = nil) throws -> ParsedResponse {
        try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(
                path: "/v1/responses",
                json: #"{"model":"gpt-5.5","input":"hi","stream":\#(stream),"prompt_cache_key":"\#(key)"}"#,
                headers: turnState.map { [("x-codex-turn-state", $0)] } ?? []
            )
        )
    }

    /// The simulator's record of the last request it answered with `method` (`POST` over HTTP, `WS` a frame).
    private func lastUpstream(_ method: String) throws -> [String: Any] {
        try XCTUnwrap(stack.simulatorLog().last { $0["method"] as? String == method })
    }

    func testAnHTTPAnswerCarriesTheTurnStateAndTheEchoReachesTheUpstream() throws {
        stack = try SightlineStack(label: "turn-state-http")
        for stream in [true, false] {
            let r = try post(stream: stream, key: "turn-state-http-\(stream)")
            XCTAssertEqual(r.status, 200, r.bodyText)
            let sent = try lastUpstream("POST")
            let id = try XCTUnwrap(sent["response_id"] as? String, "\(sent)")
            XCTAssertEqual(r.headers["x-codex-turn-state"], Self.token(of: id), "stream: \(stream)")
            XCTAssertNil(sent["turn_state"], "the client echoed nothing: \(sent)")

            let token = try XCTUnwrap(r.headers["x-codex-turn-state"])
            let next = try post(stream: stream, key: "turn-state-http-\(stream)", turnState: token)
            XCTAssertEqual(next.status, 200, next.bodyText)
            XCTAssertEqual(try lastUpstream("POST")["turn_state"] as? String, token, "stream: \(stream)")
        }
    }

    func testAWebSocketTurnRelaysTheMetadataFrameAndTheEchoReachesTheUpstream() throws {
        stack = try SightlineStack(label: "turn-state-ws")
        let ws = try WebSocketClient(
            port: stack.proxyPort,
            path: "/v1/responses",
            headers: [("Authorization", "Bearer client-FAKE")]
        )
        XCTAssertEqual(ws.status, 101)
        defer { ws.close() }
        func frame(_ anchor: String?, _ metadata: [String: String]) -> String {
            var object: [String: Any] = [
                "type": "response.create", "model": "gpt-5.5", "store": false, "stream": true,
                "prompt_cache_key": "turn-state-ws", "client_metadata": metadata,
                "input": [["type": "message", "role": "user", "content": [["type": "input_text", "text": "hi"]]]],
            ]
            if let anchor { object["previous_response_id"] = anchor }
            return String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }

        try ws.send(frame(nil, [:]))
        let events = ws.readTurn()
        let id = try XCTUnwrap(WebSocketClient.completedID(events))
        let types = events.compactMap { $0["type"] as? String }
        let metadataAt = try XCTUnwrap(types.firstIndex(of: "response.metadata"), "\(types)")
        XCTAssertLessThan(metadataAt, types.firstIndex(of: "response.created") ?? -1, "as sent: \(types)")
        let headers = events[metadataAt]["headers"] as? [String: Any]
        XCTAssertEqual(headers?["x-codex-turn-state"] as? String, Self.token(of: id), "\(events[metadataAt])")

        // Codex echoes the token in `client_metadata` of the turn's next frame; frames pass unchanged.
        let token = Self.token(of: id)
        try ws.send(frame(id, ["x-codex-turn-state": token]))
        XCTAssertNotNil(WebSocketClient.completedID(ws.readTurn()))
        let frames = try stack.simulatorLog().filter { $0["method"] as? String == "WS" }
        XCTAssertEqual(frames.map { $0["turn_state"] as? String }, [nil, token], "\(frames)")
    }

    /// Over the bridge the upstream is a WebSocket but the client speaks HTTP: the turn state must reach it as the
    /// header an HTTP upstream would send, and the `response.metadata` frame must not become an SSE event before
    /// `response.created` (the SDK's `responses.stream()` refuses any event before it).
    func testABridgedAnswerCarriesTheTurnStateAsAHeader() throws {
        stack = try SightlineStack(label: "turn-state-bridge", extraConfig: ["httpBridge": true])
        for stream in [true, false] {
            let r = try post(stream: stream, key: "turn-state-bridge-\(stream)")
            XCTAssertEqual(r.status, 200, r.bodyText)
            let sent = try lastUpstream("WS")
            let id = try XCTUnwrap(sent["response_id"] as? String, "\(sent)")
            XCTAssertEqual(r.headers["x-codex-turn-state"], Self.token(of: id), "stream: \(stream)")
            XCTAssertFalse(r.bodyText.contains("response.metadata"), "a header, never an event: \(r.bodyText)")
            if stream { XCTAssertTrue(r.bodyText.hasPrefix("event: response.created\n"), r.bodyText) }
        }
        XCTAssertEqual(try stack.simulatorLog().filter { $0["method"] as? String == "POST" }.count, 0, "bridged")
    }

    /// A bridged request's `x-codex-turn-state` header goes into its frame's `client_metadata`, where a WebSocket
    /// upstream reads it (codex-protocol.md §5), and the socket's handshake, shared by every request of the
    /// conversation, never carries one request's token.
    func testABridgedRequestsTurnStateReachesItsFrame() throws {
        stack = try SightlineStack(label: "turn-state-bridge-echo", extraConfig: ["httpBridge": true])
        let first = try post(stream: true, key: "turn-state-bridge-echo", turnState: "ts_client_opening")
        let token = try XCTUnwrap(first.headers["x-codex-turn-state"], "\(first.headers)")
        XCTAssertEqual(try post(stream: true, key: "turn-state-bridge-echo", turnState: token).status, 200)
        let frames = try stack.simulatorLog().filter { $0["method"] as? String == "WS" }
        XCTAssertEqual(frames.map { $0["turn_state"] as? String }, ["ts_client_opening", token], "\(frames)")
        XCTAssertEqual(Set(frames.compactMap { $0["connection"] as? String }).count, 1, "one pooled socket")
        // A frame's `header_names` are its socket's handshake headers.
        for frame in frames {
            XCTAssertFalse((frame["header_names"] as? [String] ?? []).contains("x-codex-turn-state"), "\(frame)")
        }
    }

    /// The real SDK through the bridge: `responses.stream()` needs `response.created` first, which a relayed
    /// `response.metadata` event broke (RuntimeError "Expected to have received `response.created` before …").
    func testTheSDKStreamHelperWorksOverTheBridge() throws {
        stack = try SightlineStack(label: "turn-state-bridge-sdk", extraConfig: ["httpBridge": true])
        let out = try RealClients.sdkScript(stack, "openai_sdk_turns.py")
        let events = try XCTUnwrap((out["stream"] as? [String: Any])?["events"] as? [String], "\(out)")
        XCTAssertEqual(events.first, "response.created")
        XCTAssertFalse(events.contains("response.metadata"), "\(events)")
        let helper = try XCTUnwrap(out["helper"] as? [String: Any], "\(out)")
        XCTAssertTrue((helper["text"] as? String ?? "").contains("Say hello again"), "\(helper)")
        XCTAssertEqual(try stack.simulatorLog().filter { $0["method"] as? String == "POST" }.count, 0, "bridged")
    }
}
