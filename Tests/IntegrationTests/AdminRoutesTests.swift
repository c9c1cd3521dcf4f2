import Foundation
import XCTest

/// The operator routes under `/admin/` (docs/configuration.md, "Admin routes"): the way out of a cooling state
/// before its timed exit, behind a hashed bearer token, and absent without one.
final class AdminRoutesTests: XCTestCase {
    var stack: SightlineStack?

    override func tearDown() { stack?.stop() }

    static let token = "admin-test-FAKE-token"

    func adminStack(_ label: String) throws -> SightlineStack {
        let stack = try SightlineStack(
            label: label,
            extraConfig: ["admin": ["tokenSha256": try AccessControlTests.sha256Hex(Self.token)]]
        )
        self.stack = stack
        return stack
    }

    /// `POST` (or `GET`) `path` on the proxy, with the admin token unless `token` says otherwise.
    func admin(
        _ stack: SightlineStack,
        _ path: String,
        method: String = "POST",
        token: String? = token
    ) throws
        -> ParsedResponse
    {
        let headers = token.map { [("Authorization", "Bearer \($0)")] } ?? []
        guard method == "POST" else {
            return try HTTPTestClient.get(port: stack.proxyPort, path: path, headers: headers)
        }
        return try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(path: path, json: "{}", headers: headers)
        )
    }

    func post(_ stack: SightlineStack, _ json: String) throws -> ParsedResponse {
        try HTTPTestClient.exchange(port: stack.proxyPort, HTTPTestClient.post(path: "/v1/responses", json: json))
    }

    func testWithoutATokenTheRoutesDoNotExist() throws {
        let stack = try SightlineStack(label: "admin-off")
        self.stack = stack
        let r = try admin(stack, "/admin/tombstones/purge")
        XCTAssertEqual(r.status, 404)
        XCTAssertEqual(r.errorObject?["code"] as? String, "not_found", "the same 404 as any unknown path")
        XCTAssertEqual(
            try stack.metric(#"sightline_requests_total{route="other",status_class="4xx",transport="http"}"#),
            1
        )
        XCTAssertEqual(try stack.metric(#"sightline_admin_actions_total{action="purge_tombstones"}"#), 0)
    }

    /// An account cooled for 15 min by a usage limit is back at once, for the selector, the gauges and the
    /// state file, and stays back across a restart. Only the token opens the route.
    func testAReinstatedAccountIsBackAtOnceAndAfterARestart() throws {
        let stack = try adminStack("admin-reinstate")
        try stack.injectFault(account: "acct1", "usage_limit", params: ["resets_in_seconds": 900])
        XCTAssertEqual(try post(stack, #"{"model":"gpt-5.5","input":"one"}"#).status, 200)
        XCTAssertEqual(try stack.coolingAccounts(), 1)
        // Written off the event loop (`AccountStateWriter`), so just after the answer rather than before it.
        XCTAssertTrue(try poll(timeout: 5) { (try stack.persistedCooldown("acct1") ?? nil) != nil }, "persisted")

        let anonymous = try admin(stack, "/admin/accounts/acct1/reinstate", token: nil)
        XCTAssertEqual(anonymous.status, 401)
        XCTAssertEqual(anonymous.errorObject?["code"] as? String, "invalid_admin_token")
        XCTAssertEqual(anonymous.headers["www-authenticate"], "Bearer")
        XCTAssertEqual(try admin(stack, "/admin/accounts/acct1/reinstate", token: "admin-test-FAKE-tokeN").status, 401)
        XCTAssertEqual(
            try stack.metric(#"sightline_http_protocol_errors_total{reason="admin_unauthorized"}"#),
            2
        )
        XCTAssertEqual(try stack.coolingAccounts(), 1, "nothing changed without the token")

        let ok = try admin(stack, "/admin/accounts/acct1/reinstate")
        XCTAssertEqual(ok.status, 200, ok.bodyText)
        let body = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(ok.body)) as? [String: Any])
        XCTAssertEqual(body["state"] as? String, "active")
        XCTAssertEqual(body["was_cooling"] as? Bool, true)
        XCTAssertEqual(body["persisted"] as? Bool, true, "answered once accounts.json took it")
        XCTAssertEqual(try stack.coolingAccounts(), 0)
        XCTAssertEqual(try stack.cooldownsUntil(), [0, 0, 0])
        XCTAssertEqual(try stack.metric("sightline_pool_available_accounts"), 3)
        XCTAssertEqual(try stack.metric(#"sightline_admin_actions_total{action="reinstate_account"}"#), 1)
        XCTAssertEqual(
            try stack.metric(#"sightline_requests_total{route="admin",status_class="2xx",transport="http"}"#),
            1
        )
        XCTAssertEqual(try stack.persistedCooldown("acct1"), .some(nil), "the persisted cooldown is cleared too")
        let record = try XCTUnwrap(stack.awaitLogRecords(event: "sightline.admin", count: 1).first)
        XCTAssertEqual(record["severity_text"] as? String, "WARN")
        let attributes = try XCTUnwrap(record["attributes"] as? [String: Any])
        XCTAssertEqual(attributes["sightline.admin.action"] as? String, "reinstate_account")
        XCTAssertTrue((attributes["sightline.account"] as? String ?? "").hasPrefix("acct_"), "\(attributes)")

        // Already active: nothing was written, so the answer makes no claim about the file.
        let again = try admin(stack, "/admin/accounts/acct1/reinstate")
        XCTAssertEqual(again.bodyText, #"{"account":"acct1","state":"active","was_cooling":false}"#)

        XCTAssertEqual(
            try admin(stack, "/admin/accounts/nobody/reinstate").errorObject?["code"] as? String,
            "unknown_account"
        )
        XCTAssertEqual(try admin(stack, "/admin/accounts/acct1/reinstate", method: "GET").status, 405)
        XCTAssertEqual(try admin(stack, "/admin/accounts").status, 404)

        try stack.restartProxy()
        XCTAssertEqual(try stack.coolingAccounts(), 0, "a restart does not bring the cooldown back")
    }

    /// A reinstatement that `accounts.json` did not take still puts the account back, and says so: `persisted`
    /// false, and the failed write counted. Until 2026-12-07 its answer was the same as a written one's.
    func testAReinstatementTheFileDidNotTakeSaysSo() throws {
        let stack = try adminStack("admin-unpersisted")
        try stack.injectFault(account: "acct1", "usage_limit", params: ["resets_in_seconds": 900])
        XCTAssertEqual(try post(stack, #"{"model":"gpt-5.5","input":"one"}"#).status, 200)
        XCTAssertTrue(try poll(timeout: 5) { (try stack.persistedCooldown("acct1") ?? nil) != nil }, "persisted")
        try stack.freezeStateDirectory(until: self)

        let answer = try admin(stack, "/admin/accounts/acct1/reinstate")
        XCTAssertEqual(answer.status, 200, answer.bodyText)
        XCTAssertEqual(
            answer.bodyText,
            #"{"account":"acct1","state":"active","was_cooling":true,"persisted":false}"#
        )
        XCTAssertEqual(try stack.coolingAccounts(), 0, "back in rotation all the same")
        // At least the reinstatement's write; the continuity timer's catch-up may have failed since, too.
        XCTAssertGreaterThanOrEqual(
            try stack.metric(#"sightline_state_write_failures_total{file="accounts",reason="permission_denied"}"#),
            1
        )
        XCTAssertNotEqual(try stack.persistedCooldown("acct1"), .some(nil), "the file still holds the cooldown")
    }

    /// A dead anchor is answered at once for 2 h; a purge lets it go upstream again, where the upstream decides.
    func testPurgedTombstonesLetAnAnchorGoUpstreamAgain() throws {
        let stack = try adminStack("admin-purge")
        let anchored =
            #"{"model":"gpt-5.5","input":"next","previous_response_id":"resp_sim_deadbeef0002","stream":true}"#
        XCTAssertEqual(try post(stack, anchored).status, 502, "masked, and tombstoned")
        let sent = try stack.simulatorLog().count
        XCTAssertEqual(try post(stack, anchored).status, 502)
        XCTAssertEqual(try stack.simulatorLog().count, sent, "a dead anchor never goes upstream")
        XCTAssertEqual(
            try stack.metric(#"sightline_recovery_decisions_total{decision="dead_anchor",outcome="attempted"}"#),
            1
        )

        let purged = try admin(stack, "/admin/tombstones/purge")
        XCTAssertEqual(purged.status, 200, purged.bodyText)
        XCTAssertEqual(purged.bodyText, #"{"purged":1}"#)
        XCTAssertEqual(try stack.metric(#"sightline_admin_actions_total{action="purge_tombstones"}"#), 1)
        XCTAssertEqual(try post(stack, anchored).status, 502)
        XCTAssertGreaterThan(try stack.simulatorLog().count, sent, "upstream again")
        XCTAssertEqual(
            try stack.metric(#"sightline_recovery_decisions_total{decision="dead_anchor",outcome="attempted"}"#),
            1,
            "not answered as dead"
        )
        XCTAssertFalse(stack.allOutput().contains(Self.token), "the token never reaches a log")
    }
}
