import Foundation
import XCTest

/// Issue 4 acceptance: stickiness with growing cached tokens (OpenAI SDK and Codex CLI), token refresh on
/// 401 with rotation persisted, a terminal refresh error taking the account out, and stickiness that
/// survives a restart.
final class AccountsContinuityTests: XCTestCase {
    var stack: SightlineStack!

    override func setUpWithError() throws {
        stack = try SightlineStack(label: "accounts", extraConfig: ["continuity": ["snapshotSeconds": 1]])
    }

    override func tearDown() {
        stack?.stop()
    }

    func simulatorRequests() throws -> [[String: Any]] {
        let r = try HTTPTestClient.get(port: stack.simulatorPort, path: "/__sim/requests")
        return (try JSONSerialization.jsonObject(with: Data(r.body)) as? [[String: Any]] ?? [])
            .filter { ($0["path"] as? String ?? "").hasSuffix("/responses") }
    }

    func simulatorAccounts() throws -> [String: [String: Any]] {
        let r = try HTTPTestClient.get(port: stack.simulatorPort, path: "/__sim/accounts")
        let list = try JSONSerialization.jsonObject(with: Data(r.body)) as? [[String: Any]] ?? []
        var out: [String: [String: Any]] = [:]
        for a in list { if let n = a["name"] as? String { out[n] = a } }
        return out
    }

    func metrics() throws -> String { try HTTPTestClient.get(port: stack.proxyPort, path: "/metrics").bodyText }

    func admin(_ path: String) throws {
        let r = try HTTPTestClient.exchange(port: stack.simulatorPort, HTTPTestClient.post(path: path, json: "{}"))
        XCTAssertEqual(r.status, 200, r.bodyText)
    }

    func post(_ json: String) throws -> ParsedResponse {
        try HTTPTestClient.exchange(port: stack.proxyPort, HTTPTestClient.post(path: "/v1/responses", json: json))
    }

    func runSDKConversation(turns: Int, chain: Bool) throws -> [[String: Any]] {
        let out = try RealClients.sdkScript(
            stack,
            "openai_sdk_conversation.py",
            arguments: [String(turns)] + (chain ? ["--chain"] : [])
        )
        return try XCTUnwrap(out["turns"] as? [[String: Any]])
    }

    func testSDKConversationStaysOnOneAccountAndCachedTokensGrow() throws {
        let turns = try runSDKConversation(turns: 4, chain: false)
        let cached = turns.map { $0["cached_tokens"] as? Int ?? -1 }
        XCTAssertEqual(cached.first, 0)
        for i in 1..<cached.count {
            XCTAssertGreaterThan(cached[i], cached[i - 1], "cached tokens must grow: \(cached)")
        }
        let accounts = Set(try simulatorRequests().compactMap { $0["account"] as? String })
        XCTAssertEqual(accounts.count, 1, "one conversation, one account: \(accounts)")
    }

