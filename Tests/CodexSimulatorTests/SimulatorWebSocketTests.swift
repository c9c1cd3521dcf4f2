import Foundation
import HTTPServer
import SightlineTestSupport
import XCTest

@testable import CodexSimulator

/// The simulator's WebSocket mode over real sockets (codex-protocol.md §5).
final class SimulatorWebSocketTests: XCTestCase {
    var simulator: CodexSimulator!
    let path = "/backend-api/codex/responses"
    let auth1: HTTPHeaders = [
        "Authorization": "Bearer sim-access-acct1-0", "chatgpt-account-id": "sim-account-1",
        "OpenAI-Beta": "responses_websockets=2026-02-06",
    ]

    func start(_ configure: (inout SimulatorConfiguration) -> Void = { _ in }) throws {
        simulator = try TestPorts.withFreePort { port in
            var configuration = SimulatorConfiguration.demo(accounts: 2)
            configuration.port = port
            configure(&configuration)
            let simulator = CodexSimulator(configuration: configuration)
            try simulator.start()
            return simulator
        }
    }

    override func tearDown() {
        simulator?.shutdown()
        simulator = nil
    }

    func connect(headers: HTTPHeaders? = nil) throws -> WebSocketTestClient {
        let client = try WebSocketTestClient(port: simulator.port)
        XCTAssertEqual(try client.handshake(path: path, headers: headers ?? auth1), 101)
        return client
    }

    var records: [RequestRecord] { simulator.engine.state.withLock { $0.log.records } }

    func admin(_ path: String, body: String = "") -> SimulatorOutcome {
        simulator.handler.outcome(for: HTTPRequest(method: "POST", target: path, body: Array(body.utf8)))
    }

    static var user: [String: Any] {
        [
            "type": "message", "role": "user", "content": [["type": "input_text", "text": "list files"]],
        ]
    }

    func testPrewarmThenChainedIncrementalRequests() throws {
        try start()
        let client = try connect()
        XCTAssertEqual(client.responseHeaders["x-models-etag"], "sim-models-1")
        let base: [String: Any] = ["model": "gpt-test", "store": false, "stream": true, "prompt_cache_key": "pck-ws"]
        var prewarm = base
        prewarm["generate"] = false
        prewarm["input"] = [Any]()
        let warm = try client.create(prewarm)
        XCTAssertEqual(warm.map { $0["type"] as? String }, ["response.created", "response.completed"])
        let warmId = try XCTUnwrap((warm.last?["response"] as? [String: Any])?["id"] as? String)

        var first = base
        first["previous_response_id"] = warmId
        first["input"] = [Self.user]
        let answer = try client.create(first)
        // The backend's quota report first (what HTTP answers carry as `x-codex-*` headers), then the events.
        XCTAssertEqual(answer.first?["type"] as? String, "codex.rate_limits")
        let limits = try XCTUnwrap(answer.first?["rate_limits"] as? [String: Any])
        XCTAssertNotNil((limits["primary"] as? [String: Any])?["used_percent"] as? Int, "\(limits)")
        XCTAssertNotNil((limits["secondary"] as? [String: Any])?["reset_at"] as? Int, "\(limits)")
        // Then the turn state (what an HTTP answer's `x-codex-turn-state` header says), before `response.created`.
        XCTAssertEqual(answer.dropFirst().first?["type"] as? String, "response.metadata")
        XCTAssertEqual(answer.dropFirst(2).first?["type"] as? String, "response.created")
        XCTAssertEqual(answer.last?["type"] as? String, "response.completed")
        XCTAssertGreaterThan(answer.count, 3, "one frame per SSE event")
        let firstId = try XCTUnwrap((answer.last?["response"] as? [String: Any])?["id"] as? String)

        var second = base
        second["previous_response_id"] = firstId
        second["input"] = [["type": "function_call_output", "call_id": "call_1", "output": "a.txt"]]
        let followUp = try client.create(second)
        let completed = try XCTUnwrap(followUp.last?["response"] as? [String: Any])
        XCTAssertEqual(followUp.last?["type"] as? String, "response.completed")
        XCTAssertNotNil(completed["usage"] as? [String: Any])

        let ws = records.filter { $0.transport == "websocket" }
        XCTAssertEqual(ws.count, 3)
        XCTAssertEqual(Set(ws.compactMap(\.connection)).count, 1)
        XCTAssertEqual(ws.map(\.hasPreviousResponseId), [false, true, true])
        XCTAssertEqual(ws.map(\.inputItemCount), [0, 1, 1])
        XCTAssertEqual(ws.map(\.status), [200, 200, 200])
        XCTAssertEqual(ws.last?.account, "acct1")
        // The chained prompt extends the previous one, so the cache model sees a growing prefix.
        XCTAssertGreaterThan(ws[2].inputBytes, ws[1].inputBytes)
    }

