import Foundation
import HTTPServer
import XCTest

@testable import CodexSimulator

/// Every fault's documented wire result, the token endpoint and the admin API.
final class SimulatorEngineTests: XCTestCase {
    let path = "/backend-api/codex/responses"

    private func withFault(_ h: Harness, _ fault: String) -> RecordingSink {
        let sink = h.send("POST", path, headers: Requests.chatgpt(1, [("x-sim-fault", fault)]), body: Requests.body())
        sink.waitFinished()
        return sink
    }

    func testStatusFaults() throws {
        let h = Harness()
        let cases: [(String, Int, String?)] = [
            ("rate_limit_no_code", 429, nil),
            ("token_invalidated", 401, "token_invalidated"),
            ("unauthorized", 401, nil),
            ("payment_required", 402, "payment_required"),
            ("forbidden", 403, "forbidden"),
            ("server_error", 500, "server_error"),
            ("bad_gateway", 502, "bad_gateway"),
            ("overloaded", 503, "server_is_overloaded"),
            ("previous_response_not_found;id=resp_old", 400, "previous_response_not_found"),
        ]
        for (fault, status, code) in cases {
            let sink = withFault(h, fault)
            XCTAssertEqual(sink.snapshot.status, status, fault)
            let error = try XCTUnwrap(sink.json["error"] as? [String: Any], fault)
            XCTAssertEqual(error["code"] as? String, code, fault)
            XCTAssertNotNil(sink.snapshot.headers["x-codex-primary-used-percent"], fault)
        }
        XCTAssertEqual(
            (withFault(h, "previous_response_not_found;id=resp_old").json["error"] as? [String: Any])?["message"]
                as? String,
            "Previous response with id 'resp_old' not found."
        )
        let faults = h.requests.compactMap { $0["fault"] as? String }
        XCTAssertEqual(faults.count, cases.count + 1)
        XCTAssertEqual(faults.first, "rate_limit_no_code")
    }

    func testUsageLimit() throws {
        let h = Harness()
        let sink = withFault(h, "usage_limit;resets_in_seconds=120")
        XCTAssertEqual(sink.snapshot.status, 429)
        let error = try XCTUnwrap(sink.json["error"] as? [String: Any])
        let now = Int(h.clock.read())
        XCTAssertEqual(error["type"] as? String, "usage_limit_reached")
        XCTAssertEqual(error["plan_type"] as? String, "plus")
        XCTAssertEqual(error["resets_at"] as? Int, now + 120)
        XCTAssertEqual(error["resets_in_seconds"] as? Int, 120)
        XCTAssertEqual(sink.snapshot.headers["x-codex-primary-used-percent"], "100")
        XCTAssertEqual(sink.snapshot.headers["x-codex-primary-reset-at"], String(now + 120))
    }

    /// A parameter out of `Int`'s range fell back to the default (3600 s, 3 events) instead of the bound.
    func testOutOfRangeParametersAreClamped() throws {
        let h = Harness()
        for (raw, seconds) in [("99999999999999999999", 315_360_000), ("-99999999999999999999", -315_360_000)] {
            let sink = withFault(h, "usage_limit;resets_in_seconds=\(raw)")
            let error = try XCTUnwrap(sink.json["error"] as? [String: Any])
            XCTAssertEqual(error["resets_in_seconds"] as? Int, seconds, raw)
        }
        let full = h.send("POST", path, headers: Requests.chatgpt(1), body: Requests.body()).events
        let cut = withFault(h, "stream_cut;after=99999999999999999999")
        XCTAssertTrue(cut.snapshot.aborted)
        XCTAssertEqual(cut.events.count, full.count - 1, "every event but the terminal one")
    }