    /// `sightline_affinity_lookups_total` counts lookups of a `previous_response_id` (docs/metrics.md), which
    /// `SightlineAffinityMissRatioHigh` reads as anchors that lost their account. A conversation's requests that
    /// carry no anchor look nothing up: counted, the first request of every new conversation was a `miss`, so
    /// short conversations alone fired the alert, and an anchored request with a continuity key counted twice.
    func testOnlyPreviousResponseIDsCountAsAffinityLookups() throws {
        let first = try post(#"{"model":"gpt-5.5","input":"one","prompt_cache_key":"conv-A"}"#)
        XCTAssertEqual(first.status, 200, first.bodyText)
        let anchor = try XCTUnwrap(first.responseID)
        XCTAssertEqual(try post(#"{"model":"gpt-5.5","input":"two","prompt_cache_key":"conv-A"}"#).status, 200)
        XCTAssertEqual(try post(#"{"model":"gpt-5.5","input":"other","prompt_cache_key":"conv-B"}"#).status, 200)
        var m = try metrics()
        for result in ["hit", "miss", "expired"] {
            XCTAssertTrue(m.contains(#"sightline_affinity_lookups_total{result="\#(result)"} 0"#), m)
        }
        let anchored = try post(
            #"{"model":"gpt-5.5","input":"three","prompt_cache_key":"conv-A","previous_response_id":"\#(anchor)"}"#
        )
        XCTAssertEqual(anchored.status, 200, anchored.bodyText)
        m = try metrics()
        XCTAssertTrue(m.contains(#"sightline_affinity_lookups_total{result="hit"} 1"#), m)
        XCTAssertTrue(m.contains(#"sightline_affinity_lookups_total{result="miss"} 0"#), m)
    }

    func testExplicitAnchorsAreExpandedLosslesslyFromTheTranscript() throws {
        let turns = try runSDKConversation(turns: 3, chain: true)
        XCTAssertEqual(turns.count, 3)
        let requests = try simulatorRequests()
        XCTAssertEqual(requests.count, 3)
        XCTAssertTrue(
            requests.allSatisfy { $0["has_previous_response_id"] as? Bool == false },
            "the Codex backend cannot resolve anchors over HTTP: none may be forwarded"
        )
        let items = requests.map { $0["input_item_count"] as? Int ?? -1 }
        XCTAssertEqual(items[1], items[0] + 2, "turn 2 = turn 1 input + its output + the new message: \(items)")
        XCTAssertEqual(items[2], items[1] + 2, "\(items)")
        let cached = turns.map { $0["cached_tokens"] as? Int ?? -1 }
        XCTAssertGreaterThan(cached[2], cached[1], "replayed history keeps hitting the cache: \(cached)")
        let m = try metrics()
        XCTAssertTrue(
            m.contains(#"sightline_recovery_decisions_total{decision="transcript_replay",outcome="attempted"} 2"#),
            m
        )
        XCTAssertTrue(
            m.contains(#"sightline_recovery_decisions_total{decision="transcript_replay",outcome="succeeded"} 2"#)
        )
    }

    /// The SDK does not ask for `include: ["reasoning.encrypted_content"]`, so a reasoning model's reasoning items
    /// come without content: the backend can only find them by id, and with the `store:false` the pool forces it
    /// kept none. A replay that carried them was a 404 on every chained turn after the first; the proxy leaves them
    /// out (docs/recovery.md, what the transcript cache holds).
    func testChainedSDKTurnsWithReasoningWithoutIncludeAreReplayed() throws {
        stack.stop()
        stack = try SightlineStack(label: "accounts-reasoning", simulator: ["reasoningItems": true])
        let turns = try runSDKConversation(turns: 3, chain: true)
        XCTAssertEqual(turns.count, 3)
        let requests = try simulatorRequests()
        XCTAssertEqual(requests.map { $0["status"] as? Int }, [200, 200, 200], "\(requests)")
        XCTAssertTrue(requests.allSatisfy { $0["has_previous_response_id"] as? Bool == false }, "\(requests)")
        // Each turn: the history, the answer's message (its reasoning item left out) and the new message.
        XCTAssertEqual(requests.map { $0["input_item_count"] as? Int }, [2, 4, 6], "\(requests)")
        let m = try metrics()
        for outcome in ["attempted", "succeeded"] {
            XCTAssertTrue(
                m.contains(
                    #"sightline_recovery_decisions_total{decision="transcript_replay",outcome="\#(outcome)"} 2"#
                ),
                m
            )
        }
    }

    /// The same client resending its whole history instead of chaining: its own input holds those reasoning items,
    /// and the backend's 404 ended the conversation at its second turn. The proxy leaves them out before sending.
    func testSDKTurnsResendingReasoningWithoutIncludeAreServed() throws {
        stack.stop()
        stack = try SightlineStack(label: "accounts-reasoning-resent", simulator: ["reasoningItems": true])
        let turns = try runSDKConversation(turns: 3, chain: false)
        XCTAssertEqual(turns.count, 3)
        let requests = try simulatorRequests()
        XCTAssertEqual(requests.map { $0["status"] as? Int }, [200, 200, 200], "\(requests)")
        // The client sends 2, 5 and 8 items: each answer's reasoning item is left out.
        XCTAssertEqual(requests.map { $0["input_item_count"] as? Int }, [2, 4, 6], "\(requests)")
        XCTAssertTrue(try poll(timeout: 5) { try stack.decision("reasoning_strip").succeeded == 2 })
        XCTAssertEqual(try stack.decision("reasoning_strip").attempted, 2)
    }

    func testRefreshOn401RotatesAndPersistsTheNewToken() throws {
        XCTAssertEqual(try post(#"{"model":"gpt-5.5","input":"warm","prompt_cache_key":"r1"}"#).status, 200)
        try admin("/__sim/accounts/acct1/invalidate-access")
        let r = try post(#"{"model":"gpt-5.5","input":"after invalidation","prompt_cache_key":"r1","stream":true}"#)
        XCTAssertEqual(r.status, 200, r.bodyText)
        XCTAssertTrue(r.bodyText.contains("(acct1)"), "served by the same account after its refresh")
        let sim = try XCTUnwrap(try simulatorAccounts()["acct1"])
        XCTAssertEqual(sim["refresh_generation"] as? Int, 1)
        let current = try XCTUnwrap(sim["refresh_token"] as? String)
        let stateFile = stack.directory.appendingPathComponent("state/accounts.json")
        let state = try String(contentsOf: stateFile, encoding: .utf8)
        XCTAssertTrue(state.contains(current), "the rotated refresh token is persisted")
        let attrs = try FileManager.default.attributesOfItem(atPath: stateFile.path)
        XCTAssertEqual((attrs[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        let m = try metrics()
        XCTAssertTrue(
            m.contains(#"sightline_recovery_decisions_total{decision="token_refresh",outcome="attempted"} 1"#),
            m
        )
        XCTAssertTrue(
            m.contains(#"sightline_recovery_decisions_total{decision="token_refresh",outcome="succeeded"} 1"#)
        )
        XCTAssertEqual(
            m.split(separator: "\n").filter {
                $0.hasPrefix("sightline_token_refreshes_total{") && $0.contains(#"outcome="success""#)
                    && $0.hasSuffix(" 1")
            }.count,
            1
        )
        XCTAssertFalse(stack.allOutput().contains(current), "tokens never reach logs")
    }

    func testTerminalRefreshErrorTakesTheAccountOut() throws {
        XCTAssertEqual(try post(#"{"model":"gpt-5.5","input":"warm","prompt_cache_key":"t1"}"#).status, 200)
        try admin("/__sim/accounts/acct1/invalidate-refresh")
        try admin("/__sim/accounts/acct1/invalidate-access")
        let r = try post(#"{"model":"gpt-5.5","input":"after","prompt_cache_key":"t1"}"#)
        XCTAssertEqual(r.status, 200, r.bodyText)
        XCTAssertTrue(r.bodyText.contains("(acct2)") || r.bodyText.contains("(acct3)"), r.bodyText)
        let m = try metrics()
        let reauth = m.split(separator: "\n").filter {
            $0.hasPrefix("sightline_account_state{") && $0.contains(#"state="reauth_required""#) && $0.hasSuffix(" 1")
        }
        XCTAssertEqual(reauth.count, 1, m)
        XCTAssertTrue(m.contains(#"sightline_recovery_decisions_total{decision="pin_reset",outcome="succeeded"} 1"#), m)
        XCTAssertTrue(m.contains(#"sightline_recovery_decisions_total{decision="token_refresh",outcome="gave_up"} 1"#))
        // It stays out: later requests never touch acct1, even across a restart.
        try stack.restartProxy()
        for i in 0..<3 { XCTAssertEqual(try post(#"{"model":"gpt-5.5","input":"later \#(i)"}"#).status, 200) }
        let after = try simulatorRequests().suffix(3).compactMap { $0["account"] as? String }
        XCTAssertFalse(after.contains("acct1"), "\(after)")
    }

    func testStickinessSurvivesARestart() throws {
        // Conversation K lands on acct2 because acct1 fails once; a fresh selection would pick acct1.
        let fault = #"{"account":"acct1","fault":"server_error","count":1}"#
        XCTAssertEqual(
            try HTTPTestClient.exchange(
                port: stack.simulatorPort,
                HTTPTestClient.post(path: "/__sim/faults", json: fault)
            ).status,
            200
        )
        XCTAssertEqual(try post(#"{"model":"gpt-5.5","input":"one","prompt_cache_key":"K"}"#).status, 200)
        XCTAssertEqual(try simulatorRequests().last?["account"] as? String, "acct2")
        try stack.restartProxy()
        XCTAssertEqual(try post(#"{"model":"gpt-5.5","input":"two","prompt_cache_key":"K"}"#).status, 200)
        XCTAssertEqual(try simulatorRequests().last?["account"] as? String, "acct2", "sticky after restart")
    }

    /// Affinity entries survive a restart with a reordered pool: they name their account by pseudonym, not by
    /// its place in the list, so an anchor still goes to the account whose upstream can resolve it (API-key
    /// accounts, which resolve response ids of their own organisation over HTTP).
    func testAnchorsFollowTheirAccountWhenThePoolIsReordered() throws {
        stack.stop()
        stack = try SightlineStack(
            label: "reorder",
            extraConfig: ["continuity": ["snapshotSeconds": 1]],
            simulator: ["httpAnchorsResolve": true],
            accounts: SightlineStack.apiKeyAccounts(2)
        )
        let first = try post(#"{"model":"gpt-5.5","input":"first"}"#)
        XCTAssertEqual(first.status, 200, first.bodyText)
        let anchor = try XCTUnwrap(first.responseID)
        let owner = try XCTUnwrap(simulatorRequests().last?["account"] as? String)
        // A clean stop writes the snapshot; the new process lists the accounts the other way round and holds
        // no transcript, so only the anchor's own account can continue it.
        try stack.restartProxy(accounts: { $0.reversed() })
        let next = try post(#"{"model":"gpt-5.5","input":"second","previous_response_id":"\#(anchor)","stream":true}"#)
        XCTAssertEqual(next.status, 200, next.bodyText)
        XCTAssertTrue(next.bodyText.contains("response.completed"), next.bodyText)
        XCTAssertEqual(try simulatorRequests().last?["account"] as? String, owner, "routed to the anchor's account")
        let m = try metrics()
        XCTAssertTrue(m.contains(#"sightline_affinity_lookups_total{result="hit"} 1"#), m)
        XCTAssertTrue(m.contains(#"decision="masked_continuity_loss",outcome="attempted"} 0"#), m)
    }

    /// A turn whose anchor went as it came to the API-key account that owns it is stored as the anchor's
    /// transcript plus its own items. When that account then hits its limit, the next turn is replayed on the
    /// other account; until 2026-12-07 the forwarded turn was never stored, and the conversation was masked as lost.
    func testAForwardedAnchorsTurnIsStoredSoItCanBeReplayedElsewhere() throws {
        stack.stop()
        stack = try SightlineStack(
            label: "forwarded-chain",
            simulator: ["httpAnchorsResolve": true],
            accounts: SightlineStack.apiKeyAccounts(2)
        )
        let r1 = try XCTUnwrap(try post(#"{"model":"gpt-5.5","input":"first"}"#).responseID)
        let second = try post(#"{"model":"gpt-5.5","input":"second","previous_response_id":"\#(r1)"}"#)
        let r2 = try XCTUnwrap(second.responseID, second.bodyText)
        let log = try simulatorRequests()
        XCTAssertEqual(log.last?["has_previous_response_id"] as? Bool, true, "forwarded as it came: \(log)")
        let owner = try XCTUnwrap(log.last?["account"] as? String)
        try stack.injectFault(account: owner, "usage_limit", params: ["resets_in_seconds": 600])
        let third = try post(#"{"model":"gpt-5.5","input":"third","previous_response_id":"\#(r2)","stream":true}"#)
        XCTAssertEqual(third.status, 200, third.bodyText)
        XCTAssertTrue(third.bodyText.contains("response.completed"), third.bodyText)
        let last = try XCTUnwrap(simulatorRequests().last)
        XCTAssertNotEqual(last["account"] as? String, owner, "\(last)")
        XCTAssertEqual(last["input_item_count"] as? Int, 5, "first, answer, second, answer, third: \(last)")
        let m = try metrics()
        XCTAssertTrue(m.contains(#"decision="masked_continuity_loss",outcome="attempted"} 0"#), m)
        XCTAssertTrue(m.contains(#"decision="transcript_replay",outcome="succeeded"} 1"#), m)
    }

    /// An answer cut by `max_output_tokens` (`response.incomplete`) is continued from: its id is an anchor like a
    /// completed one's, replayed from its transcript (until 2026-12-07, a masked loss with the anchor tombstoned).
    func testAnIncompleteResponseIsAnAnchorToContinueFrom() throws {
        let first = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(
                path: "/v1/responses",
                json: #"{"model":"gpt-5.5","input":"long answer please","prompt_cache_key":"incomplete-1"}"#,
                headers: [("x-sim-fault", "response_incomplete")]
            )
        )
        XCTAssertEqual(first.status, 200, first.bodyText)
        XCTAssertTrue(first.bodyText.contains(#""status":"incomplete""#), first.bodyText)
        let anchor = try XCTUnwrap(first.responseID)
        let next = try post(
            #"{"model":"gpt-5.5","input":"go on","previous_response_id":"\#(anchor)","prompt_cache_key":"incomplete-1"}"#
        )
        XCTAssertEqual(next.status, 200, next.bodyText)
        XCTAssertEqual(try simulatorRequests().last?["has_previous_response_id"] as? Bool, false)
        let m = try metrics()
        XCTAssertTrue(m.contains(#"decision="masked_continuity_loss",outcome="attempted"} 0"#), m)
        XCTAssertTrue(m.contains(#"decision="transcript_replay",outcome="succeeded"} 1"#), m)
    }

    /// `sightline accounts import` while `serve` runs, then a token refresh makes the proxy rewrite the state
    /// file: the imported account must still be in it (it used to be written away).
    func testAnImportWhileServingSurvivesTheProxysNextWrite() throws {
        let auth = stack.directory.appendingPathComponent("auth-import.json")
        try Data(#"{"auth_mode":"apikey","OPENAI_API_KEY":"sk-import-FAKE-0000","tokens":null}"#.utf8).write(to: auth)
        let importer = try ChildProcess(
            name: "accounts-import",
            executable: TestEnvironment.sightlineBinary,
            arguments: [
                "accounts", "import", auth.path, "--state-dir", stack.directory.appendingPathComponent("state").path,
                "--name", "imported-while-serving",
            ],
            directory: stack.directory
        )
        XCTAssertEqual(importer.waitForExit(timeout: 10), 0, importer.stderr)
        // A refresh rotates acct1's tokens, which the proxy persists by rewriting the file.
        XCTAssertEqual(try post(#"{"model":"gpt-5.5","input":"warm","prompt_cache_key":"i1"}"#).status, 200)
        try admin("/__sim/accounts/acct1/invalidate-access")
        XCTAssertEqual(try post(#"{"model":"gpt-5.5","input":"again","prompt_cache_key":"i1"}"#).status, 200)
        let current = try XCTUnwrap(try simulatorAccounts()["acct1"]?["refresh_token"] as? String)
        let state = try String(
            contentsOf: stack.directory.appendingPathComponent("state/accounts.json"),
            encoding: .utf8
        )
        XCTAssertTrue(state.contains(current), "the rotation was written")
        XCTAssertTrue(state.contains("imported-while-serving"), "and the import is still there")
        XCTAssertTrue(state.contains("sk-import-FAKE-0000"))
    }

    /// The operator fixes a `reauth_required` account with `sightline accounts import` while the proxy runs: within
    /// `continuity.snapshotSeconds` (1 s here) it is back in rotation with the new login, no restart.
    func testAReimportBringsAReauthAccountBackWithoutARestart() throws {
        XCTAssertEqual(try post(#"{"model":"gpt-5.5","input":"warm","prompt_cache_key":"z1"}"#).status, 200)
        try admin("/__sim/accounts/acct1/invalidate-refresh")
        try admin("/__sim/accounts/acct1/invalidate-access")
        XCTAssertEqual(try post(#"{"model":"gpt-5.5","input":"after","prompt_cache_key":"z1"}"#).status, 200)
        XCTAssertEqual(try stack.metric("sightline_pool_available_accounts"), 2, "acct1 is out: reauth_required")

        let login = try HTTPTestClient.exchange(
            port: stack.simulatorPort,
            HTTPTestClient.post(path: "/__sim/accounts/acct1/login", json: "{}")
        )
        XCTAssertEqual(login.status, 200, login.bodyText)
        let tokens = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(login.body)) as? [String: Any])
        let auth: [String: Any] = [
            "auth_mode": "chatgpt",
            "tokens": [
                "access_token": tokens["access_token"] as? String ?? "",
                "refresh_token": tokens["refresh_token"] as? String ?? "",
                "id_token": tokens["id_token"] as? String ?? "", "account_id": tokens["account_id"] as? String ?? "",
            ],
        ]
        let authFile = stack.directory.appendingPathComponent("auth-relogin.json")
        try JSONSerialization.data(withJSONObject: auth).write(to: authFile)
        let importer = try ChildProcess(
            name: "accounts-import-relogin",
            executable: TestEnvironment.sightlineBinary,
            arguments: [
                "accounts", "import", authFile.path, "--state-dir",
                stack.directory.appendingPathComponent("state").path, "--name", "acct1",
            ],
            directory: stack.directory
        )
        XCTAssertEqual(importer.waitForExit(timeout: 10), 0, importer.stderr)
        XCTAssertTrue(
            poll(timeout: 10) { (try? self.stack.metric("sightline_pool_available_accounts")) == 3 },
            "acct1 never came back"
        )
        let records = stack.awaitLogRecords(event: "sightline.account", count: 2).filter {
            ($0["attributes"] as? [String: Any])?["sightline.account.reason"] as? String == "reauthenticated"
        }
        XCTAssertEqual(records.count, 1)
        XCTAssertEqual(stack.awaitLogRecords(event: "sightline.account_store", count: 1).count, 1, "logged once")
        // And it serves with the imported login: acct1 is first in configuration order among equals.
        var servedByAcct1 = false
        for i in 0..<3 where !servedByAcct1 {
            let r = try post(#"{"model":"gpt-5.5","input":"back \#(i)"}"#)
            XCTAssertEqual(r.status, 200, r.bodyText)
            servedByAcct1 = try simulatorRequests().last?["account"] as? String == "acct1"
        }
        XCTAssertTrue(servedByAcct1, "acct1 served again")
        XCTAssertFalse(stack.allOutput().contains(tokens["refresh_token"] as? String ?? "-"), "tokens never logged")
    }
}