    func testAnchorFromAnotherConnectionIsNotFound() throws {
        try start()
        let a = try connect()
        let done = try a.create(["model": "gpt-test", "input": [Self.user], "stream": true, "store": false])
        let id = try XCTUnwrap((done.last?["response"] as? [String: Any])?["id"] as? String)
        let b = try connect()
        let frames = try b.create(["model": "gpt-test", "previous_response_id": id, "input": [], "stream": true])
        let error = try XCTUnwrap(frames.last)
        XCTAssertEqual(error["type"] as? String, "error")
        XCTAssertEqual(error["status"] as? Int, 400)
        let body = try XCTUnwrap(error["error"] as? [String: Any])
        XCTAssertEqual(body["code"] as? String, "previous_response_not_found")
        XCTAssertEqual(body["param"] as? String, "previous_response_id")
        XCTAssertEqual(body["type"] as? String, "invalid_request_error")
        // The same id still chains on its own connection.
        let again = try a.create(["model": "gpt-test", "previous_response_id": id, "input": [], "stream": true])
        XCTAssertEqual(again.last?["type"] as? String, "response.completed")
    }

    func testCloseAllClosesEverySocket() throws {
        try start()
        let a = try connect()
        let b = try connect()
        XCTAssertTrue(pollUntil { self.simulator.handler.webSockets.openCount == 2 })
        guard case .complete(200, _, let body) = admin("/__sim/websocket/close-all") else {
            return XCTFail("close-all failed")
        }
        XCTAssertEqual(String(decoding: body, as: UTF8.self), #"{"closed":2}"#)
        for client in [a, b] {
            XCTAssertEqual(try client.next(), .event(.close(code: 1001, reason: "closed by simulator admin")))
        }
    }

    /// Every streamed answer registered a close callback that only the connection's close released, so a
    /// long-lived socket kept each answer's `StreamWriter` and plan alive.
    func testAnEndedAnswerReleasesItsCloseCallback() throws {
        try start()
        let client = try connect()
        let id = try XCTUnwrap(client.responseHeaders["x-simulator-connection"])
        let session = try XCTUnwrap(simulator.handler.webSockets.session(id))
        for _ in 0..<5 {
            let answer = try client.create(["model": "gpt-test", "input": "hi", "stream": true])
            XCTAssertEqual(answer.last?["type"] as? String, "response.completed")
        }
        // The fifth may still be ending; the four before it had to end before the next one started.
        XCTAssertLessThanOrEqual(session.closeCallbackCount, 1)
    }

    func testHandshakeRequiresCredentials() throws {
        try start()
        let client = try WebSocketTestClient(port: simulator.port)
        XCTAssertEqual(try client.handshake(path: path, headers: ["Authorization": "Bearer nope"]), 401)
        let other = try WebSocketTestClient(port: simulator.port)
        XCTAssertEqual(try other.handshake(path: "/backend-api/codex/responses/compact", headers: auth1), 426)
    }

    func testFaultsBecomeErrorFramesOrDrops() throws {
        try start()
        let client = try connect()
        _ = admin("/__sim/faults", body: #"{"fault":"usage_limit","count":1}"#)
        let limited = try client.create(["model": "gpt-test", "input": "hi", "stream": true])
        XCTAssertEqual(limited.last?["type"] as? String, "error")
        XCTAssertEqual(limited.last?["status"] as? Int, 429)
        XCTAssertEqual((limited.last?["error"] as? [String: Any])?["type"] as? String, "usage_limit_reached")
        XCTAssertNotNil((limited.last?["headers"] as? [String: Any])?.keys.first { $0.hasPrefix("x-codex-") })

        _ = admin("/__sim/faults", body: #"{"fault":"token_invalidated","count":1}"#)
        let invalid = try client.create(["model": "gpt-test", "input": "hi", "stream": true])
        XCTAssertEqual(invalid.last?["status"] as? Int, 401)
        XCTAssertEqual((invalid.last?["error"] as? [String: Any])?["code"] as? String, "token_invalidated")

        _ = admin("/__sim/faults", body: #"{"fault":"stream_cut","count":1,"after":2}"#)
        client.sendText(#"{"type":"response.create","model":"gpt-test","input":"hi","stream":true}"#)
        XCTAssertNotNil(try client.nextJSON())
        XCTAssertNotNil(try client.nextJSON())
        XCTAssertTrue(try client.waitForEOF(), "stream_cut drops the socket mid-response")
    }

    /// A prewarm takes a fault that answers before the body, as a turn does; one that shapes a stream waits for the
    /// next turn. Until 2026-12-07 a prewarm took no fault at all.
    func testAPrewarmTakesTheFaultsThatAnswerBeforeTheBody() throws {
        try start()
        let client = try connect()
        let prewarm: [String: Any] = ["model": "gpt-test", "input": [Any](), "stream": true, "generate": false]
        _ = admin("/__sim/faults", body: #"{"fault":"usage_limit","count":1,"resets_in_seconds":600}"#)
        let limited = try client.create(prewarm)
        XCTAssertEqual(limited.last?["type"] as? String, "error", "\(limited)")
        XCTAssertEqual(limited.last?["status"] as? Int, 429)
        XCTAssertEqual((limited.last?["error"] as? [String: Any])?["type"] as? String, "usage_limit_reached")

        _ = admin("/__sim/faults", body: #"{"fault":"stream_cut","count":1,"after":2}"#)
        let warm = try client.create(prewarm)
        XCTAssertEqual(warm.map { $0["type"] as? String }, ["response.created", "response.completed"], "not cut")
        client.sendText(#"{"type":"response.create","model":"gpt-test","input":"hi","stream":true}"#)
        XCTAssertNotNil(try client.nextJSON())
        XCTAssertNotNil(try client.nextJSON())
        XCTAssertTrue(try client.waitForEOF(), "the cut waited for the turn")
        let ws = records.filter { $0.transport == "websocket" }
        XCTAssertEqual(ws.map(\.fault), ["usage_limit", nil, "stream_cut"])
        XCTAssertEqual(ws.first?.account, "acct1")
    }

    /// A refused prewarm leaves the connection's last response where it was, as a refused turn does: the next turn
    /// can still continue it.
    func testARefusedPrewarmKeepsTheConnectionsAnchor() throws {
        try start()
        let client = try connect()
        let first = try client.create(["model": "gpt-test", "input": "hi", "stream": true])
        let id = try XCTUnwrap((first.last?["response"] as? [String: Any])?["id"] as? String)
        _ = admin("/__sim/faults", body: #"{"fault":"server_error","count":1}"#)
        let refused = try client.create(["model": "gpt-test", "input": [Any](), "stream": true, "generate": false])
        XCTAssertEqual(refused.last?["status"] as? Int, 500, "\(refused)")
        let next = try client.create([
            "model": "gpt-test", "input": "again", "stream": true, "previous_response_id": id,
        ])
        XCTAssertEqual(next.last?["type"] as? String, "response.completed", "\(next)")
    }

    func testStandingFaultReachesWebSocketFramesUntilCleared() throws {
        try start()
        func status(_ outcome: SimulatorOutcome) -> Int? {
            if case .complete(let status, _, _) = outcome { return status }
            return nil
        }
        XCTAssertEqual(status(admin("/__sim/standing-fault", body: #"{"fault":"bogus"}"#)), 400)
        XCTAssertEqual(status(admin("/__sim/standing-fault", body: "not json")), 400)
        XCTAssertEqual(status(admin("/__sim/standing-fault", body: #"{"fault":"server_error"}"#)), 200)
        let client = try connect()
        for _ in 0..<2 {
            let failed = try client.create(["model": "gpt-test", "input": "hi", "stream": true])
            XCTAssertEqual(failed.last?["status"] as? Int, 500, "every frame, not one")
        }
        XCTAssertEqual(status(admin("/__sim/standing-fault", body: #"{"fault":null}"#)), 200)
        let answer = try client.create(["model": "gpt-test", "input": "hi", "stream": true])
        XCTAssertEqual(answer.last?["type"] as? String, "response.completed")
        XCTAssertEqual(records.filter { $0.transport == "websocket" }.map(\.status), [500, 500, 200])
    }

    /// A handshake fault must be one an upgrade can answer (a status or a reset). One that shapes a stream, or a
    /// token-endpoint one, is refused where it is configured: until 2026-12-08 a queued `silence;stage=handshake` was
    /// taken by the next upgrade and dropped (the 101 went out, nothing was logged), and a `token_server_error` one
    /// sat in the queue for ever, so a test that meant to exercise a silent or failing upgrade passed without it.
    func testAHandshakeFaultAnUpgradeCannotAnswerIsRefused() throws {
        try start()
        func status(_ outcome: SimulatorOutcome) -> Int? {
            if case .complete(let status, _, _) = outcome { return status }
            return nil
        }
        for fault in ["silence", "stream_cut", "slow", "response_failed", "token_server_error"] {
            let body = #"{"fault":"\#(fault)","stage":"handshake"}"#
            XCTAssertEqual(status(admin("/__sim/faults", body: body)), 400, fault)
            XCTAssertEqual(status(admin("/__sim/standing-fault", body: body)), 400, fault)
            let random = #"{"probability":1,"faults":[\#(body)]}"#
            XCTAssertEqual(status(admin("/__sim/random-faults", body: random)), 400, fault)
        }
        XCTAssertEqual(simulator.engine.state.withLock { $0.faults.queue.count }, 0)
        XCTAssertEqual(status(admin("/__sim/faults", body: #"{"fault":"overloaded","stage":"handshake"}"#)), 200)
        let client = try WebSocketTestClient(port: simulator.port)
        XCTAssertEqual(try client.handshake(path: path, headers: auth1), 503, "an answer it can give still applies")
    }

    func testConnectionAgeCap() throws {
        try start { $0.webSocketConnectionLimitSeconds = 0 }
        let client = try connect()
        let frames = try client.create(["model": "gpt-test", "input": "hi", "stream": true])
        XCTAssertEqual(
            (frames.last?["error"] as? [String: Any])?["code"] as? String,
            "websocket_connection_limit_reached"
        )
        XCTAssertEqual(try client.next(), .event(.close(code: 1000, reason: "connection limit reached")))
    }

    /// Each answer's `response.metadata` frame names its own turn state (`ts_sim_` + the response id's suffix), a
    /// prewarm's names none, and a frame's `client_metadata["x-codex-turn-state"]`, where Codex echoes it on the
    /// later requests of the turn, is what the log keeps.
    func testEachAnswerSendsItsTurnStateAndTheLogKeepsTheEchoedOne() throws {
        try start()
        let client = try connect()
        let base: [String: Any] = ["model": "gpt-test", "store": false, "stream": true, "input": [Self.user]]
        var prewarm = base
        prewarm["generate"] = false
        let warm = try client.create(prewarm)
        XCTAssertFalse(warm.contains { $0["type"] as? String == "response.metadata" }, "\(warm)")

        let answer = try client.create(base)
        let metadata = try XCTUnwrap(answer.first { $0["type"] as? String == "response.metadata" }, "\(answer)")
        let id = try XCTUnwrap((answer.last?["response"] as? [String: Any])?["id"] as? String)
        let token = try XCTUnwrap((metadata["headers"] as? [String: Any])?["x-codex-turn-state"] as? String)
        XCTAssertEqual(token, "ts_sim_" + id.dropFirst("resp_sim_".count))
        XCTAssertEqual(metadata.count, 2, "only `type` and `headers`: \(metadata)")

        var echo = base
        echo["previous_response_id"] = id
        echo["client_metadata"] = ["x-codex-turn-state": token, "x-codex-ws-stream-request-start-ms": "1"]
        let next = try client.create(echo)
        let nextToken = (next.first { $0["type"] as? String == "response.metadata" }?["headers"] as? [String: Any])?[
            "x-codex-turn-state"
        ]
        XCTAssertNotNil(nextToken as? String)
        XCTAssertNotEqual(nextToken as? String, token, "every response has its own")
        XCTAssertEqual(records.filter { $0.transport == "websocket" }.map(\.turnState), [nil, nil, token])
    }
}
