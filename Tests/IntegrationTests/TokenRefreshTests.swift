import Foundation
import XCTest

/// The proactive token refresh over HTTP against the simulator's token endpoint (docs/accounts.md, "Token
/// refresh"): one ChatGPT account whose access token is a JWT the proxy reads the expiry of, so a test chooses
/// whether the token is due (within 300 s of `exp`) or already expired without waiting for a clock.
final class TokenRefreshTests: XCTestCase {
    private var stack: SightlineStack!

    override func tearDown() { stack?.stop() }

    /// An unsigned JWT whose `exp` is `expiresIn` seconds from now (negative: already expired).
    static func accessToken(expiresIn: Int) -> String {
        func segment(_ object: [String: Any]) -> String {
            (try! JSONSerialization.data(withJSONObject: object)).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
        let exp = Int(Date().timeIntervalSince1970) + expiresIn
        return segment(["alg": "none"]) + "." + segment(["exp": exp]) + ".sim-unsigned"
    }

    /// A stack whose one account, `acct1`, holds an access token expiring in `expiresIn` seconds, known to both
    /// the simulator (which accepts it whatever its `exp`) and the proxy.
    func oneAccountStack(
        label: String,
        expiresIn: Int,
        simulator settings: [String: Any] = [:]
    ) throws
        -> SightlineStack
    {
        try stack(label: label, expiring: [expiresIn], simulator: settings)
    }

    /// A stack of `expiring.count` accounts `acct1…`; account i holds an access token expiring in `expiring[i]`
    /// seconds, or its usual opaque one (no known expiry) for nil.
    func stack(label: String, expiring: [Int?], simulator settings: [String: Any] = [:]) throws -> SightlineStack {
        let tokens = expiring.map { $0.map(Self.accessToken(expiresIn:)) }
        var simulator = settings
        simulator["accounts"] = tokens.indices.map { i in
            var account = SightlineStack.simulatorAccounts[i]
            if let token = tokens[i] { account["accessToken"] = token }
            return account
        }
        return try SightlineStack(label: label, simulator: simulator) { base in
            tokens.indices.map { i in
                var configured = SightlineStack.demoAccounts(base: base)[i]
                if let token = tokens[i] { configured["accessToken"] = token }
                return configured
            }
        }
    }

    func simulatorAdmin(_ path: String) throws {
        let r = try HTTPTestClient.exchange(port: stack.simulatorPort, HTTPTestClient.post(path: path, json: "{}"))
        XCTAssertEqual(r.status, 200, r.bodyText)
    }

    /// The accounts of the `/responses` requests the simulator received, oldest first.
    func responsesAccounts() throws -> [String] {
        try stack.simulatorLog().filter { ($0["path"] as? String ?? "").hasSuffix("/responses") }
            .map { $0["account"] as? String ?? "-" }
    }

    func post(_ text: String) throws -> ParsedResponse {
        try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(path: "/v1/responses", json: #"{"model":"gpt-5.5","input":"\#(text)"}"#)
        )
    }

    /// acct1's refresh token was rotated by the simulator, and the rotated one is in `accounts.json`: the refresh
    /// finished and was written before the proxy exited.
    func assertTheRotationWasWritten(file: StaticString = #filePath, line: UInt = #line) throws {
        let accounts = try HTTPTestClient.get(port: stack.simulatorPort, path: "/__sim/accounts").bodyText
        let current = try XCTUnwrap(
            (try JSONSerialization.jsonObject(with: Data(accounts.utf8)) as? [[String: Any]])?
                .first { $0["name"] as? String == "acct1" }?["refresh_token"] as? String,
            accounts,
            file: file,
            line: line
        )
        XCTAssertFalse(current.hasSuffix("-0"), "the simulator rotated it: \(current)", file: file, line: line)
        let state = try String(
            contentsOf: stack.directory.appendingPathComponent("state/accounts.json"),
            encoding: .utf8
        )
        XCTAssertTrue(state.contains(current), "the rotation was written before the exit", file: file, line: line)
    }

    func tokenRequests() throws -> Int {
        try stack.simulatorLog().filter { $0["path"] as? String == "/oauth/token" }.count
    }

    /// A token that is due but still valid does not hold the request: it is answered at once, and the refresh
    /// (slow here: 4 s) runs beside it, once for all the requests meanwhile. Every request to the account waited
    /// for the token endpoint, its account slot taken.
    func testARequestWithAValidTokenDoesNotWaitForItsRefresh() throws {
        stack = try oneAccountStack(label: "refresh-background", expiresIn: 200, simulator: ["tokenLatencyMs": 4000])
        for i in 0..<3 {
            let started = Date()
            let r = try post("request \(i)")
            XCTAssertEqual(r.status, 200, r.bodyText)
            XCTAssertLessThan(Date().timeIntervalSince(started), 2.5, "request \(i) waited for the refresh")
        }
        let success = #"outcome="success""#
        XCTAssertTrue(
            poll(timeout: 15) {
                (try? self.stack.metricSum(prefix: "sightline_token_refreshes_total{", containing: success)) == 1
            },
            "the refresh ran beside the requests"
        )
        XCTAssertEqual(try tokenRequests(), 1)
        XCTAssertEqual(try post("after the refresh").status, 200)
    }

    /// A token endpoint answering 5xx is asked once, not once per request: after a transient failure the
    /// account's refresh backs off (30 s, doubling, at most 5 min). Every request to the account posted to
    /// `/oauth/token` again.
    func testATransientRefreshFailureIsNotRetriedOnEveryRequest() throws {
        stack = try oneAccountStack(label: "refresh-backoff", expiresIn: 200)
        try stack.injectFault(account: "acct1", "token_server_error", count: 20)
        for i in 0..<5 { XCTAssertEqual(try post("request \(i)").status, 200) }
        XCTAssertTrue(poll(timeout: 5) { (try? self.tokenRequests()) ?? 0 >= 1 })
        XCTAssertEqual(try tokenRequests(), 1)
        XCTAssertEqual(
            try stack.metricSum(prefix: "sightline_token_refreshes_total{", containing: #"outcome="failure""#),
            1
        )
    }

    /// An expired token whose refresh fails for good is not sent: the account is taken out and the request moves
    /// to another account at once. It went out with the expired token, earned a 401 and spent an attempt.
    func testAnExpiredTokenThatCannotBeRefreshedIsNotSent() throws {
        stack = try stack(label: "refresh-expired-dead", expiring: [-60, nil])
        try simulatorAdmin("/__sim/accounts/acct1/invalidate-refresh")
        try simulatorAdmin("/__sim/accounts/acct1/invalidate-access")  // as the upstream refuses an expired token
        let r = try post("hello")
        XCTAssertEqual(r.status, 200, r.bodyText)
        XCTAssertEqual(try responsesAccounts(), ["acct2"])
        XCTAssertEqual(try stack.upstreamAttempts("http_4xx"), 0)
        XCTAssertEqual(
            try stack.metricSum(prefix: "sightline_account_state{", containing: #"state="reauth_required""#),
            1
        )
        let reset = try stack.decision("pin_reset")
        XCTAssertEqual(reset.attempted, 1)
        XCTAssertEqual(reset.succeeded, 1)
    }

    /// With no other account, the request is answered as after a 401 whose refresh failed for good: a retryable
    /// 502, and nothing sent upstream.
    func testAnExpiredTokenThatCannotBeRefreshedOnALoneAccountIsA502() throws {
        stack = try oneAccountStack(label: "refresh-expired-alone", expiresIn: -60)
        try simulatorAdmin("/__sim/accounts/acct1/invalidate-refresh")
        try simulatorAdmin("/__sim/accounts/acct1/invalidate-access")
        let r = try post("hello")
        XCTAssertEqual(r.status, 502, r.bodyText)
        XCTAssertTrue(r.bodyText.contains("upstream_unavailable"), r.bodyText)
        XCTAssertEqual(try responsesAccounts(), [])
        let reset = try stack.decision("pin_reset")
        XCTAssertEqual(reset.attempted, 1)
        XCTAssertEqual(reset.gaveUp, 1)
    }

    /// One refresh per account, not per request: after acct1's login died, acct2's 401 is refreshed and served,
    /// and acct2 is not cooled as an account a refresh did not cure. Until 2026-12-07 the request's single refresh
    /// was spent on acct1, so acct2's 401 read as uncured: it was cooled for 5 minutes and the client got a 502.
    func testAnotherAccountsTokenIsStillRefreshedAfterTheFirstLoginDied() throws {
        stack = try stack(label: "refresh-per-account", expiring: [-60, nil])
        try simulatorAdmin("/__sim/accounts/acct1/invalidate-refresh")
        try simulatorAdmin("/__sim/accounts/acct1/invalidate-access")
        try simulatorAdmin("/__sim/accounts/acct2/invalidate-access")
        let r = try post("hello")
        XCTAssertEqual(r.status, 200, r.bodyText)
        let sends = try responsesAccounts()
        XCTAssertEqual(sends.count, 2, "refused (a 401 names no account), refreshed, served: \(sends)")
        XCTAssertEqual(sends.last, "acct2")
        XCTAssertEqual(try stack.decision("token_refresh").succeeded, 1)
        XCTAssertEqual(try stack.cooldownsUntil().filter { $0 > 0 }, [], "no account cooled as unauthorized")
    }

    /// A refresh running beside a request when the proxy is told to stop finishes and is written: the rotated
    /// refresh token is in `accounts.json`. Until 2026-12-07 shutdown cancelled it, so a token the OAuth server had
    /// already rotated was lost and the account died after the restart (`refresh_token_reused`).
    func testShutdownLetsABackgroundRefreshFinishAndWritesIt() throws {
        stack = try oneAccountStack(label: "refresh-shutdown", expiresIn: 200, simulator: ["tokenLatencyMs": 1500])
        // The refresh starts with the request (it is in flight before the answer goes out) and takes 1.5 s: the
        // proxy is stopped at once, while it runs.
        XCTAssertEqual(try post("hello").status, 200)
        stack.proxy.stop()
        try assertTheRotationWasWritten()
        XCTAssertTrue(stack.proxy.stdout.contains("\"proxy awaiting token refreshes\""), "the wait is said")
    }

    /// A second signal skips the drain but not a token refresh in flight: its rotated refresh token is still
    /// written before the process exits. Until 2026-12-07 the immediate exit lost it, as the cancelled refresh had.
    func testASecondSignalStillWritesARefreshInFlight() throws {
        stack = try oneAccountStack(label: "refresh-second-signal", expiresIn: 200, simulator: ["tokenLatencyMs": 2000])
        XCTAssertEqual(try post("hello").status, 200)
        stack.proxy.signal(SIGTERM)
        XCTAssertTrue(poll(timeout: 10) { self.stack.proxy.stdout.contains("\"proxy draining\"") }, "the drain began")
        stack.proxy.signal(SIGINT)
        // Both the drain and the second signal wait for the refresh; whichever ends the process first, 0 or 130.
        let status = stack.proxy.waitForExit(timeout: 40)
        XCTAssertTrue(status == 0 || status == 128 + SIGINT, "\(String(describing: status)) \(stack.proxy.stderr)")
        try assertTheRotationWasWritten()
    }
}