    /// `resets_at=<number>` puts an odd reset on the wire verbatim, for the proxy's tests of what it does with
    /// one; text that is not a JSON number leaves the usual reset.
    func testUsageLimitCanNameAnOddReset() throws {
        let h = Harness()
        for raw in ["1e400", "1e20", "-1.5E+3", "0"] {
            let sink = withFault(h, "usage_limit;resets_at=\(raw)")
            XCTAssertEqual(sink.snapshot.status, 429, raw)
            let body = String(decoding: sink.snapshot.body, as: UTF8.self)
            XCTAssertTrue(body.contains(#""resets_at":\#(raw),"#), body)
            XCTAssertEqual(sink.snapshot.headers["x-codex-primary-reset-at"], raw)
            XCTAssertEqual(sink.snapshot.headers.values("x-codex-primary-reset-at").count, 1)
        }
        let now = Int(h.clock.read())
        let ignored = withFault(h, "usage_limit;resets_at=soon")
        let error = try XCTUnwrap(ignored.json["error"] as? [String: Any])
        XCTAssertEqual(error["resets_at"] as? Int, now + 3600)
        XCTAssertEqual(ignored.snapshot.headers["x-codex-primary-reset-at"], String(now + 3600))
    }

    /// A number outside `Int`'s range in an admin fault trapped the simulator, and with it an in-process test run.
    func testAdminFaultNumbersOutOfIntRangeDoNotTrap() throws {
        let h = Harness()
        let queued = h.post("/__sim/faults", json: #"{"fault":"usage_limit","resets_at":1e20}"#)
        XCTAssertEqual(queued.snapshot.status, 200)
        let sink = h.send("POST", path, headers: Requests.chatgpt(1), body: Requests.body())
        XCTAssertEqual(sink.snapshot.status, 429)
        XCTAssertTrue(String(decoding: sink.snapshot.body, as: UTF8.self).contains(#""resets_at":1e+20,"#))
        XCTAssertEqual(sink.snapshot.headers["x-codex-primary-reset-at"], "1e+20")
        XCTAssertEqual(h.post("/__sim/standing-fault", json: #"{"fault":"slow","ms":1e19}"#).snapshot.status, 200)
        let random = h.post("/__sim/random-faults", json: #"{"probability":0,"faults":[{"fault":"slow","ms":-1e19}]}"#)
        XCTAssertEqual(random.snapshot.status, 200)
    }

    /// A negative seed trapped; one above Int.max silently became 1, so it replayed seed 1's run.
    func testRandomFaultSeedIsAnyUInt64AndNothingElse() {
        let h = Harness()
        func seed(_ text: String) -> Int? {
            h.post("/__sim/random-faults", json: #"{"probability":0.5,"faults":["server_error"],"seed":\#(text)}"#)
                .snapshot.status
        }
        for bad in ["-1", "-9223372036854775808", "2.5", "18446744073709551616", #""7""#, "[]"] {
            XCTAssertEqual(seed(bad), 400, bad)
        }
        func run(_ text: String) -> [Int?] {
            XCTAssertEqual(seed(text), 200, text)
            return (0..<24).map { _ in
                h.send("POST", path, headers: Requests.chatgpt(1), body: Requests.body()).snapshot.status
            }
        }
        XCTAssertEqual(run("0"), run("0"), "seeded: reproducible")
        XCTAssertNotEqual(run("18446744073709551615"), run("1"))
        XCTAssertEqual(seed("null"), 200)
    }

    func testJSONNumberGrammar() {
        for text in ["0", "-0", "7", "-12", "3.25", "1e400", "1E+5", "2.5e-3", "10"] {
            XCTAssertTrue(JSONText.isNumber(text), text)
        }
        for text in ["", "-", "01", "1.", ".5", "+1", "1e", "1e+", "nan", "inf", "1 ", "0x10", "1.2.3", "--1"] {
            XCTAssertFalse(JSONText.isNumber(text), text)
        }
    }

    func testStreamFaults() throws {
        let h = Harness()
        let cut = withFault(h, "stream_cut;after=3")
        XCTAssertTrue(cut.snapshot.aborted)
        XCTAssertEqual(cut.events.count, 3)

        let failed = withFault(h, "response_failed;code=rate_limit_exceeded")
        XCTAssertTrue(failed.snapshot.ended)
        let response = failed.events.last?["response"] as? [String: Any]
        XCTAssertEqual(failed.events.last?["type"] as? String, "response.failed")
        XCTAssertEqual((response?["error"] as? [String: Any])?["code"] as? String, "rate_limit_exceeded")

        // `after`: output first, then the backend's error event, as on a WebSocket after the turn committed.
        let late = withFault(h, "response_failed;after=5;code=odd_code_7")
        XCTAssertTrue(late.snapshot.ended)
        XCTAssertEqual(late.events.count, 6)
        XCTAssertEqual(late.events[4]["type"] as? String, "response.output_text.delta")
        XCTAssertEqual(late.events.last?["type"] as? String, "error")
        XCTAssertEqual(late.events.last?["sequence_number"] as? Int, 5)
        XCTAssertEqual(late.events.last?["status"] as? Int, 500)
        XCTAssertEqual((late.events.last?["error"] as? [String: Any])?["code"] as? String, "odd_code_7")
        let lateFailed = withFault(h, "response_failed;after=5;mode=failed;code=odd_code_7")
        XCTAssertEqual(lateFailed.events.count, 6)
        XCTAssertEqual(lateFailed.events.last?["type"] as? String, "response.failed")
        XCTAssertEqual(lateFailed.events.last?["sequence_number"] as? Int, 5)
        let failedResponse = lateFailed.events.last?["response"] as? [String: Any]
        XCTAssertEqual((failedResponse?["error"] as? [String: Any])?["code"] as? String, "odd_code_7")

        let lost = withFault(h, "previous_response_not_found_in_stream")
        XCTAssertEqual(lost.snapshot.status, 200)
        XCTAssertEqual(
            ((lost.events.last?["response"] as? [String: Any])?["error"] as? [String: Any])?["code"] as? String,
            "previous_response_not_found"
        )
        let bare = withFault(h, "previous_response_not_found_in_stream;mode=error")
        XCTAssertEqual(bare.events.last?["type"] as? String, "error")
        XCTAssertEqual(bare.events.last?["code"] as? String, "previous_response_not_found")

        XCTAssertEqual(withFault(h, "response_incomplete").events.last?["type"] as? String, "response.incomplete")

        let reset = withFault(h, "connection_reset")
        XCTAssertTrue(reset.snapshot.aborted)
        XCTAssertNil(reset.snapshot.status)

        let slow = withFault(h, "slow;ms=5")
        XCTAssertEqual(slow.events.last?["type"] as? String, "response.completed")
        XCTAssertGreaterThan(slow.snapshot.writes, 5, "a slow stream writes event by event")
    }

    func testSilenceHoldsUntilClientLeaves() {
        let h = Harness()
        let sink = h.send(
            "POST",
            path,
            headers: Requests.chatgpt(1, [("x-sim-fault", "silence")]),
            body: Requests.body()
        )
        XCTAssertEqual(sink.snapshot.status, 200)
        usleep(50_000)  // not synchronisation: proves nothing arrives while silent
        XCTAssertEqual(sink.snapshot.body.count, 0)
        XCTAssertFalse(sink.isFinished)
        h.handler.cancelActiveStreams()
        XCTAssertTrue(sink.snapshot.aborted)

        let timed = h.send(
            "POST",
            path,
            headers: Requests.chatgpt(1, [("x-sim-fault", "silence;ms=20")]),
            body: Requests.body()
        )
        timed.waitFinished()
        XCTAssertEqual(timed.events.last?["type"] as? String, "response.completed")
    }

    func testAdminQueueRandomAndReset() throws {
        let h = Harness()
        XCTAssertEqual(
            h.post("/__sim/faults", json: #"{"account":"acct2","fault":"server_error","count":2}"#).snapshot.status,
            200
        )
        XCTAssertEqual(
            h.post("/__sim/faults", json: #"{"account":"nobody","fault":"server_error"}"#).snapshot.status,
            400
        )
        XCTAssertEqual(h.post("/__sim/faults", json: #"{"fault":"bogus"}"#).snapshot.status, 400)
        let statuses = [1, 2, 2, 2].map { n in
            h.send("POST", path, headers: Requests.chatgpt(n), body: Requests.body()).snapshot.status
        }
        XCTAssertEqual(statuses, [200, 500, 500, 200])

        XCTAssertEqual(
            h.post("/__sim/random-faults", json: #"{"probability":1,"faults":["bad_gateway"],"seed":7}"#).snapshot
                .status,
            200
        )
        XCTAssertEqual(h.send("POST", path, headers: Requests.chatgpt(1), body: Requests.body()).snapshot.status, 502)
        XCTAssertEqual(h.post("/__sim/reset", json: "{}").snapshot.status, 200)
        XCTAssertEqual(h.send("POST", path, headers: Requests.chatgpt(1), body: Requests.body()).snapshot.status, 200)
        XCTAssertEqual(h.requests.count, 1, "reset clears the request log")
    }

    /// Reset rebuilt the state with its id counter while the instance tag stayed, so ids repeated.
    func testIdsDoNotRepeatAfterReset() throws {
        let h = Harness()
        func answer() throws -> (response: String, request: String) {
            let sink = h.send("POST", path, headers: Requests.chatgpt(1), body: Requests.body())
            let response = try XCTUnwrap((sink.events.last?["response"] as? [String: Any])?["id"] as? String)
            return (response, try XCTUnwrap(sink.snapshot.headers["x-request-id"]))
        }
        let before = try answer()
        XCTAssertEqual(h.post("/__sim/reset", json: "{}").snapshot.status, 200)
        let after = try answer()
        XCTAssertNotEqual(before.response, after.response)
        XCTAssertNotEqual(before.request, after.request)
    }

    func testTokenRotationAndAdminInvalidation() throws {
        let h = Harness()
        let client = SimulatorConfiguration.codexClientId
        func refresh(_ token: String, form: Bool = false) -> RecordingSink {
            let body =
                form
                ? "grant_type=refresh_token&refresh_token=\(token)&client_id=\(client)"
                : #"{"grant_type":"refresh_token","refresh_token":"\#(token)","client_id":"\#(client)"}"#
            return h.post("/oauth/token", json: body)
        }
        let first = refresh("sim-refresh-acct1-0")
        XCTAssertEqual(first.snapshot.status, 200)
        XCTAssertEqual(first.json["access_token"] as? String, "sim-access-acct1-1")
        XCTAssertEqual(first.json["refresh_token"] as? String, "sim-refresh-acct1-1")
        XCTAssertEqual(first.json["expires_in"] as? Int, 3600)
        XCTAssertNotNil(first.json["id_token"] as? String)

        let reused = refresh("sim-refresh-acct1-0")
        XCTAssertEqual(reused.snapshot.status, 401)
        XCTAssertEqual((reused.json["error"] as? [String: Any])?["code"] as? String, "refresh_token_reused")
        XCTAssertEqual(refresh("sim-refresh-acct1-1", form: true).snapshot.status, 200)
        XCTAssertEqual((refresh("unknown").json["error"] as? [String: Any])?["code"] as? String, "invalid_grant")

        // The old access token is refused with token_invalidated; the newest works.
        let old = h.send("POST", path, headers: Requests.chatgpt(1), body: Requests.body())
        XCTAssertEqual((old.json["error"] as? [String: Any])?["code"] as? String, "token_invalidated")
        let fresh: HTTPHeaders = ["Authorization": "Bearer sim-access-acct1-2", "chatgpt-account-id": "sim-account-1"]
        XCTAssertEqual(h.send("POST", path, headers: fresh, body: Requests.body()).snapshot.status, 200)

        let accounts =
            (try JSONSerialization.jsonObject(with: Data(h.send("GET", "/__sim/accounts").snapshot.body)))
            as? [[String: Any]]
        XCTAssertEqual(accounts?.first?["refresh_generation"] as? Int, 2)
        XCTAssertEqual(accounts?.count, 3)

        XCTAssertEqual(h.post("/__sim/accounts/acct2/invalidate-refresh", json: "").snapshot.status, 200)
        XCTAssertEqual(
            (refresh("sim-refresh-acct2-0").json["error"] as? [String: Any])?["code"] as? String,
            "refresh_token_invalidated"
        )
        XCTAssertEqual(h.post("/__sim/accounts/acct3/invalidate-access", json: "").snapshot.status, 200)
        XCTAssertEqual(h.send("POST", path, headers: Requests.chatgpt(3), body: Requests.body()).snapshot.status, 401)

        XCTAssertEqual(h.post("/__sim/faults", json: #"{"fault":"token_server_error"}"#).snapshot.status, 200)
        XCTAssertEqual(refresh("sim-refresh-acct3-0").snapshot.status, 500)
        XCTAssertEqual(refresh("sim-refresh-acct3-0").snapshot.status, 200)
    }

    /// A token fault queued for one account fires on that account's refresh, and only there. It was accepted with
    /// 200 and never fired: the token endpoint asked for its fault with no account.
    func testATokenFaultQueuedForAnAccountFiresOnItsRefresh() {
        let h = Harness()
        func refresh(_ token: String) -> RecordingSink {
            h.post(
                "/oauth/token",
                json:
                    #"{"grant_type":"refresh_token","refresh_token":"\#(token)","client_id":"app_EMoamEEZ73f0CkXaXp7hrann"}"#
            )
        }
        let queued = h.post("/__sim/faults", json: #"{"account":"acct1","fault":"token_server_error"}"#)
        XCTAssertEqual(queued.snapshot.status, 200)
        XCTAssertEqual(refresh("sim-refresh-acct2-0").snapshot.status, 200, "another account's refresh")
        XCTAssertEqual(refresh("unknown").snapshot.status, 400, "a token of no account")
        XCTAssertEqual(refresh("sim-refresh-acct1-0").snapshot.status, 500)
        XCTAssertEqual(refresh("sim-refresh-acct1-0").snapshot.status, 200, "consumed")
        let faulted = h.requests.filter { $0["fault"] as? String == "token_server_error" }
        XCTAssertEqual(faulted.map { $0["account"] as? String }, ["acct1"])
    }

    /// A refresh that names no client or another one is refused before its refresh token is looked at: the token
    /// still works for the right client. Until 2026-12-07 any `client_id`, or none, was accepted.
    func testARefreshForAnotherClientIsRefusedAndUsesNoToken() {
        let h = Harness()
        let bodies = [
            #"{"grant_type":"refresh_token","refresh_token":"sim-refresh-acct1-0"}"#,
            #"{"grant_type":"refresh_token","refresh_token":"sim-refresh-acct1-0","client_id":"app_other"}"#,
            "grant_type=refresh_token&refresh_token=sim-refresh-acct1-0&client_id=",
        ]
        for body in bodies {
            let refused = h.post("/oauth/token", json: body)
            XCTAssertEqual(refused.snapshot.status, 401, body)
            XCTAssertEqual((refused.json["error"] as? [String: Any])?["code"] as? String, "invalid_client", body)
        }
        let client = SimulatorConfiguration.codexClientId
        let accepted = h.post(
            "/oauth/token",
            json: #"{"grant_type":"refresh_token","refresh_token":"sim-refresh-acct1-0","client_id":"\#(client)"}"#
        )
        XCTAssertEqual(accepted.snapshot.status, 200, "the refresh token was not spent by the refusals")
    }

    func testAccessTokenExpiry() {
        var configuration = SimulatorConfiguration.demo(accounts: 1)
        configuration.accessTokenLifetimeSeconds = 60
        let h = Harness(configuration)
        XCTAssertEqual(h.send("POST", path, headers: Requests.chatgpt(1), body: Requests.body()).snapshot.status, 200)
        h.clock.advance(61)
        let expired = h.send("POST", path, headers: Requests.chatgpt(1), body: Requests.body())
        XCTAssertEqual((expired.json["error"] as? [String: Any])?["code"] as? String, "token_expired")
    }
}
