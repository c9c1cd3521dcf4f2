import Foundation
import XCTest

/// End-to-end recovery decisions against the simulator's fault injection: what the client sees, and that
/// `/metrics` and the log show exactly the decisions taken (docs/recovery.md).
final class RecoveryTests: XCTestCase {
    var stack: SightlineStack!

    override func setUpWithError() throws {
        stack = try SightlineStack(label: "recovery")
    }

    override func tearDown() {
        stack?.stop()
    }

    func injectFault(account: String?, _ fault: String, count: Int = 1, params: [String: Any] = [:]) throws {
        var body: [String: Any] = ["fault": fault, "count": count]
        if let account { body["account"] = account }
        for (k, v) in params { body[k] = v }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        let r = try HTTPTestClient.exchange(
            port: stack.simulatorPort,
            HTTPTestClient.post(path: "/__sim/faults", json: json)
        )
        XCTAssertEqual(r.status, 200, r.bodyText)
    }

    func post(_ json: String, headers: [(String, String)] = []) throws -> ParsedResponse {
        try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(path: "/v1/responses", json: json, headers: headers)
        )
    }

    func decisions() throws -> [String: Double] {
        let body = try HTTPTestClient.get(port: stack.proxyPort, path: "/metrics").bodyText
        var out: [String: Double] = [:]
        for line in body.split(separator: "\n") where line.hasPrefix("sightline_recovery_decisions_total{") {
            let parts = line.split(separator: " ")
            let labels = parts[0].replacingOccurrences(of: "sightline_recovery_decisions_total", with: "")
            out[labels] = Double(parts[1])
        }
        return out
    }

    func count(_ decision: String, _ outcome: String) throws -> Double {
        try decisions()[#"{decision="\#(decision)",outcome="\#(outcome)"}"#] ?? -1
    }

    /// `sightline_request_duration_seconds` times requests forwarded upstream (docs/metrics.md): one answered at once
    /// without an upstream call (a dead anchor's 502 here; a foreign anchor, an exhausted pool) is not observed, as
    /// a local 401 or 404 is not. Observed, every client retry of a dead conversation added a near-zero duration and
    /// pulled the latency quantiles down while requests were failing.
    func testARequestAnsweredWithoutAnUpstreamCallIsNotTimed() throws {
        let anchored =
            #"{"model":"gpt-5.5","input":"next","previous_response_id":"resp_sim_deadbeef0003","stream":true}"#
        XCTAssertEqual(try post(anchored).status, 502, "masked, and tombstoned")
        let timed = #"sightline_request_duration_seconds_count{route="responses",transport="http"}"#
        XCTAssertEqual(try stack.metric(timed), 1, "that one went upstream")
        XCTAssertEqual(try post(anchored).status, 502)
        XCTAssertEqual(try count("dead_anchor", "attempted"), 1, "answered at once")
        XCTAssertEqual(try stack.metric(timed), 1, "no upstream call, no duration")
        XCTAssertEqual(try stack.requests("5xx"), 2, "still counted as a request")
    }

    /// The triad adds up for every decision once requests finished.
    func assertTriadBalanced(file: StaticString = #filePath, line: UInt = #line) throws {
        let d = try decisions()
        for decision in [
            "affinity_miss", "strip_retry", "transcript_replay", "pin_reset", "masked_continuity_loss",
            "dead_anchor", "failover", "token_refresh", "reasoning_strip",
        ] {
            let a = d[#"{decision="\#(decision)",outcome="attempted"}"#] ?? -1
            let s = d[#"{decision="\#(decision)",outcome="succeeded"}"#] ?? -1
            let g = d[#"{decision="\#(decision)",outcome="gave_up"}"#] ?? -1
            XCTAssertEqual(
                a,
                s + g,
                "\(decision): attempted \(a) ≠ succeeded \(s) + gave_up \(g)",
                file: file,
                line: line
            )
        }
    }

    /// The `error` object of the pool's own 429 when every account is cooling.
    func usageLimitError(
        _ r: ParsedResponse,
        file: StaticString = #filePath,
        line: UInt = #line
    ) throws -> [String: Any] {
        XCTAssertEqual(r.status, 429, r.bodyText, file: file, line: line)
        let error = try XCTUnwrap(
            (try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])?["error"] as? [String: Any],
            file: file,
            line: line
        )
        XCTAssertEqual(error["type"] as? String, "usage_limit_reached", file: file, line: line)
        return error
    }

    func recoveryLogRecords() -> [[String: Any]] {
        stack.logRecords().filter { $0["event_name"] as? String == "sightline.recovery" }
    }

    func servedBy() throws -> [String] {
        let r = try HTTPTestClient.get(port: stack.simulatorPort, path: "/__sim/requests")
        let list = try JSONSerialization.jsonObject(with: Data(r.body)) as? [[String: Any]] ?? []
        return list.filter { ($0["path"] as? String ?? "").hasSuffix("/responses") }.compactMap {
            $0["account"] as? String
        }
    }

    func testServerErrorFailsOverBeforeTheFirstByte() throws {
        try injectFault(account: "acct1", "server_error")
        let r = try post(#"{"model":"gpt-5.5","input":"hi","stream":true}"#)
        XCTAssertEqual(r.status, 200)
        XCTAssertTrue(r.bodyText.contains("response.completed"))
        XCTAssertFalse(r.bodyText.contains("server_error"))
        XCTAssertEqual(try count("failover", "attempted"), 1)
        XCTAssertEqual(try count("failover", "succeeded"), 1)
        try assertTriadBalanced()
        XCTAssertEqual(try servedBy(), ["acct1", "acct2"])
        let records = recoveryLogRecords()
        XCTAssertEqual(records.count, 2, "one log line per recording")
        let attrs = try XCTUnwrap(records.first?["attributes"] as? [String: Any])
        XCTAssertEqual(attrs["sightline.recovery.decision"] as? String, "failover")
        XCTAssertEqual(attrs["error.type"] as? String, "server_error")
        XCTAssertTrue((attrs["sightline.account"] as? String ?? "").hasPrefix("acct_"))
        XCTAssertNotNil(records.first?["trace_id"])
    }

    func testUsageLimitCoolsTheAccountAndThePinMoves() throws {
        try injectFault(account: "acct1", "usage_limit", params: ["resets_in_seconds": 600])
        XCTAssertEqual(try post(#"{"model":"gpt-5.5","input":"one","prompt_cache_key":"conv-a"}"#).status, 200)
        XCTAssertEqual(try post(#"{"model":"gpt-5.5","input":"two","prompt_cache_key":"conv-a"}"#).status, 200)
        XCTAssertEqual(try servedBy(), ["acct1", "acct2", "acct2"], "acct1 cooled; the conversation stays on acct2")
        XCTAssertEqual(try count("pin_reset", "attempted"), 1)
        XCTAssertEqual(try count("pin_reset", "succeeded"), 1)
        try assertTriadBalanced()
        let metrics = try HTTPTestClient.get(port: stack.proxyPort, path: "/metrics").bodyText
        let cooling = metrics.split(separator: "\n").filter {
            $0.hasPrefix("sightline_account_state{") && $0.contains(#"state="cooling""#) && $0.hasSuffix(" 1")
        }
        XCTAssertEqual(cooling.count, 1, metrics)
    }

    /// A cooldown that ends while the account gets no traffic shows as ended at the next scrape: back to
    /// `active`, its cooldown gauge 0, counted in the available pool, and logged. It used to stay `cooling` until
    /// a request happened to select it.
    func testAnEndedCooldownShowsWithoutTraffic() throws {
        try injectFault(account: "acct1", "usage_limit", params: ["resets_in_seconds": 1])
        XCTAssertEqual(try post(#"{"model":"gpt-5.5","input":"one"}"#).status, 200)
        XCTAssertEqual(try servedBy(), ["acct1", "acct2"])
        XCTAssertEqual(try stack.metric("sightline_pool_available_accounts"), 2)
        let back = poll(timeout: 10) { (try? self.stack.metric("sightline_pool_available_accounts")) == 3 }
        XCTAssertTrue(back, "the pool never got its account back")
        let metrics = try HTTPTestClient.get(port: stack.proxyPort, path: "/metrics").bodyText
        XCTAssertFalse(
            metrics.split(separator: "\n").contains {
                $0.hasPrefix("sightline_account_state{") && $0.contains(#"state="cooling""#) && $0.hasSuffix(" 1")
            },
            metrics
        )
        XCTAssertFalse(
            metrics.split(separator: "\n").contains {
                $0.hasPrefix("sightline_account_cooldown_until_timestamp_seconds{") && !$0.hasSuffix(" 0")
            },
            metrics
        )
        let records = stack.awaitLogRecords(event: "sightline.account", count: 2).filter {
            ($0["attributes"] as? [String: Any])?["sightline.account.reason"] as? String == "cooldown_ended"
        }
        XCTAssertEqual(records.count, 1)
        XCTAssertEqual(records.first?["severity_text"] as? String, "INFO")
        XCTAssertEqual(
            (records.first?["attributes"] as? [String: Any])?["sightline.account.state"] as? String,
            "active"
        )
        XCTAssertEqual(try servedBy().count, 2, "no request was needed")
    }

    func testExhaustedPoolAnswers429WithTheEarliestReset() throws {
        for (account, seconds) in [("acct1", 900), ("acct2", 300), ("acct3", 1800)] {
            try injectFault(account: account, "usage_limit", params: ["resets_in_seconds": seconds])
        }
        let before = Date().timeIntervalSince1970
        let r = try post(#"{"model":"gpt-5.5","input":"hi","stream":true}"#)
        let error = try usageLimitError(r)
        let resetsAt = try XCTUnwrap(error["resets_at"] as? Double)
        XCTAssertEqual(resetsAt, before + 300, accuracy: 5, "the earliest reset in the pool (acct2's)")
        // A later request does not touch the upstream at all: every account is cooling.
        XCTAssertEqual(try post(#"{"model":"gpt-5.5","input":"again"}"#).status, 429)
        XCTAssertEqual(try servedBy().count, 3)
        XCTAssertEqual(try count("pin_reset", "attempted"), 2)
        XCTAssertEqual(try count("pin_reset", "gave_up"), 2)
        try assertTriadBalanced()
        let metrics = try HTTPTestClient.get(port: stack.proxyPort, path: "/metrics").bodyText
        XCTAssertTrue(metrics.contains("sightline_pool_exhausted_total 2"), metrics)
    }

    /// A 429 that names no reset but has `retry-after` cools the account as long as it says, in seconds or as
    /// an HTTP date, not for the 30 s a bare 429 gets. The proxy used to ignore the header: the account came back
    /// after 30 s and hit the limit again, and again, doubling up to the wait it had been told.
    func testARateLimitWithRetryAfterCoolsThatLong() throws {
        let before = Date().timeIntervalSince1970
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "GMT")
        format.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let date = format.string(from: Date(timeIntervalSince1970: before + 1200))
        try injectFault(account: "acct1", "rate_limit_no_code", params: ["retry_after": "600"])
        try injectFault(account: "acct2", "rate_limit_no_code", params: ["retry_after": date])
        try injectFault(account: "acct3", "rate_limit_no_code")
        let error = try usageLimitError(try post(#"{"model":"gpt-5.5","input":"hi","stream":true}"#))
        XCTAssertEqual(try XCTUnwrap(error["resets_at"] as? Double), before + 30, accuracy: 5, "acct3's guess")
        XCTAssertEqual(try servedBy().count, 3)
        let until = try stack.cooldownsUntil()
        XCTAssertEqual(until.count, 3, "\(until)")
        for (got, want) in zip(until, [before + 30, before + 600, before + 1200]) {
            XCTAssertEqual(got, want, accuracy: 5, "\(until)")
        }
    }

    /// Resets no clock reaches once trapped the proxy converting them to whole seconds, ending every stream
    /// in flight: `1e400` (JSON allows it; it reads as infinity) and `1e20`. The first is no reset, so the
    /// body's `resets_in_seconds` (the simulator's 3600) decides; the second cools for the longest cooldown
    /// (8 days). The pool still answers.
    func testAResetNoClockReachesNeitherCrashesNorCoolsForever() throws {
        try injectFault(account: "acct1", "usage_limit", params: ["resets_at": "1e400"])
        try injectFault(account: "acct2", "usage_limit", params: ["resets_at": "1e20"])
        try injectFault(account: "acct3", "usage_limit", params: ["resets_at": "1e20"])
        let before = Date().timeIntervalSince1970
        let r = try post(#"{"model":"gpt-5.5","input":"hi","stream":true}"#)
        let error = try usageLimitError(r)
        XCTAssertEqual(try XCTUnwrap(error["resets_at"] as? Double), before + 3600, accuracy: 5, "acct1's")
        XCTAssertEqual(try servedBy().count, 3)
        let until = try stack.cooldownsUntil()
        XCTAssertEqual(until.count, 3, "\(until)")
        let longest = 8 * 24 * 3600.0
        for (got, want) in zip(until, [before + 3600, before + longest, before + longest]) {
            XCTAssertEqual(got, want, accuracy: 5, "\(until)")
        }
        XCTAssertEqual(try post(#"{"model":"gpt-5.5","input":"again"}"#).status, 429, "still up, still cooling")
    }

    /// The upstream ends a stream with its own failure after output went out. A bare `error` event, which Codex
    /// ignores over SSE, reaches the client as the terminal `response.failed` it acts on (the upstream's code,
    /// ids scrubbed), and the attempt and the request count a failure by its class, not a success.
    func testAFailureAfterOutputIsRelayedAsResponseFailedAndCountedAsOne() throws {
        try injectFault(
            account: nil,
            "response_failed",
            params: ["after": 5, "code": "context_length_exceeded", "message": "Too long after resp_abc123."]
        )
        let r = try post(#"{"model":"gpt-5.5","input":"hi","stream":true}"#)
        XCTAssertEqual(r.status, 200)
        let types = r.bodyText.split(separator: "\n").filter { $0.hasPrefix("event: ") }.map { $0.dropFirst(7) }
        XCTAssertEqual(types.last, "response.failed", r.bodyText)
        XCTAssertFalse(types.contains("error"), r.bodyText)
        XCTAssertTrue(types.contains("response.output_text.delta"), r.bodyText)
        XCTAssertTrue(r.bodyText.contains(#""code":"context_length_exceeded""#), r.bodyText)
        XCTAssertFalse(r.bodyText.contains("resp_abc123"), r.bodyText)
        XCTAssertEqual(try servedBy().count, 1, "nothing is retried once output went out")
        XCTAssertEqual(
            try stack.upstreamAttempts("http_4xx"),
            1,
            "a request the upstream refused, as its HTTP status would count"
        )
        XCTAssertEqual(try stack.upstreamAttempts("success"), 0)
        let finished = try XCTUnwrap(stack.awaitLogRecords(event: "sightline.request", count: 1).last)
        let attributes = try XCTUnwrap(finished["attributes"] as? [String: Any])
        XCTAssertEqual(attributes["error.type"] as? String, "context_length_exceeded")
    }

    /// Failures the upstream ends a stream with count by class. A `response.failed` the policy passes through
    /// before any output (a request the upstream refuses) is relayed as it came and counts as `http_4xx`; a
    /// server error after output counts as `stream_error`, which the upstream error-ratio alert counts.
    func testUpstreamFailuresAtTheEndOfAStreamCountByClass() throws {
        let body = #"{"model":"gpt-5.5","input":"hi","stream":true}"#
        try injectFault(account: nil, "response_failed", params: ["code": "context_length_exceeded"])
        let refused = try post(body)
        XCTAssertEqual(refused.status, 200)
        XCTAssertTrue(refused.bodyText.contains("event: response.failed"), refused.bodyText)
        XCTAssertEqual(try stack.upstreamAttempts("http_4xx"), 1)
        try injectFault(account: nil, "response_failed", params: ["after": 5, "code": "server_error"])
        let cut = try post(body)
        XCTAssertTrue(cut.bodyText.contains("event: response.failed"), cut.bodyText)
        XCTAssertEqual(try stack.upstreamAttempts("stream_error"), 1)
        let params: [String: Any] = ["after": 5, "mode": "failed", "code": "rate_limit_exceeded"]
        try injectFault(account: nil, "response_failed", params: params)
        let limited = try post(body)
        XCTAssertTrue(limited.bodyText.hasSuffix("\n\n") && limited.bodyText.contains("event: response.failed"))
        XCTAssertEqual(
            try stack.upstreamAttempts("http_429"),
            1,
            "the upstream's own response.failed after output, by class"
        )
        XCTAssertEqual(try stack.upstreamAttempts("success"), 0)
        XCTAssertEqual(try servedBy().count, 3)
        let records = stack.awaitLogRecords(event: "sightline.request", count: 3)
        let errors = records.compactMap { ($0["attributes"] as? [String: Any])?["error.type"] as? String }
        XCTAssertEqual(errors, ["context_length_exceeded", "server_error", "rate_limit_exceeded"])
        // Each stream went out with a 200 head (the record says so), and counts with the status a non-streaming
        // client gets for its failure: 400, 502, 429. Until 2026-12-07 all three counted as 2xx.
        let statuses = records.compactMap { ($0["attributes"] as? [String: Any])?["http.response.status_code"] as? Int }
        XCTAssertEqual(statuses, [200, 200, 200])
        XCTAssertEqual(records.compactMap { $0["severity_text"] as? String }, ["INFO", "WARN", "INFO"])
        XCTAssertEqual(try stack.requests("2xx"), 0)
        XCTAssertEqual(try stack.requests("4xx"), 2)
        XCTAssertEqual(try stack.requests("5xx"), 1)
    }

    /// A recovery decision succeeds when the request it recovered does. A failover whose retry the upstream refuses
    /// in-stream (`response.failed` before any output, which the policy relays) gave up, as the same refusal answered
    /// with its HTTP status does: settled `succeeded` at the relay (or, for `stream:false`, before the answer was even
    /// read), the gave-up ratio panel read the failure as a recovery.
    func testAFailoverWhoseRetryTheUpstreamRefusesInStreamGivesUp() throws {
        for stream in [true, false] {
            try injectFault(account: nil, "server_error")
            try injectFault(account: nil, "response_failed", params: ["code": "context_length_exceeded"])
            let r = try post(#"{"model":"gpt-5.5","input":"hi","stream":\#(stream)}"#)
            XCTAssertEqual(r.status, stream ? 200 : 400, r.bodyText)
            XCTAssertTrue(r.bodyText.contains("context_length_exceeded"), r.bodyText)
        }
        XCTAssertEqual(try stack.requests("4xx"), 2)
        XCTAssertEqual(try count("failover", "attempted"), 2)
        XCTAssertEqual(try count("failover", "succeeded"), 0)
        XCTAssertEqual(try count("failover", "gave_up"), 2)
        try assertTriadBalanced()
    }

    func testLostAnchorIsMaskedAsRetryable502WithoutLeakingIDs() throws {
        let r = try post(
            #"{"model":"gpt-5.5","input":"next","previous_response_id":"resp_sim_deadbeef0001","stream":true}"#
        )
        XCTAssertEqual(r.status, 502, r.bodyText)
        XCTAssertTrue(r.bodyText.contains(#""code":"stream_incomplete""#), r.bodyText)
        XCTAssertFalse(r.bodyText.contains("resp_"))
        XCTAssertFalse(r.bodyText.contains("previous_response_not_found"))
        XCTAssertEqual(try count("masked_continuity_loss", "attempted"), 1)
        XCTAssertEqual(try count("masked_continuity_loss", "gave_up"), 1)
        XCTAssertEqual(try count("failover", "attempted"), 0, "a lost anchor is not an account problem")
        try assertTriadBalanced()
        let log = stack.allOutput()
        XCTAssertFalse(log.contains("resp_sim_deadbeef0001"), "raw anchors never reach the log")
    }

    func testATranscriptTooLargeForTheCacheIsCountedAndItsAnchorMasked() throws {
        stack.stop()
        stack = try SightlineStack(label: "tiny-cache", extraConfig: ["continuity": ["transcriptCacheBytes": 64]])
        let first = try post(#"{"model":"gpt-5.5","input":"remember this"}"#)
        XCTAssertEqual(first.status, 200, first.bodyText)
        let id = try XCTUnwrap(first.responseID)
        XCTAssertEqual(try stack.metric("sightline_transcript_cache_rejections_total"), 1)
        XCTAssertEqual(try stack.metric("sightline_transcript_cache_entries"), 0)
        // Without its transcript the anchor cannot be replayed: the next turn is the counted, masked loss.
        let next = try post(#"{"model":"gpt-5.5","input":"next","previous_response_id":"\#(id)","stream":true}"#)
        XCTAssertEqual(next.status, 502, next.bodyText)
        XCTAssertEqual(try count("masked_continuity_loss", "attempted"), 1)
        XCTAssertEqual(try count("transcript_replay", "attempted"), 0)
    }

    func testInStreamLostAnchorBeforeTheFirstByteIsMaskedToo() throws {
        let r = try post(
            #"{"model":"gpt-5.5","input":"x","stream":true}"#,
            headers: [("x-sim-fault", "previous_response_not_found_in_stream")]
        )
        XCTAssertEqual(r.status, 502, r.bodyText)
        XCTAssertTrue(r.bodyText.contains("stream_incomplete"))
        XCTAssertFalse(r.bodyText.contains("resp_"))
        XCTAssertEqual(try count("masked_continuity_loss", "attempted"), 1)
    }

    func testTransientFailureWithAnAnchorIsA502ThatKeepsTheAnchor() throws {
        // API-key accounts, whose upstream resolves anchors over HTTP (the simulator is told to): the anchor
        // is forwarded to its own account, and an injected 500 must not turn into continuity loss.
        stack.stop()
        stack = try SightlineStack(
            label: "transient",
            simulator: ["httpAnchorsResolve": true],
            accounts: SightlineStack.apiKeyAccounts(3)
        )
        let first = try post(#"{"model":"gpt-5.5","input":"first"}"#)
        XCTAssertEqual(first.status, 200, first.bodyText)
        let anchor = try XCTUnwrap(first.responseID)
        let r = try post(
            #"{"model":"gpt-5.5","input":"x","previous_response_id":"\#(anchor)","stream":true}"#,
            headers: [("x-sim-fault", "server_error")]
        )
        XCTAssertEqual(r.status, 502)
        XCTAssertTrue(r.bodyText.contains(#""code":"upstream_unavailable""#), r.bodyText)
        XCTAssertFalse(
            r.bodyText.contains("previous_response_not_found"),
            "a transient failure is never continuity loss"
        )
        XCTAssertEqual(try count("failover", "attempted"), 0, "the anchor lives on its account: no failover")
        XCTAssertEqual(try count("masked_continuity_loss", "attempted"), 0)
        XCTAssertEqual(try count("transcript_replay", "attempted"), 0, "its own account resolves it: no replay")
        // The client retries with the same anchor and it works: the anchor was kept.
        let retry = try post(#"{"model":"gpt-5.5","input":"x","previous_response_id":"\#(anchor)","stream":true}"#)
        XCTAssertEqual(retry.status, 200, retry.bodyText)
    }

    /// API-key accounts of different organisations: an anchor resolves only on the account that produced it.
    /// While that account is briefly out (a 5xx cooldown), the anchored request goes to another, which answers
    /// `previous_response_not_found`. That proves nothing about the anchor: without a transcript the client
    /// gets a retryable 502 and the anchor is kept, so its retry continues on the owner once it is back. It
    /// used to be masked and tombstoned: every retry for 2 h was a `dead_anchor` 502.
    func testANotFoundFromAnAccountThatNeverHeldTheAnchorKeepsIt() throws {
        stack.stop()
        stack = try SightlineStack(
            label: "anchor-elsewhere",
            extraConfig: ["continuity": ["transcriptCacheBytes": 64]],  // no transcript to replay
            simulator: ["httpAnchorsResolve": true],
            accounts: SightlineStack.apiKeyAccounts(2)
        )
        let first = try post(#"{"model":"gpt-5.5","input":"first"}"#)
        XCTAssertEqual(first.status, 200, first.bodyText)
        let anchor = try XCTUnwrap(first.responseID)
        XCTAssertEqual(try servedBy(), ["acct1"])
        // acct1 fails another request with a 5xx: a brief (soft) cooldown, and that request moves to acct2.
        try injectFault(account: "acct1", "server_error")
        XCTAssertEqual(try post(#"{"model":"gpt-5.5","input":"other"}"#).status, 200)
        let r = try post(#"{"model":"gpt-5.5","input":"next","previous_response_id":"\#(anchor)","stream":true}"#)
        XCTAssertEqual(try servedBy(), ["acct1", "acct1", "acct2", "acct2"], "the anchored request went to acct2")
        XCTAssertEqual(r.status, 502, r.bodyText)
        XCTAssertTrue(r.bodyText.contains(#""code":"upstream_unavailable""#), r.bodyText)
        XCTAssertEqual(try count("masked_continuity_loss", "attempted"), 0, "not masked")
        // Once acct1 is back, the client's retry continues the conversation there.
        XCTAssertTrue(
            poll(timeout: 15) {
                (try? self.stack.metricSum(prefix: "sightline_account_state{", containing: #"state="cooling""#)) == 0
            }
        )
        let retry = try post(#"{"model":"gpt-5.5","input":"next","previous_response_id":"\#(anchor)","stream":true}"#)
        XCTAssertEqual(retry.status, 200, retry.bodyText)
        XCTAssertEqual(try servedBy().last, "acct1")
        XCTAssertEqual(try count("dead_anchor", "attempted"), 0)
    }

    static let user1 = #"{"type":"message","role":"user","content":"first"}"#
    static let user2 = #"{"type":"message","role":"user","content":"second"}"#

    /// A new stack whose simulator seals reasoning per account; returns the body fields asking for it on `key`.
    func sealingStack(_ label: String, key: String) throws -> String {
        stack.stop()
        stack = try SightlineStack(label: label, simulator: ["reasoningItems": true])
        return #""include":["reasoning.encrypted_content"],"prompt_cache_key":"\#(key)""#
    }

    /// The `output` items of a non-streaming Response (or compaction) body.
    func outputItems(_ r: ParsedResponse) throws -> [[String: Any]] {
        try XCTUnwrap(
            (try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])?["output"] as? [[String: Any]],
            r.bodyText
        )
    }

    /// The simulator's log of `…/responses` requests (compactions left out).
    func responsesLog() throws -> [[String: Any]] {
        try stack.simulatorLog().filter { ($0["path"] as? String ?? "").hasSuffix("/responses") }
    }

    /// `reasoning_strip` was taken `n` times and each succeeded.
    func assertStrips(_ n: Double, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try count("reasoning_strip", "attempted"), n, file: file, line: line)
        XCTAssertEqual(try count("reasoning_strip", "succeeded"), n, file: file, line: line)
    }

    /// Items as JSON text, to build an `input` array from.
    func jsonTexts(_ items: [[String: Any]]) throws -> [String] {
        try items.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
    }

    /// Reasoning is sealed by the account that produced it. A conversation moved to another account (here by
    /// its own account's usage limit) resends a history holding that reasoning, and the new account answers 400
    /// `invalid_encrypted_content`, which Codex takes as fatal on every later turn too. The proxy retries once
    /// on that account without the sealed items (`reasoning_strip`), and the turn succeeds.
    func testReasoningSealedByAnotherAccountIsStrippedOnce() throws {
        let include = try sealingStack("reasoning-strip", key: "conv-sealed")
        let first = try post(#"{"model":"gpt-5.5","input":[\#(Self.user1)],\#(include)}"#)
        XCTAssertEqual(first.status, 200, first.bodyText)
        let output = try outputItems(first)
        XCTAssertEqual(output.map { $0["type"] as? String }, ["reasoning", "message"])
        let owner = try XCTUnwrap(servedBy().first)
        try injectFault(account: owner, "usage_limit", params: ["resets_in_seconds": 900])
        let input = ([Self.user1] + (try jsonTexts(output)) + [Self.user2]).joined(separator: ",")
        let second = try post(#"{"model":"gpt-5.5","input":[\#(input)],\#(include),"stream":true}"#)
        XCTAssertEqual(second.status, 200, second.bodyText)
        XCTAssertTrue(second.bodyText.contains("event: response.completed"), second.bodyText)
        XCTAssertFalse(second.bodyText.contains("invalid_encrypted_content"), second.bodyText)
        let log = try responsesLog()
        XCTAssertEqual(log.map { $0["status"] as? Int }, [200, 429, 400, 200], "\(log)")
        guard log.count == 4 else { return }
        XCTAssertEqual(log[2]["account"] as? String, log[3]["account"] as? String, "retried on the same account")
        XCTAssertEqual(log.map { $0["input_item_count"] as? Int }, [1, 4, 4, 3], "only the sealed item left")
        try assertStrips(1)
        XCTAssertEqual(try count("pin_reset", "succeeded"), 1)
        try assertTriadBalanced()
    }

    /// Two turns of a sealing conversation, the second moved to another account by a usage limit on the first's
    /// (and refused there once for the old account's reasoning): the `include` fields and the third turn's input.
    func conversationMovedByAUsageLimit(_ label: String, key: String) throws -> (include: String, turn3: [String]) {
        let include = try sealingStack(label, key: key)
        let first = try outputItems(try post(#"{"model":"gpt-5.5","input":[\#(Self.user1)],\#(include)}"#))
        let owner = try XCTUnwrap(servedBy().first)
        try injectFault(account: owner, "usage_limit", params: ["resets_in_seconds": 900])
        let turn2 = [Self.user1] + (try jsonTexts(first)) + [Self.user2]
        let second = try post(#"{"model":"gpt-5.5","input":[\#(turn2.joined(separator: ","))],\#(include)}"#)
        XCTAssertEqual(second.status, 200, second.bodyText)
        let user3 = #"{"type":"message","role":"user","content":"third"}"#
        return (include, turn2 + (try jsonTexts(try outputItems(second))) + [user3])
    }

    /// After the move, the conversation's next turn on the new account is not refused again: it goes at once
    /// without the old account's reasoning and keeps the reasoning the new account produced itself.
    func testALaterTurnOnTheNewAccountKeepsItsOwnReasoning() throws {
        let (include, turn3) = try conversationMovedByAUsageLimit("sealed-memory", key: "conv-remembered")
        let third = try post(#"{"model":"gpt-5.5","input":[\#(turn3.joined(separator: ","))],\#(include)}"#)
        XCTAssertEqual(third.status, 200, third.bodyText)
        let log = try responsesLog()
        XCTAssertEqual(log.map { $0["status"] as? Int }, [200, 429, 400, 200, 200], "no second refusal: \(log)")
        XCTAssertEqual(log.last?["input_item_count"] as? Int, 6, "only the old account's reasoning left: \(log)")
        XCTAssertEqual(log.last?["account"] as? String, log[3]["account"] as? String)
        try assertStrips(2)
        try assertTriadBalanced()
    }

    /// A compacted conversation moves accounts: its compaction item is sealed too. The reasoning step is refused
    /// again, so the compaction item goes as well (the summary message and the user's messages stay), and the
    /// turn succeeds: two strips, both counted, the second logged as dropping compaction.
    func testASealedCompactionGoesAfterTheReasoning() throws {
        let include = try sealingStack("compaction-strip", key: "conv-compacted")
        let answer = try outputItems(try post(#"{"model":"gpt-5.5","input":[\#(Self.user1)],\#(include)}"#))
        let compacted = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(
                path: "/v1/responses/compact",
                json: #"{"model":"gpt-5.5","input":[\#(Self.user1)],\#(include)}"#
            )
        )
        XCTAssertEqual(compacted.status, 200, compacted.bodyText)
        let summary = try outputItems(compacted)
        XCTAssertEqual(summary.map { $0["type"] as? String }, ["message", "compaction"])
        let owner = try XCTUnwrap(servedBy().first)
        try injectFault(account: owner, "usage_limit", params: ["resets_in_seconds": 900])
        let input = (try jsonTexts(summary + answer) + [Self.user2]).joined(separator: ",")
        let second = try post(#"{"model":"gpt-5.5","input":[\#(input)],\#(include),"stream":true}"#)
        XCTAssertEqual(second.status, 200, second.bodyText)
        XCTAssertTrue(second.bodyText.contains("event: response.completed"), second.bodyText)
        let log = try responsesLog()
        XCTAssertEqual(log.map { $0["status"] as? Int }, [200, 429, 400, 400, 200], "\(log)")
        XCTAssertEqual(log.map { $0["input_item_count"] as? Int }, [1, 5, 5, 4, 3])
        try assertStrips(2)
        try assertTriadBalanced()
        let reasons = recoveryLogRecords().compactMap { record -> String? in
            let attributes = record["attributes"] as? [String: Any]
            guard attributes?["sightline.recovery.decision"] as? String == "reasoning_strip",
                attributes?["sightline.recovery.outcome"] as? String == "attempted"
            else { return nil }
            return attributes?["error.type"] as? String
        }
        XCTAssertEqual(reasons, ["invalid_encrypted_content", "invalid_encrypted_content_compaction"])
    }

    func testFailureAfterTheFirstByteEndsWithResponseFailed() throws {
        let r = try post(
            #"{"model":"gpt-5.5","input":"x","stream":true}"#,
            headers: [("x-sim-fault", "stream_cut;after=5")]
        )
        XCTAssertEqual(r.status, 200)
        XCTAssertTrue(r.bodyText.contains("response.output_text.delta"), r.bodyText)
        XCTAssertTrue(r.bodyText.hasSuffix("\n\n"))
        let last = r.bodyText.components(separatedBy: "\n\n").filter { !$0.isEmpty }.last ?? ""
        XCTAssertTrue(last.contains("event: response.failed") && last.contains("stream_incomplete"), last)
        XCTAssertEqual(try count("failover", "attempted"), 0, "never fail over after bytes were sent")
        // A turn cut mid-stream is a server error, whatever status its head went out with: the error-rate alert
        // counts it (until 2026-12-07 it counted as 2xx).
        XCTAssertEqual(try stack.requests("5xx"), 1)
        XCTAssertEqual(try stack.requests("2xx"), 0)
    }

    func testNonStreamingClientRecoversFromACutStream() throws {
        try injectFault(account: "acct1", "stream_cut", params: ["after": 4])
        let r = try post(#"{"model":"gpt-5.5","input":"x"}"#)
        XCTAssertEqual(r.status, 200, r.bodyText)
        XCTAssertEqual(try count("failover", "succeeded"), 1)
    }

    /// The sealed_elsewhere strip of one request, retried on the same account after a token refresh, is one
    /// decision, not two (it was recorded on each attempt until 2026-12-07).
    func testSealedElsewhereStripIsRecordedOncePerRequestAcrossARefresh() throws {
        let (include, turn3) = try conversationMovedByAUsageLimit("sealed-refresh", key: "conv-sealed-refresh")
        let newAccount = try XCTUnwrap(servedBy().last)
        try assertStrips(1)
        // Turn 3 on the new account: its token is refused once, refreshed, and the turn retried there.
        try injectFault(account: newAccount, "token_invalidated")
        let third = try post(#"{"model":"gpt-5.5","input":[\#(turn3.joined(separator: ","))],\#(include)}"#)
        XCTAssertEqual(third.status, 200, third.bodyText)
        XCTAssertEqual(try count("token_refresh", "succeeded"), 1)
        try assertStrips(2)  // one per request that stripped
    }

    /// A pin reset away from an anchor's account never forwards the stale anchor to the next account: without a
    /// transcript it is masked at once (as the 429 pin reset does). Here the reset follows a failed refresh, which
    /// sent the anchor on to another account until 2026-12-07.
    func testAFailedRefreshPinResetDoesNotForwardTheStaleAnchor() throws {
        stack.stop()
        // A cache too small for any transcript: the anchor cannot be replayed, only forwarded or masked.
        stack = try SightlineStack(
            label: "refresh-failed-anchor",
            extraConfig: ["continuity": ["transcriptCacheBytes": 64]],
            simulator: ["httpAnchorsResolve": true]
        )
        let first = try post(#"{"model":"gpt-5.5","input":"remember this"}"#)
        XCTAssertEqual(first.status, 200, first.bodyText)
        let id = try XCTUnwrap(first.responseID)
        let owner = try XCTUnwrap(servedBy().first)
        try injectFault(account: owner, "token_invalidated")
        try injectFault(account: owner, "token_server_error")
        let next = try post(#"{"model":"gpt-5.5","input":"next","previous_response_id":"\#(id)","stream":true}"#)
        XCTAssertEqual(next.status, 502, next.bodyText)
        let sends = try responsesLog()
        let anchoredElsewhere = sends.filter {
            $0["account"] as? String != owner && $0["has_previous_response_id"] as? Bool == true
        }
        XCTAssertEqual(anchoredElsewhere.count, 0, "stale anchor forwarded to another account: \(sends)")
    }

    /// A 401 whose refresh failed (token endpoint 5xx) is a 401 nothing in this request could cure: the account
    /// cools 5 min (docs/recovery.md, pin_reset row), as after a refresh that was refused again. Until 2026-12-07
    /// it did not cool, and every next request paid the same refusal first.
    func testA401WhoseRefreshFailedCoolsTheAccount() throws {
        try injectFault(account: "acct1", "token_invalidated")
        try injectFault(account: "acct1", "token_server_error")
        let before = Date().timeIntervalSince1970
        let r = try post(#"{"model":"gpt-5.5","input":"hi","stream":true}"#)
        XCTAssertEqual(r.status, 200, r.bodyText)
        XCTAssertEqual(try servedBy(), ["acct1", "acct2"])
        try injectFault(account: "acct1", "token_invalidated", count: 5)
        for _ in 0..<4 { XCTAssertEqual(try post(#"{"model":"gpt-5.5","input":"again"}"#).status, 200) }
        XCTAssertEqual(try servedBy().filter { $0 == "acct1" }.count, 1, "acct1 kept being tried")
        let until = try stack.cooldownsUntil().filter { $0 > 0 }
        XCTAssertEqual(until.count, 1, "acct1 not cooled: \(until)")
        XCTAssertEqual(until.first ?? 0, before + 300, accuracy: 5)
    }
}
