import Foundation
import XCTest

/// The proxy's Responses WebSocket end to end (docs/websocket.md): a raw client or the real Codex CLI →
/// Sightline → the simulator's WebSocket mode, with its connection-scoped anchors.
final class WebSocketProxyTests: XCTestCase {
    var stack: SightlineStack!

    override func tearDown() {
        stack?.stop()
    }

    // MARK: Helpers

    func connect(path: String = "/v1/responses") throws -> WebSocketClient {
        let ws = try WebSocketClient(
            port: stack.proxyPort,
            path: path,
            headers: [("Authorization", "Bearer client-FAKE")]
        )
        XCTAssertEqual(ws.status, 101)
        return ws
    }

    static func frame(
        _ anchor: String?,
        _ text: String?,
        generate: Bool = true,
        key: String = "thread-ws-test"
    ) -> String {
        var object: [String: Any] = [
            "type": "response.create", "model": "gpt-5.5", "store": false, "stream": true, "prompt_cache_key": key,
            "instructions": "You are a test.",
            "input": text.map {
                [["type": "message", "role": "user", "content": [["type": "input_text", "text": $0]]]]
            } ?? [],
        ]
        if let anchor { object["previous_response_id"] = anchor }
        if !generate { object["generate"] = false }
        return String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    /// Sends a frame and reads its turn; returns the completed response id (fails the test otherwise).
    @discardableResult
    func simulatorFrames() throws -> [[String: Any]] {
        let r = try HTTPTestClient.get(port: stack.simulatorPort, path: "/__sim/requests")
        let list = try JSONSerialization.jsonObject(with: Data(r.body)) as? [[String: Any]] ?? []
        return list.filter { $0["transport"] as? String == "websocket" && $0["method"] as? String == "WS" }
    }

    func servedTurns() throws -> Int { try simulatorFrames().count }

    func decision(_ d: String, _ outcome: String) throws -> Double {
        try stack.metric(#"sightline_recovery_decisions_total{decision="\#(d)",outcome="\#(outcome)"}"#)
    }

    /// As over HTTP, a failover whose retry the upstream refuses in-stream (`response.failed` before any output,
    /// relayed as it came) gave up: the turn ended with the upstream's failure, not a recovery.
    func testAFailoverWhoseRetryTheUpstreamRefusesInStreamGivesUp() throws {
        stack = try SightlineStack(label: "ws-failover-refused")
        XCTAssertEqual(try simulatorPost("/__sim/faults", #"{"fault":"server_error","count":1}"#).status, 200)
        let refused = #"{"fault":"response_failed","count":1,"code":"context_length_exceeded"}"#
        XCTAssertEqual(try simulatorPost("/__sim/faults", refused).status, 200)
        let ws = try connect()
        try ws.send(Self.frame(nil, "hello"))
        let events = ws.readTurn()
        XCTAssertEqual(events.last?["type"] as? String, "response.failed", "\(events)")
        ws.close()
        XCTAssertEqual(try stack.requests("4xx", transport: "websocket"), 1)
        XCTAssertEqual(try decision("failover", "attempted"), 1)
        XCTAssertEqual(try decision("failover", "succeeded"), 0)
        XCTAssertEqual(try decision("failover", "gave_up"), 1)
    }

    /// A turn answered without going upstream (here a frame that is not `response.create`) is counted but not timed,
    /// as over HTTP: `sightline_request_duration_seconds` times what was forwarded (docs/metrics.md).
    func testATurnAnsweredLocallyIsNotTimed() throws {
        stack = try SightlineStack(label: "ws-local-duration")
        let ws = try connect()
        try ws.send(#"{"type":"response.cancel"}"#)
        XCTAssertEqual(ws.readTurn().last?["type"] as? String, "error")
        try ws.send(Self.frame(nil, "hello"))
        XCTAssertEqual(ws.readTurn().last?["type"] as? String, "response.completed")
        ws.close()
        XCTAssertEqual(try stack.requests("4xx", transport: "websocket"), 1)
        XCTAssertEqual(
            try stack.metric(#"sightline_request_duration_seconds_count{route="responses",transport="websocket"}"#),
            1,
            "only the turn that went upstream"
        )
    }

    /// What an upstream WebSocket sends is received from the upstream API, as an HTTP upstream's body is
    /// (`sightline_upstream_received_bytes_total`, docs/metrics.md), for a WebSocket client's turn and a request the
    /// HTTP bridge carries alike. Left out, the upstream side of the byte panel read 0 for WebSocket traffic while
    /// what was sent to it counted, and "upstream received ≈ downstream sent" no longer held.
    func testWhatAnUpstreamWebSocketSendsCountsAsUpstreamReceivedBytes() throws {
        stack = try SightlineStack(label: "ws-upstream-bytes", extraConfig: ["httpBridge": true])
        let upstreamFrames = #"sightline_websocket_bytes_total{direction="received",side="upstream"}"#
        let ws = try connect()
        try ws.send(Self.frame(nil, "hello"))
        XCTAssertEqual(ws.readTurn().last?["type"] as? String, "response.completed")
        ws.close()
        let turn = try stack.metric(upstreamFrames)
        XCTAssertGreaterThan(turn, 0)
        XCTAssertEqual(try stack.metric("sightline_upstream_received_bytes_total"), turn)
        let bridged = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(
                path: "/v1/responses",
                json: #"{"model":"gpt-5.5","input":"hi","prompt_cache_key":"bridge-bytes"}"#
            )
        )
        XCTAssertEqual(bridged.status, 200, bridged.bodyText)
        XCTAssertEqual(
            try stack.metric(#"sightline_websocket_upstream_turns_total{client="http_bridge",session="new"}"#),
            1,
            "served over the bridge"
        )
        let both = try stack.metric(upstreamFrames)
        XCTAssertGreaterThan(both, turn)
        XCTAssertEqual(try stack.metric("sightline_upstream_received_bytes_total"), both)
    }

    /// A connection upgraded to a WebSocket is one open connection, of transport `websocket`: it leaves the `http`
    /// count when it upgrades (docs/metrics.md). Counted in both, every Codex session showed as an HTTP connection
    /// too, and the sum over transports (the connections the proxy holds) was off by every open session.
    func testAnUpgradedConnectionCountsOnceAsWebSocket() throws {
        stack = try SightlineStack(label: "ws-connections")
        let ws = try connect()
        try ws.send(Self.frame(nil, "hello"))
        XCTAssertEqual(ws.readTurn().last?["type"] as? String, "response.completed")
        XCTAssertEqual(try stack.metric(#"sightline_open_connections{transport="websocket"}"#), 1)
        // The scrape's own connection is the one HTTP connection open (earlier scrapes' close soon after them).
        var http = -1.0
        let settled = poll(timeout: 5) {
            http = (try? self.stack.metric(#"sightline_open_connections{transport="http"}"#)) ?? -1
            return http == 1
        }
        XCTAssertTrue(settled, "http connections while only the WebSocket and the scrape are open: \(http)")
        ws.close()
        func open(_ transport: String) -> Double? {
            try? stack.metric(#"sightline_open_connections{transport="\#(transport)"}"#)
        }
        XCTAssertTrue(poll(timeout: 5) { open("websocket") == 0 && open("http") == 1 })
    }

    /// `sightline_upstream_first_event_seconds` is the time to the first event of the answer, over WebSocket as over
    /// HTTP: the socket's `codex.rate_limits` and `response.metadata` frames, which the backend sends at once as an
    /// HTTP upstream sends its head, are not it (the HTTP bridge already skipped them). Counted, a backend slow to
    /// start answering read as instant on every WebSocket turn, and `SightlineTimeToFirstEventSlow` could not see it.
    func testTimeToFirstEventIsTheAnswersFirstEventNotTheQuotaReport() throws {
        stack = try SightlineStack(label: "ws-first-event")
        let slow = try HTTPTestClient.exchange(
            port: stack.simulatorPort,
            HTTPTestClient.post(path: "/__sim/standing-fault", json: #"{"fault":"slow","ms":400}"#)
        )
        XCTAssertEqual(slow.status, 200, slow.bodyText)
        let ws = try connect()
        try ws.send(Self.frame(nil, "hello"))
        XCTAssertEqual(ws.readTurn().last?["type"] as? String, "response.completed")
        ws.close()
        let bucket = #"sightline_upstream_first_event_seconds_bucket{transport="websocket",le="#
        XCTAssertEqual(try stack.metric(bucket + #""+Inf"}"#), 1, "one first event")
        XCTAssertEqual(try stack.metric(bucket + #""0.32"}"#), 0, "the first event came after the 400 ms delay")
    }

    /// A one-account stack whose queued `fault` meets the first turn: that turn ends with the pool's 429, naming the
    /// reset 900 s out. Returns the open client.
    func firstTurnMeetsAUsageLimit(
        label: String,
        fault: String,
        file: StaticString = #filePath,
        line: UInt = #line
    ) throws -> WebSocketClient {
        stack = try SightlineStack(label: label, accounts: { base in [SightlineStack.demoAccounts(base: base)[0]] })
        XCTAssertEqual(try simulatorPost("/__sim/faults", fault).status, 200, file: file, line: line)
        let before = Date().timeIntervalSince1970
        let ws = try connect()
        try ws.send(Self.frame(nil, "first question"))
        let events = ws.readTurn()
        let error = try XCTUnwrap(events.last?["error"] as? [String: Any], "\(events)", file: file, line: line)
        XCTAssertEqual(error["type"] as? String, "usage_limit_reached", "\(events)", file: file, line: line)
        let reset = try XCTUnwrap(error["resets_at"] as? Double, "\(error)", file: file, line: line)
        XCTAssertEqual(reset, before + 900, accuracy: 5, "\(error)", file: file, line: line)
        return ws
    }

    func simulatorPost(_ path: String, _ json: String = "{}") throws -> ParsedResponse {
        try HTTPTestClient.exchange(port: stack.simulatorPort, HTTPTestClient.post(path: path, json: json))
    }

    // MARK: Tests

    func testIncrementalTurnsShareOneUpstreamConnection() throws {
        stack = try SightlineStack(label: "ws-chain")
        let ws = try connect()
        let r0 = try ws.turn(Self.frame(nil, nil, generate: false))
        let r1 = try ws.turn(Self.frame(r0, "first question"))
        _ = try ws.turn(Self.frame(r1, "second question"))
        let frames = try simulatorFrames()
        XCTAssertEqual(frames.count, 3, "\(frames)")
        XCTAssertEqual(
            Set(frames.compactMap { $0["connection"] as? String }).count,
            1,
            "one upstream connection: \(frames)"
        )
        XCTAssertEqual(frames.map { $0["has_previous_response_id"] as? Bool }, [false, true, true])
        XCTAssertEqual(frames.last?["input_item_count"] as? Int, 1, "only the new item goes upstream")
        XCTAssertEqual(frames.last?["prompt_cache_key"] as? String, "thread-ws-test")
        XCTAssertEqual(
            try stack.metric(#"sightline_requests_total{route="responses",status_class="2xx",transport="websocket"}"#),
            3
        )
        XCTAssertEqual(
            try stack.metric(#"sightline_websocket_upstream_turns_total{client="websocket",session="reused"}"#),
            2
        )
        XCTAssertEqual(try stack.metric(#"sightline_websocket_open_sessions{side="upstream"}"#), 1)
        XCTAssertEqual(
            try stack.metric(#"sightline_websocket_frames_total{direction="sent",side="upstream"}"#),
            3,
            "each turn's frame is counted once written upstream"
        )
        XCTAssertEqual(
            try stack.metric("sightline_upstream_sent_bytes_total"),
            try stack.metric(#"sightline_websocket_bytes_total{direction="sent",side="upstream"}"#),
            "every byte sent upstream went over the socket, counted as written"
        )
        XCTAssertEqual(try stack.upstreamAttempts("success"), 3, "each turn's upstream send is an attempt")
        ws.close()
    }

    func testKilledUpstreamSessionIsReplayedFromTheTranscript() throws {
        stack = try SightlineStack(label: "ws-closeall")
        let ws = try connect()
        let r1 = try ws.turn(Self.frame(nil, "first question"))
        let r2 = try ws.turn(Self.frame(r1, "second question"))
        XCTAssertEqual(try simulatorPost("/__sim/websocket/close-all").status, 200)
        let r3 = try ws.turn(Self.frame(r2, "third question"))
        XCTAssertNotNil(r3)
        let frames = try simulatorFrames()
        XCTAssertEqual(frames.count, 3, "\(frames)")
        let last = try XCTUnwrap(frames.last)
        XCTAssertEqual(last["has_previous_response_id"] as? Bool, false, "the dead anchor is never sent")
        XCTAssertGreaterThanOrEqual(
            last["input_item_count"] as? Int ?? 0,
            5,
            "user, answer, user, answer, user: \(last)"
        )
        XCTAssertNotEqual(last["connection"] as? String, frames[0]["connection"] as? String)
        XCTAssertEqual(try decision("transcript_replay", "attempted"), 1)
        XCTAssertEqual(try decision("transcript_replay", "succeeded"), 1)
        XCTAssertEqual(try decision("masked_continuity_loss", "attempted"), 0)
        ws.close()
    }

    /// A turn whose `input` is a string (one user message, as the Responses API allows) is replayed with it:
    /// until 2026-12-07 a string read as no items, so the replay sent only the answers and lost both questions.
    func testAStringInputIsKeptInTheTranscriptAndTheReplay() throws {
        stack = try SightlineStack(label: "ws-string-input")
        func frame(_ anchor: String?, _ text: String) -> String {
            var object: [String: Any] = [
                "type": "response.create", "model": "gpt-5.5", "stream": true, "prompt_cache_key": "ws-string",
                "input": text,
            ]
            if let anchor { object["previous_response_id"] = anchor }
            return String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        let ws = try connect()
        let r1 = try ws.turn(frame(nil, "first question"))
        XCTAssertEqual(try simulatorPost("/__sim/websocket/close-all").status, 200)
        XCTAssertNotNil(try ws.turn(frame(r1, "second question")))
        let last = try XCTUnwrap(simulatorFrames().last)
        XCTAssertEqual(last["has_previous_response_id"] as? Bool, false, "\(last)")
        XCTAssertEqual(last["input_item_count"] as? Int, 3, "question, answer, question: \(last)")
        XCTAssertEqual(try decision("transcript_replay", "succeeded"), 1)
        ws.close()
    }

    func testUnknownAnchorGetsTheSanitisedResendSignal() throws {
        stack = try SightlineStack(label: "ws-loss")
        let ws = try connect(path: "/backend-api/codex/responses")
        try ws.send(Self.frame("resp_FAKE0000000000000000000001", "continue please"))
        guard case .text(let text) = ws.next() else { return XCTFail("no frame") }
        XCTAssertTrue(text.contains(#""code":"previous_response_not_found""#), text)
        XCTAssertTrue(text.contains(#""status":400"#), text)
        XCTAssertFalse(text.contains("resp_"), text)
        XCTAssertEqual(try simulatorFrames().count, 0, "nothing goes upstream")
        XCTAssertEqual(try decision("masked_continuity_loss", "attempted"), 1)
        XCTAssertEqual(try decision("masked_continuity_loss", "gave_up"), 1)
        // The session goes on: a full resend is served.
        try ws.turn(Self.frame(nil, "full history again"))
        ws.close()
    }

    /// A prewarm refused for a usage limit (as the backend refuses one for an account it would refuse a turn) is
    /// warmed on another account, and the limited one cools. The simulator took no fault on a prewarm until
    /// 2026-12-07, so this path had no test.
    func testARefusedPrewarmMovesToAnotherAccount() throws {
        stack = try SightlineStack(label: "ws-prewarm-limit")
        XCTAssertEqual(
            try simulatorPost("/__sim/faults", #"{"fault":"usage_limit","resets_in_seconds":600}"#).status,
            200
        )
        let ws = try connect()
        let warm = try ws.turn(Self.frame(nil, nil, generate: false))
        XCTAssertNotNil(try ws.turn(Self.frame(warm, "first question")), "the warm anchor carries the turn")
        let frames = try simulatorFrames()
        XCTAssertEqual(frames.map { $0["status"] as? Int }, [429, 200, 200], "\(frames)")
        XCTAssertEqual(frames.first?["fault"] as? String, "usage_limit")
        let limited = try XCTUnwrap(frames.first?["account"] as? String)
        XCTAssertNotEqual(frames[1]["account"] as? String, limited, "warmed elsewhere")
        XCTAssertEqual(frames[2]["account"] as? String, frames[1]["account"] as? String, "the turn stays there")
        XCTAssertEqual(try stack.coolingAccounts(), 1, "the limited account cools")
        XCTAssertEqual(try stack.upstreamAttempts("http_429"), 1)
        ws.close()
    }

    func testPinResetMovesTheSessionWithoutTheStaleAnchor() throws {
        stack = try SightlineStack(label: "ws-pin")
        let ws = try connect()
        let r1 = try ws.turn(Self.frame(nil, "first question"))
        let first = try XCTUnwrap(simulatorFrames().first?["account"] as? String)
        let fault = #"{"account":"\#(first)","fault":"usage_limit","resets_in_seconds":600}"#
        XCTAssertEqual(try simulatorPost("/__sim/faults", fault).status, 200)
        try ws.turn(Self.frame(r1, "second question"))
        let frames = try simulatorFrames()
        XCTAssertEqual(frames.count, 3, "first, the refused one, the replay: \(frames)")
        let last = try XCTUnwrap(frames.last)
        XCTAssertNotEqual(last["account"] as? String, first, "\(frames)")
        XCTAssertEqual(last["has_previous_response_id"] as? Bool, false, "the new account never sees the old anchor")
        XCTAssertGreaterThanOrEqual(last["input_item_count"] as? Int ?? 0, 3)
        XCTAssertEqual(try decision("pin_reset", "attempted"), 1)
        XCTAssertEqual(try decision("pin_reset", "succeeded"), 1)
        XCTAssertEqual(try decision("transcript_replay", "succeeded"), 1)
        let metrics = try HTTPTestClient.get(port: stack.proxyPort, path: "/metrics").bodyText
        let cooling = metrics.split(separator: "\n").filter {
            $0.hasPrefix("sightline_account_state{") && $0.contains(#"state="cooling""#) && $0.hasSuffix(" 1")
        }
        XCTAssertEqual(cooling.count, 1, "the limited account cools")
        // Every upstream send counts as an attempt, as over HTTP: two answered, one refused with 429.
        XCTAssertEqual(try stack.upstreamAttempts("success"), 2)
        XCTAssertEqual(try stack.upstreamAttempts("http_429"), 1)
        ws.close()
    }

    /// An upstream that refuses the upgrade with a 429 says in that answer how long: the body's `resets_at` with
    /// the quota headers, or `retry-after`. The account cools that long, as the same answer over HTTP makes it.
    /// The proxy used to drop the refusal's headers and body (CPA #5270's failure: a handshake 429 that lost its
    /// reset), so each account came back after the 30 s of a bare 429.
    func testAHandshakeRefusedWith429CoolsAsLongAsItsAnswerSays() throws {
        stack = try SightlineStack(label: "ws-handshake-429")
        let limited = #"{"account":"acct1","fault":"usage_limit","resets_in_seconds":900,"stage":"handshake"}"#
        let throttled = #"{"account":"acct2","fault":"rate_limit_no_code","retry_after":"600","stage":"handshake"}"#
        XCTAssertEqual(try simulatorPost("/__sim/faults", limited).status, 200)
        XCTAssertEqual(try simulatorPost("/__sim/faults", throttled).status, 200)
        let before = Date().timeIntervalSince1970
        let ws = try connect()
        try ws.turn(Self.frame(nil, "first question"))
        XCTAssertEqual(try simulatorFrames().map { $0["account"] as? String }, ["acct3"], "served by the third")
        let refused = try HTTPTestClient.get(port: stack.simulatorPort, path: "/__sim/requests").bodyText
        XCTAssertEqual(refused.components(separatedBy: #""status":429"#).count - 1, 2, refused)
        XCTAssertEqual(try decision("pin_reset", "attempted"), 2)
        XCTAssertEqual(try decision("pin_reset", "succeeded"), 2)
        // One decision per refusal: the move is the pin reset, not a failover besides (it was also counted one).
        XCTAssertEqual(try decision("failover", "attempted"), 0)
        let until = try stack.cooldownsUntil()
        XCTAssertEqual(until.count, 3, "\(until)")
        for (got, want) in zip(until, [0, before + 600, before + 900]) {
            XCTAssertEqual(got, want, accuracy: 5, "\(until)")
        }
        ws.close()
    }

    /// One account, and its usage limit arrives as an error frame on the turn's only attempt. The account cools
    /// until the frame's reset, as over HTTP: the client's 429 names that reset, and the next turn is answered at
    /// once without a send into the same limit. Until 2026-12-07 only a pin reset or failover cooled an account
    /// over WebSocket, so here the account stayed `active`, the 429 had no reset time, and every turn hit it again.
    func testAUsageLimitOnTheLastAttemptCoolsTheAccount() throws {
        let ws = try firstTurnMeetsAUsageLimit(
            label: "ws-last-429",
            fault: #"{"account":"acct1","fault":"usage_limit","resets_in_seconds":900}"#
        )
        try ws.send(Self.frame(nil, "second question"))
        XCTAssertEqual((ws.readTurn().last?["error"] as? [String: Any])?["type"] as? String, "usage_limit_reached")
        XCTAssertEqual(try servedTurns(), 1, "the second turn never reached the limited account")
        XCTAssertEqual(try stack.metric("sightline_pool_available_accounts"), 0)
        ws.close()
    }

    /// One account, and its usage limit refuses the upgrade itself: the client gets the pool's 429 with the reset,
    /// as for an error frame on the last attempt, not a 502 that says "retry" into the same limit.
    func testAUsageLimitRefusingTheLastUpgradeIsA429WithItsReset() throws {
        let ws = try firstTurnMeetsAUsageLimit(
            label: "ws-handshake-last-429",
            fault: #"{"account":"acct1","fault":"usage_limit","resets_in_seconds":900,"stage":"handshake"}"#
        )
        XCTAssertEqual(try stack.requests("4xx", transport: "websocket"), 1)
        ws.close()
    }

    /// The session's account hits its usage limit on another channel (here an HTTP request of the same
    /// conversation). The session's next turn does not go into that limit on its open socket: it is replayed
    /// from the transcript on another account, as an HTTP request would be. The frames do not ask for reasoning
    /// content, so the first answer's reasoning item has none: the replay leaves it out, as the new socket has no
    /// anchor to find it by (until 2026-12-07 it went along, and the upstream answered 404).
    func testATurnLeavesASocketWhoseAccountLeftRotation() throws {
        stack = try SightlineStack(label: "ws-owner-cooling", simulator: ["reasoningItems": true])
        let ws = try connect()
        let r1 = try ws.turn(Self.frame(nil, "first question", key: "conv-cooling"))
        let first = try XCTUnwrap(simulatorFrames().first?["account"] as? String)
        let fault = #"{"account":"\#(first)","fault":"usage_limit","resets_in_seconds":900}"#
        XCTAssertEqual(try simulatorPost("/__sim/faults", fault).status, 200)
        let limited = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(
                path: "/backend-api/codex/responses",
                json: #"{"model":"gpt-5.5","input":"over http","prompt_cache_key":"conv-cooling","stream":true}"#
            )
        )
        XCTAssertEqual(limited.status, 200, "moved to another account: \(limited.bodyText)")
        let requests = try stack.simulatorLog()
        XCTAssertEqual(
            requests.first { $0["status"] as? Int == 429 }?["account"] as? String,
            first,
            "the conversation's account took the limit: \(requests)"
        )
        try ws.turn(Self.frame(r1, "second question", key: "conv-cooling"))
        let frames = try simulatorFrames()
        XCTAssertEqual(frames.count, 2, "\(frames)")
        XCTAssertNotEqual(frames.last?["account"] as? String, first, "\(frames)")
        XCTAssertEqual(frames.last?["has_previous_response_id"] as? Bool, false, "replayed, not anchored")
        XCTAssertEqual(frames.last?["status"] as? Int, 200, "\(frames)")
        XCTAssertEqual(frames.last?["input_item_count"] as? Int, 3, "question, answer, question: \(frames)")
        XCTAssertEqual(try decision("transcript_replay", "succeeded"), 1)
        ws.close()
    }

    /// A session replayed onto another account (its own left rotation) sends a transcript holding reasoning the
    /// first account sealed; the new account refuses it (`invalid_encrypted_content`), and the turn is sent once
    /// more without those items, on the same socket.
    func testAReplayCarryingSealedReasoningIsStrippedOnce() throws {
        stack = try SightlineStack(label: "ws-sealed", simulator: ["reasoningItems": true])
        let ws = try connect()
        func frame(_ anchor: String?, _ text: String) throws -> String {
            var object = try XCTUnwrap(
                try JSONSerialization.jsonObject(with: Data(Self.frame(anchor, text, key: "conv-sealed").utf8))
                    as? [String: Any]
            )
            object["include"] = ["reasoning.encrypted_content"]
            return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        let r1 = try ws.turn(try frame(nil, "first question"))
        let first = try XCTUnwrap(simulatorFrames().first?["account"] as? String)
        try stack.injectFault(account: first, "usage_limit", params: ["resets_in_seconds": 900])
        let limited = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(
                path: "/backend-api/codex/responses",
                json: #"{"model":"gpt-5.5","input":"over http","prompt_cache_key":"conv-sealed","stream":true}"#
            )
        )
        XCTAssertEqual(limited.status, 200, limited.bodyText)
        try ws.turn(try frame(r1, "second question"))
        let frames = try simulatorFrames()
        XCTAssertEqual(frames.map { $0["status"] as? Int }, [200, 400, 200], "\(frames)")
        XCTAssertEqual(frames.last?["account"] as? String, frames.dropLast().last?["account"] as? String)
        XCTAssertNotEqual(frames.last?["account"] as? String, first)
        XCTAssertEqual(try decision("reasoning_strip", "attempted"), 1)
        XCTAssertEqual(try decision("reasoning_strip", "succeeded"), 1)
        ws.close()
    }

    /// The upstream's `codex.rate_limits` frame of each turn updates the account's quota, as the headers of an
    /// HTTP answer do: the gauges and the selector see WebSocket traffic. Until 2026-12-07 only the handshake's
    /// headers did, so a session's quota stood still for up to an hour.
    func testRateLimitFramesUpdateTheAccountsQuota() throws {
        stack = try SightlineStack(
            label: "ws-rate-limits",
            simulator: ["primaryWindowTokenBudget": 2000],  // a few turns move the used percent
            accounts: { base in [SightlineStack.demoAccounts(base: base)[0]] }
        )
        let ws = try connect()
        let opened = try stack.metricSum(
            prefix: "sightline_account_quota_used_ratio{",
            containing: #"window="primary""#
        )
        for i in 0..<3 { try ws.turn(Self.frame(nil, String(repeating: "question \(i) ", count: 40))) }
        let accounts =
            try JSONSerialization.jsonObject(
                with: Data(try HTTPTestClient.get(port: stack.simulatorPort, path: "/__sim/accounts").body)
            ) as? [[String: Any]] ?? []
        let used = try XCTUnwrap(accounts.first { $0["name"] as? String == "acct1" }?["primary_used_percent"] as? Int)
        XCTAssertGreaterThan(used, 0)
        let ratio = try stack.metricSum(prefix: "sightline_account_quota_used_ratio{", containing: #"window="primary""#)
        XCTAssertGreaterThan(ratio, opened, "the gauge moved with the turns")
        // The last report came before the last turn's usage: within that one turn of the simulator's own count.
        XCTAssertEqual(ratio * 100, Double(used), accuracy: 40)
        ws.close()
    }

    /// An upstream error frame after output reached the client cannot be recovered: the client gets it, the
    /// turn ends, and the log's `error.type` is the error's class, not the upstream's own code (a closed set).
    func testAnErrorFrameAfterOutputEndsTheTurnWithItsClass() throws {
        stack = try SightlineStack(label: "ws-late-error")
        let ws = try connect()
        let fault = #"{"fault":"response_failed","after":5,"code":"odd_code_7"}"#
        XCTAssertEqual(try simulatorPost("/__sim/faults", fault).status, 200)
        try ws.send(Self.frame(nil, "first question"))
        let events = ws.readTurn()
        XCTAssertTrue(events.contains { $0["type"] as? String == "response.output_text.delta" }, "\(events)")
        XCTAssertEqual(events.last?["type"] as? String, "error", "\(events)")
        XCTAssertEqual(try decision("failover", "attempted"), 0, "nothing is retried once output went out")
        let finished = try XCTUnwrap(stack.awaitLogRecords(event: "sightline.request", count: 1).last)
        let attributes = try XCTUnwrap(finished["attributes"] as? [String: Any])
        XCTAssertEqual(attributes["sightline.transport"] as? String, "websocket")
        XCTAssertEqual(attributes["error.type"] as? String, "server_error")
        XCTAssertEqual(attributes["http.response.status_code"] as? Int, 500)
        XCTAssertEqual(try servedTurns(), 1)
        XCTAssertEqual(try stack.upstreamAttempts("http_5xx"), 1, "the error frame's status, as over HTTP")
        // The upstream's own response.failed after output: relayed, and logged by its class too.
        let failed = #"{"fault":"response_failed","after":5,"mode":"failed","code":"context_length_exceeded"}"#
        XCTAssertEqual(try simulatorPost("/__sim/faults", failed).status, 200)
        try ws.send(Self.frame(nil, "second question"))
        XCTAssertEqual(ws.readTurn().last?["type"] as? String, "response.failed")
        let last = try XCTUnwrap(stack.awaitLogRecords(event: "sightline.request", count: 2).last)
        XCTAssertEqual((last["attributes"] as? [String: Any])?["error.type"] as? String, "context_length_exceeded")
        XCTAssertEqual(try stack.upstreamAttempts("http_4xx"), 1, "a refused request, by class")
        XCTAssertEqual(try stack.upstreamAttempts("success"), 0)
        // Neither turn counts as a success: the error frame by its status, the response.failed by the status a
        // non-streaming client gets for its code (until 2026-12-07 the second counted as 2xx).
        XCTAssertEqual((last["attributes"] as? [String: Any])?["http.response.status_code"] as? Int, 400)
        XCTAssertEqual(try stack.requests("5xx", transport: "websocket"), 1)
        XCTAssertEqual(try stack.requests("4xx", transport: "websocket"), 1)
        XCTAssertEqual(try stack.requests("2xx", transport: "websocket"), 0)
        ws.close()
    }

    /// The upstream's own `response.failed` before any output: recovered as an error frame is, and as HTTP and the
    /// bridge recover it: another account serves the turn. Until 2026-12-07 it was relayed as it came.
    func testAResponseFailedBeforeOutputFailsOver() throws {
        stack = try SightlineStack(label: "ws-failed-early")
        XCTAssertEqual(try simulatorPost("/__sim/faults", #"{"fault":"response_failed"}"#).status, 200)
        let ws = try connect()
        let events = try {
            try ws.send(Self.frame(nil, "first question")); return ws.readTurn()
        }()
        XCTAssertEqual(events.last?["type"] as? String, "response.completed", "\(events)")
        XCTAssertFalse(events.contains { $0["type"] as? String == "response.failed" }, "\(events)")
        XCTAssertEqual(try decision("failover", "attempted"), 1)
        XCTAssertEqual(try decision("failover", "succeeded"), 1)
        XCTAssertEqual(try stack.requests("2xx", transport: "websocket"), 1)
        ws.close()
    }

    /// A lost anchor reported as an in-stream `response.failed` (`previous_response_not_found`): the turn is
    /// replayed from the transcript, and the client never sees the raw code or the `resp_` id in its message.
    func testAnInStreamLostAnchorIsReplayedFromTheTranscript() throws {
        stack = try SightlineStack(label: "ws-failed-anchor")
        let ws = try connect()
        let r1 = try XCTUnwrap(try ws.turn(Self.frame(nil, "first question")))
        let fault = #"{"fault":"previous_response_not_found_in_stream","id":"\#(r1)"}"#
        XCTAssertEqual(try simulatorPost("/__sim/faults", fault).status, 200)
        try ws.send(Self.frame(r1, "second question"))
        let events = ws.readTurn()
        XCTAssertEqual(events.last?["type"] as? String, "response.completed", "\(events)")
        let text = String(describing: events)
        XCTAssertFalse(text.contains("previous_response_not_found"), text)
        XCTAssertFalse(text.contains(r1), "the lost anchor's id: \(text)")
        XCTAssertEqual(try decision("transcript_replay", "attempted"), 1)
        XCTAssertEqual(try decision("transcript_replay", "succeeded"), 1)
        XCTAssertEqual(try stack.cooldownsUntil().filter { $0 > 0 }, [], "a lost anchor says nothing about the account")
        ws.close()
    }

    /// A `response.failed` whose code names no status (here one the proxy does not know) is the upstream's answer
    /// to the request, decided as over HTTP: relayed, not failed over as a 5xx, and no account cooled.
    func testAResponseFailedWithAnUnknownCodeIsRelayed() throws {
        stack = try SightlineStack(label: "ws-failed-unknown")
        XCTAssertEqual(
            try simulatorPost("/__sim/faults", #"{"fault":"response_failed","code":"invalid_image"}"#).status,
            200
        )
        let ws = try connect()
        try ws.send(Self.frame(nil, "first question"))
        let events = ws.readTurn()
        XCTAssertEqual(events.last?["type"] as? String, "response.failed", "\(events)")
        XCTAssertEqual(try decision("failover", "attempted"), 0)
        XCTAssertEqual(try stack.cooldownsUntil().filter { $0 > 0 }, [])
        ws.close()
    }

    /// A usage limit reported as `response.failed` on the last attempt names its reset in the error: the account
    /// cools until then, and the client's 429 says so (it read the bare 30 s backoff).
    func testAResponseFailedUsageLimitCoolsUntilItsReset() throws {
        let ws = try firstTurnMeetsAUsageLimit(
            label: "ws-failed-limit",
            fault: #"{"fault":"response_failed","code":"usage_limit_reached","resets_in_seconds":900}"#
        )
        ws.close()
    }

    /// An upstream failure after output reached the client, as an error frame (the simulator's carries status 500)
    /// or as the upstream's own `response.failed` with a usage limit: relayed (nothing is retried once output went
    /// out), and its account cools as the same answer over HTTP and the bridge makes it. Until 2026-12-08 neither
    /// cooled anything over a WebSocket, so every later turn that picked the account paid a refused attempt first.
    func testAFailureAfterOutputCoolsTheAccount() throws {
        let cases = [
            ("error", #"{"fault":"response_failed","after":5,"code":"server_error"}"#),
            ("response.failed", #"{"fault":"response_failed","after":5,"mode":"failed","code":"usage_limit_reached"}"#),
        ]
        for (last, fault) in cases {
            stack?.stop()
            stack = try SightlineStack(label: "ws-late-failure")
            let ws = try connect()
            defer { ws.close() }
            XCTAssertEqual(try simulatorPost("/__sim/faults", fault).status, 200)
            try ws.send(Self.frame(nil, "question"))
            let events = ws.readTurn()
            XCTAssertTrue(events.contains { $0["type"] as? String == "response.output_text.delta" }, "\(events)")
            XCTAssertEqual(events.last?["type"] as? String, last, "\(events)")
            XCTAssertEqual(try stack.coolingAccounts(), 1, "the failing account cools (\(last))")
            XCTAssertEqual(try decision("failover", "attempted"), 0, "nothing is retried once output went out")
        }
    }

    /// A refusal of the proxy's own account after output reached the client (an error frame with 401, 403 or 429)
    /// reaches the client as the retryable 502 `stream_incomplete`, never as the refusal: Codex would read a 401 as
    /// its own login failing and a usage limit as the end of its turn while other accounts have room. Until
    /// 2026-12-08 the frame went to the client as it came.
    func testARefusalOfTheProxysAccountAfterOutputReachesTheClientAs502() throws {
        stack = try SightlineStack(label: "ws-late-refusal")
        let ws = try connect()
        defer { ws.close() }
        for (status, code) in [(401, "token_expired"), (403, "account_deactivated"), (429, "usage_limit_reached")] {
            let fault = #"{"fault":"response_failed","after":5,"status":\#(status),"code":"\#(code)"}"#
            XCTAssertEqual(try simulatorPost("/__sim/faults", fault).status, 200)
            try ws.send(Self.frame(nil, "question \(status)"))
            let events = ws.readTurn()
            XCTAssertTrue(events.contains { $0["type"] as? String == "response.output_text.delta" }, "\(events)")
            let last = try XCTUnwrap(events.last)
            XCTAssertEqual(last["type"] as? String, "error", "\(last)")
            XCTAssertEqual(last["status"] as? Int, 502, "\(status): \(last)")
            XCTAssertEqual((last["error"] as? [String: Any])?["code"] as? String, "stream_incomplete", "\(last)")
        }
        XCTAssertEqual(try stack.requests("5xx", transport: "websocket"), 3, "each turn counts as the 502 it got")
    }

    /// An expired token refuses a new socket's upgrade with a 401: the token is refreshed and the socket opened
    /// again on the same account. Until 2026-12-07 the refusal was a pin reset, so a one-account pool answered
    /// every new session's turn with a 502 and never refreshed.
    func testAnUpgradeRefusedWith401RefreshesTheToken() throws {
        stack = try SightlineStack(
            label: "ws-upgrade-401",
            accounts: { base in [SightlineStack.demoAccounts(base: base)[0]] }
        )
        XCTAssertEqual(try simulatorPost("/__sim/accounts/acct1/invalidate-access").status, 200)
        let ws = try connect()
        try ws.turn(Self.frame(nil, "first question"))
        XCTAssertEqual(try decision("token_refresh", "attempted"), 1)
        XCTAssertEqual(try decision("token_refresh", "succeeded"), 1)
        XCTAssertEqual(try decision("pin_reset", "attempted"), 0)
        let refused = try HTTPTestClient.get(port: stack.simulatorPort, path: "/__sim/requests").bodyText
        XCTAssertEqual(refused.components(separatedBy: #""status":401"#).count - 1, 1, refused)
        ws.close()
    }

    /// A 401 that a refresh does not cure, with no account left: the client gets a retryable 502, never the
    /// upstream's 401 about the proxy's own account (its own credentials are fine), as over HTTP. Until
    /// 2026-12-07 the frame was relayed as it came.
    func testARefusalOfTheProxysOwnAccountIsNeverRelayedAs401() throws {
        stack = try SightlineStack(
            label: "ws-401-exhausted",
            accounts: { base in [SightlineStack.demoAccounts(base: base)[0]] }
        )
        try stack.injectFault(account: nil, "unauthorized", count: 2)
        let ws = try connect()
        try ws.send(Self.frame(nil, "first question"))
        let events = ws.readTurn()
        let last = try XCTUnwrap(events.last, "\(events)")
        XCTAssertEqual(last["status"] as? Int, 502, "\(events)")
        XCTAssertEqual((last["error"] as? [String: Any])?["code"] as? String, "upstream_unavailable", "\(events)")
        XCTAssertEqual(try decision("token_refresh", "attempted"), 1)
        ws.close()
    }

    /// A 401 whose refresh failed for a passing reason (the token endpoint's 5xx) cools its account 5 min, as over
    /// HTTP, and the turn moves on. Until 2026-12-07 the account stayed in rotation and the next turn paid the same
    /// refusal first.
    func testA401WhoseRefreshFailedCoolsTheAccount() throws {
        stack = try SightlineStack(label: "ws-refresh-failed")
        try stack.injectFault(account: nil, "token_invalidated")
        try stack.injectFault(account: nil, "token_server_error")
        let before = Date().timeIntervalSince1970
        let ws = try connect()
        XCTAssertNotNil(try ws.turn(Self.frame(nil, "first question")))
        XCTAssertEqual(try decision("token_refresh", "gave_up"), 1)
        let frames = try simulatorFrames()
        XCTAssertEqual(frames.map { $0["status"] as? Int }, [401, 200], "\(frames)")
        XCTAssertNotEqual(frames.first?["account"] as? String, frames.last?["account"] as? String)
        let until = try stack.cooldownsUntil().filter { $0 > 0 }
        XCTAssertEqual(until.count, 1, "\(until)")
        XCTAssertEqual(until.first ?? 0, before + 300, accuracy: 5)
        ws.close()
    }

    /// A refresh that fails for good takes its account out even when the client left while it ran. Until
    /// 2026-12-07 the ended turn returned first, the pool never heard of it, and the dead account stayed in rotation.
    func testATerminalRefreshTakesTheAccountOutAfterTheClientLeft() throws {
        stack = try SightlineStack(
            label: "ws-refresh-left",
            simulator: ["tokenLatencyMs": 3000],
            accounts: { base in [SightlineStack.demoAccounts(base: base)[0]] }
        )
        XCTAssertEqual(try simulatorPost("/__sim/accounts/acct1/invalidate-refresh").status, 200)
        XCTAssertEqual(try simulatorPost("/__sim/accounts/acct1/invalidate-access").status, 200)
        let ws = try connect()
        try ws.send(Self.frame(nil, "question"))
        XCTAssertTrue(poll(timeout: 10) { (try? self.decision("token_refresh", "attempted")) == 1 })
        ws.close()
        XCTAssertTrue(
            poll(timeout: 15) {
                (try? self.stack.metricSum(
                    prefix: "sightline_account_state{",
                    containing: #"state="reauth_required""#
                )) == 1
            },
            ((try? stack.scrape()) ?? "").split(separator: "\n").filter { $0.hasPrefix("sightline_account_state{") }
                .joined(separator: "\n")
        )
    }

    func testInvalidatedTokenIsRefreshedAndTheTurnReplayedOnTheSameAccount() throws {
        stack = try SightlineStack(label: "ws-refresh")
        let ws = try connect()
        let r1 = try ws.turn(Self.frame(nil, "first question"))
        let first = try XCTUnwrap(simulatorFrames().first?["account"] as? String)
        XCTAssertEqual(try simulatorPost("/__sim/accounts/\(first)/invalidate-access").status, 200)
        try ws.turn(Self.frame(r1, "second question"))
        let frames = try simulatorFrames()
        let last = try XCTUnwrap(frames.last)
        XCTAssertEqual(last["account"] as? String, first, "\(frames)")
        XCTAssertEqual(last["status"] as? Int, 200)
        XCTAssertEqual(last["has_previous_response_id"] as? Bool, false, "a new socket cannot resolve the old anchor")
        XCTAssertEqual(try decision("token_refresh", "attempted"), 1)
        XCTAssertEqual(try decision("token_refresh", "succeeded"), 1)
        XCTAssertEqual(try decision("pin_reset", "attempted"), 0)
        ws.close()
    }
}

/// The real Codex CLI over WebSocket (`supports_websockets = true`) through the proxy.
final class WebSocketCodexTests: XCTestCase {
    func testCodexRunsAToolTurnOverWebSocketOnOneUpstreamConnection() throws {
        let stack = try SightlineStack(label: "ws-codex")
        defer { stack.stop() }
        try RealClients.codexToolTurn(stack, webSockets: true, marker: "ws-ok")

        let r = try HTTPTestClient.get(port: stack.simulatorPort, path: "/__sim/requests")
        let all = try JSONSerialization.jsonObject(with: Data(r.body)) as? [[String: Any]] ?? []
        let frames = all.filter { $0["transport"] as? String == "websocket" && $0["method"] as? String == "WS" }
        XCTAssertGreaterThanOrEqual(frames.count, 2, "\(all)")
        XCTAssertEqual(
            Set(frames.compactMap { $0["connection"] as? String }).count,
            1,
            "one upstream connection: \(frames)"
        )
        XCTAssertEqual(
            frames.dropFirst().filter { $0["has_previous_response_id"] as? Bool != true }.count,
            0,
            "follow-ups are incremental: \(frames)"
        )
        XCTAssertEqual(all.filter { $0["method"] as? String == "POST" }.count, 0, "no HTTP fallback: \(all)")
        let metrics = try HTTPTestClient.get(port: stack.proxyPort, path: "/metrics").bodyText
        XCTAssertTrue(
            metrics.contains(#"sightline_requests_total{route="responses",status_class="2xx",transport="websocket"} "#),
            metrics
        )
    }
}

/// The HTTP bridge (on by default for ChatGPT accounts): an OpenAI SDK conversation over HTTP rides one
/// pooled upstream WebSocket and goes out incrementally.
final class HTTPBridgeTests: XCTestCase {
    func testSDKConversationGoesOutIncrementallyWithGrowingCache() throws {
        let stack = try SightlineStack(label: "bridge", extraConfig: ["httpBridge": true])
        defer { stack.stop() }
        let out = try RealClients.sdkScript(stack, "openai_sdk_bridge.py")
        let cached = try XCTUnwrap(out["cached"] as? [Int])
        XCTAssertEqual(cached.count, 3)
        XCTAssertGreaterThan(cached[1], cached[0], "\(cached)")
        XCTAssertGreaterThan(cached[2], cached[1], "\(cached)")
        XCTAssertEqual((out["texts"] as? [String])?.filter(\.isEmpty).count, 0, "\(out)")

        let r = try HTTPTestClient.get(port: stack.simulatorPort, path: "/__sim/requests")
        let all = try JSONSerialization.jsonObject(with: Data(r.body)) as? [[String: Any]] ?? []
        let frames = all.filter { $0["transport"] as? String == "websocket" && $0["method"] as? String == "WS" }
        XCTAssertEqual(frames.count, 3, "\(all)")
        XCTAssertEqual(Set(frames.compactMap { $0["connection"] as? String }).count, 1, "\(frames)")
        XCTAssertEqual(frames.map { $0["has_previous_response_id"] as? Bool }, [false, true, true], "\(frames)")
        XCTAssertEqual(frames.map { $0["input_item_count"] as? Int }, [1, 1, 1], "only new items go upstream")
        let metrics = try HTTPTestClient.get(port: stack.proxyPort, path: "/metrics").bodyText
        XCTAssertTrue(
            metrics.contains(#"sightline_websocket_upstream_turns_total{client="http_bridge",session="reused"} 2"#),
            metrics
        )
        XCTAssertTrue(
            metrics.contains(#"sightline_requests_total{route="responses",status_class="2xx",transport="http"} 3"#)
        )
        XCTAssertEqual(try stack.upstreamAttempts("success"), 3, "each bridged send is an upstream attempt")
    }
}

/// Strip-retry: the bridge's own anchor (it sent only the new items with `previous_response_id`) is lost
/// upstream; the request still holds the client's full history, so it is retried once without the anchor
/// and the client never notices.
final class BridgeStripRetryTests: XCTestCase {
    /// The upstream's own `response.failed` after output, through the bridge: relayed to the streaming client
    /// and logged by its class, not as a success.
    func testAResponseFailedAfterOutputIsLoggedByItsClass() throws {
        let stack = try SightlineStack(label: "bridge-failed", extraConfig: ["httpBridge": true])
        defer { stack.stop() }
        let fault = #"{"fault":"response_failed","after":5,"mode":"failed","code":"context_length_exceeded"}"#
        let queued = try HTTPTestClient.exchange(
            port: stack.simulatorPort,
            HTTPTestClient.post(path: "/__sim/faults", json: fault)
        )
        XCTAssertEqual(queued.status, 200)
        let r = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(
                path: "/v1/responses",
                json: #"{"model":"gpt-5.5","input":"hi","stream":true,"prompt_cache_key":"bridge-failed-1"}"#
            )
        )
        XCTAssertEqual(r.status, 200)
        XCTAssertTrue(r.bodyText.contains("event: response.failed"), r.bodyText)
        XCTAssertTrue(r.bodyText.contains("response.output_text.delta"), "after output: \(r.bodyText)")
        let last = try XCTUnwrap(stack.awaitLogRecords(event: "sightline.request", count: 1).last)
        let attributes = try XCTUnwrap(last["attributes"] as? [String: Any])
        XCTAssertEqual(attributes["sightline.bridge"] as? Bool, true, "\(attributes)")
        XCTAssertEqual(attributes["error.type"] as? String, "context_length_exceeded")
        XCTAssertEqual(try stack.upstreamAttempts("http_4xx"), 1, "the bridged send counts, by class")
        XCTAssertEqual(try stack.upstreamAttempts("success"), 0)
        XCTAssertEqual(try stack.requests("4xx"), 1, "the request counts as the 400 it would be without streaming")
        XCTAssertEqual(try stack.requests("2xx"), 0)
        // The failed session leaves the pool, and its socket with it: nothing could reach or close it after.
        let open = #"sightline_websocket_open_sessions{side="upstream"}"#
        XCTAssertTrue(poll(timeout: 5) { (try? stack.metric(open)) == 0 }, "\((try? stack.metric(open)) ?? -1)")
    }

    /// The bridge's upgrade refused with a 429: the account cools until the refusal's reset, and the request is
    /// served over HTTP by another account (a pin reset), not sent into the same limit over HTTP.
    func testABridgeUpgradeRefusedWith429CoolsTheAccountAndMovesOn() throws {
        let stack = try SightlineStack(label: "bridge-refused", extraConfig: ["httpBridge": true])
        defer { stack.stop() }
        try stack.injectFault(account: nil, "usage_limit", params: ["resets_in_seconds": 900, "stage": "handshake"])
        let before = Date().timeIntervalSince1970
        let r = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(
                path: "/v1/responses",
                json: #"{"model":"gpt-5.5","input":"hi","stream":true,"prompt_cache_key":"bridge-refused-1"}"#
            )
        )
        XCTAssertEqual(r.status, 200, r.bodyText)
        let log = try stack.simulatorLog()
        let refused = try XCTUnwrap(log.first { $0["status"] as? Int == 429 }?["account"] as? String, "\(log)")
        XCTAssertEqual(log.filter { $0["status"] as? Int == 429 }.count, 1, "never sent into the limit again: \(log)")
        XCTAssertNotEqual(log.last?["account"] as? String, refused, "\(log)")
        XCTAssertEqual(
            try stack.metric(#"sightline_recovery_decisions_total{decision="pin_reset",outcome="succeeded"}"#),
            1
        )
        let until = try stack.cooldownsUntil()
        XCTAssertEqual(until.count, 3)
        XCTAssertEqual(until.last ?? 0, before + 900, accuracy: 5)
    }

    /// The bridge's pooled socket is on an account that has since hit its usage limit on another channel (a
    /// WebSocket turn of the same conversation). The next bridged request goes to another account, in full,
    /// not into the limit on the old socket.
    func testABridgeRequestLeavesASocketWhoseAccountLeftRotation() throws {
        let stack = try SightlineStack(label: "bridge-owner-cooling", extraConfig: ["httpBridge": true])
        defer { stack.stop() }
        let body = #"{"model":"gpt-5.5","input":"hi","stream":true,"prompt_cache_key":"bridge-cooling"}"#
        func post() throws -> ParsedResponse {
            try HTTPTestClient.exchange(
                port: stack.proxyPort,
                HTTPTestClient.post(path: "/backend-api/codex/responses", json: body)
            )
        }
        XCTAssertEqual(try post().status, 200)
        let owner = try XCTUnwrap(stack.simulatorLog().last?["account"] as? String)
        try stack.injectFault(account: owner, "usage_limit", params: ["resets_in_seconds": 900])
        let ws = try WebSocketClient(
            port: stack.proxyPort,
            path: "/backend-api/codex/responses",
            headers: [("Authorization", "Bearer client-FAKE")]
        )
        try ws.turn(WebSocketProxyTests.frame(nil, "over websocket", key: "bridge-cooling"))
        ws.close()
        XCTAssertEqual(
            try stack.simulatorLog().first { $0["status"] as? Int == 429 }?["account"] as? String,
            owner,
            "the conversation's account took the limit"
        )
        XCTAssertEqual(try post().status, 200)
        let last = try XCTUnwrap(stack.simulatorLog().last)
        XCTAssertNotEqual(last["account"] as? String, owner, "\(last)")
        XCTAssertEqual(last["has_previous_response_id"] as? Bool, false, "sent in full: \(last)")
        let closed = stack.awaitLogRecords(event: "sightline.bridge", count: 1).filter {
            $0["body"] as? String == "bridge socket closed"
        }
        XCTAssertEqual(closed.count, 1)
        XCTAssertEqual((closed.first?["attributes"] as? [String: Any])?["error.type"] as? String, "owner_cooling")
    }

    /// A client that sends its next request the moment it has read the last answer finds the bridge session idle:
    /// the session goes back to the pool before the answer's end goes out. It went back after, so a quick client
    /// (or a slow proxy: the sanitizer builds) sometimes found it busy and went over plain HTTP.
    func testBackToBackRequestsReuseTheBridgeSession() throws {
        let stack = try SightlineStack(label: "bridge-back-to-back", extraConfig: ["httpBridge": true])
        defer { stack.stop() }
        let rounds = 40
        for i in 0..<rounds {
            let r = try HTTPTestClient.exchange(
                port: stack.proxyPort,
                HTTPTestClient.post(
                    path: "/v1/responses",
                    json: #"{"model":"gpt-5.5","input":"hi","stream":\#(i % 2 == 0),"prompt_cache_key":"back-to-back"}"#
                )
            )
            XCTAssertEqual(r.status, 200, r.bodyText)
        }
        XCTAssertEqual(
            try stack.metric(#"sightline_websocket_upstream_turns_total{client="http_bridge",session="reused"}"#),
            Double(rounds - 1)
        )
    }

    /// A bridged answer carries the `x-codex-*` quota headers an HTTP answer would, from the upstream socket's
    /// `codex.rate_limits` frame: HTTP clients (Codex's status line) read quota from headers only.
    func testBridgedAnswersCarryTheQuotaHeaders() throws {
        let stack = try SightlineStack(label: "bridge-quota", extraConfig: ["httpBridge": true])
        defer { stack.stop() }
        for stream in [true, false] {
            let r = try HTTPTestClient.exchange(
                port: stack.proxyPort,
                HTTPTestClient.post(
                    path: "/v1/responses",
                    json: #"{"model":"gpt-5.5","input":"hi","stream":\#(stream),"prompt_cache_key":"bridge-quota"}"#
                )
            )
            XCTAssertEqual(r.status, 200, r.bodyText)
            XCTAssertFalse(r.bodyText.contains("codex.rate_limits"), "headers, never an event, over HTTP")
            for name in ["used-percent", "window-minutes", "reset-at"] {
                XCTAssertNotNil(r.headers["x-codex-primary-\(name)"], "stream \(stream): \(r.headers)")
                XCTAssertNotNil(r.headers["x-codex-secondary-\(name)"], "stream \(stream): \(r.headers)")
            }
        }
        XCTAssertEqual(
            try stack.metric(#"sightline_websocket_upstream_turns_total{client="http_bridge",session="reused"}"#),
            1,
            "both went over the bridge"
        )
    }

    func testALostBridgeAnchorIsStrippedAndRetriedWithTheFullInput() throws {
        let stack = try SightlineStack(label: "bridge-strip", extraConfig: ["httpBridge": true])
        defer { stack.stop() }
        func post(_ input: [[String: Any]]) throws -> ParsedResponse {
            let body: [String: Any] = ["model": "gpt-5.5", "input": input, "prompt_cache_key": "strip-1"]
            let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
            return try HTTPTestClient.exchange(
                port: stack.proxyPort,
                HTTPTestClient.post(path: "/v1/responses", json: json)
            )
        }
        var history: [[String: Any]] = [["role": "user", "content": "first question"]]
        let first = try post(history)
        XCTAssertEqual(first.status, 200, first.bodyText)
        let output = try XCTUnwrap(
            (try JSONSerialization.jsonObject(with: Data(first.body)) as? [String: Any])?["output"] as? [[String: Any]]
        )
        history += output + [["role": "user", "content": "second question"]]
        // The next frame on that account is answered as if the upstream had forgotten the anchor.
        let fault = #"{"account":"acct1","fault":"previous_response_not_found","count":1}"#
        XCTAssertEqual(
            try HTTPTestClient.exchange(
                port: stack.simulatorPort,
                HTTPTestClient.post(path: "/__sim/faults", json: fault)
            ).status,
            200
        )
        let second = try post(history)
        XCTAssertEqual(second.status, 200, second.bodyText)
        XCTAssertFalse(second.bodyText.contains("previous_response_not_found"))
        let metrics = try HTTPTestClient.get(port: stack.proxyPort, path: "/metrics").bodyText
        XCTAssertTrue(
            metrics.contains(#"sightline_recovery_decisions_total{decision="strip_retry",outcome="attempted"} 1"#),
            metrics
        )
        XCTAssertTrue(
            metrics.contains(#"sightline_recovery_decisions_total{decision="strip_retry",outcome="succeeded"} 1"#)
        )
        // The retry carried the full history without an anchor.
        let r = try HTTPTestClient.get(port: stack.simulatorPort, path: "/__sim/requests")
        let requests = try JSONSerialization.jsonObject(with: Data(r.body)) as? [[String: Any]] ?? []
        let last = try XCTUnwrap(requests.last { ($0["path"] as? String ?? "").hasSuffix("/responses") })
        XCTAssertEqual(last["has_previous_response_id"] as? Bool, false)
        XCTAssertEqual(last["input_item_count"] as? Int, history.count)
    }
}
