import Foundation
import XCTest

/// Issue 7's live acceptance: a real Prometheus, loaded with `alerts/sightline.rules.yml`, scrapes a proxy
/// that serves fault-injected traffic from the simulator; every dashboard panel query, recording rule and
/// alert expression (as listed by `scripts/dashboard-exprs.sh`) must parse and return data, and the masked
/// continuity-loss alert must go pending while the simulator loses anchors.
///
/// It checks queries, not Grafana: panel layout, units and metric names are checked offline by
/// `Tests/ArtifactTests`, alert thresholds and `for:` by `promtool test rules`.
final class DashboardLiveTests: XCTestCase {
    /// Queries that may legitimately return no series, with the reason. Keep this minimal: a query that is
    /// empty because it is wrong is fixed in the dashboard or rule, never listed here.
    static let allowedEmpty: [String: String] = [
        // ProcessMetrics omits process_max_fds when the soft RLIMIT_NOFILE is unlimited (as client_golang).
        "sightline-overview/21/B File descriptors": "process_max_fds is absent when the fd limit is unlimited"
    ]

    /// Queries that return series but may legitimately read 0 (or NaN) right after this test's traffic.
    /// Everything else must read a non-zero value somewhere, so a panel cannot pass on pre-initialised
    /// zeros alone.
    static let allowedZero: [String: String] = [
        "sightline-accounts/4/A Pool exhausted": "never exhausted: the traffic keeps one account available",
        "SightlinePoolExhausted": "never exhausted: the traffic keeps one account available",
        "sightline-accounts/11/A In-flight per account": "a gauge: nothing is in flight once the traffic stopped",
        "sightline-overview/11/A In-flight requests": "a gauge: nothing is in flight once the traffic stopped",
        "sightline-overview/16/A Client auth failures": "the stack runs without clientKeys, so nothing is refused",
        "sightline-continuity/13/A Foreign anchor refusals": "without clientKeys no anchor has an owner",
        "sightline-overview/17/A Log redactions by detector": "the traffic carries no secret for the logs to redact",
        // Refreshes happen (tokens are invalidated in round 1) but none fails, so the failure views read 0.
        "SightlineTokenRefreshFailures": "every refresh in this traffic succeeds",
        "SightlineAccountReauthRequired": "no refresh fails terminally, so no account needs re-authentication",
        "SightlineStateWriteFailures": "the state directory stays writable, so no state write fails",
        // Strip-retry applies to anchors the proxy itself added (the WebSocket HTTP bridge), not to HTTP turns.
        "SightlineStripRetryRateHigh": "HTTP traffic never carries a proxy-added anchor",
    ]

    func testEveryPanelAndRuleReturnsDataAndTheMaskedLossAlertGoesPending() throws {
        let started = Date()
        let expressions = try DashboardExpression.load()
        XCTAssertGreaterThan(expressions.filter { $0.kind == "panel" }.count, 30, "dashboard-exprs.sh lists panels")
        XCTAssertGreaterThan(expressions.filter { $0.kind == "alert" }.count, 10, "dashboard-exprs.sh lists alerts")

        let stack = try SightlineStack(label: "livedash")
        defer { stack.stop() }
        let rules = TestEnvironment.repoRoot.appendingPathComponent("alerts/sightline.rules.yml").path
        let prometheus = try PrometheusServer(
            scrapeTargets: ["127.0.0.1:\(stack.proxyPort)"],
            directory: stack.directory,
            ruleFiles: [rules],
            evaluationInterval: "1s"
        )
        defer { prometheus.stop() }
        XCTAssertTrue(prometheus.waitForUp(timeout: 30), prometheus.process.stderr)
        XCTAssertTrue(
            poll(timeout: 30) { ((try? prometheus.query("sightline:requests:rate5m")) ?? []).count > 0 },
            "the rule file is loaded and evaluated"
        )

        // One round of traffic per scrape (each round waits until Prometheus has scraped it), until the
        // masked-loss alert is pending and the traffic has lasted long enough for a cooled account to come
        // back and fail over again; bounded by a deadline either way.
        let traffic = LiveTraffic(stack: stack)
        let trafficDeadline = Date().addingTimeInterval(25)
        var maskedAlert: [String: Any]?
        repeat {
            guard try traffic.round() else { break }
            let served = try traffic.proxyAPIRequestCount()
            _ = poll(timeout: 10) { (try? prometheus.value(Self.scrapedAPIRequests)) == served }
            maskedAlert = try prometheus.alerts().first { Self.name(of: $0) == "SightlineMaskedContinuityLossRateHigh" }
        } while (maskedAlert == nil || traffic.rounds < 10 || traffic.failovers < 2) && Date() < trafficDeadline
        let alert = try XCTUnwrap(
            maskedAlert,
            "SightlineMaskedContinuityLossRateHigh never went pending (\(traffic.summary)): "
                + "\((try? prometheus.alerts()) ?? [])"
        )
        XCTAssertTrue(["pending", "firing"].contains(alert["state"] as? String ?? ""), "\(alert)")
        XCTAssertEqual((alert["labels"] as? [String: Any])?["job"] as? String, "sightline")
        XCTAssertEqual((alert["labels"] as? [String: Any])?["severity"] as? String, "warning")
        XCTAssertGreaterThanOrEqual(traffic.failovers, 2, "a few 5xx failovers (\(traffic.summary))")

        // Prometheus has the final counts, so every family's last increase is in the TSDB.
        let served = try traffic.proxyAPIRequestCount()
        XCTAssertTrue(
            poll(timeout: 20) { (try? prometheus.value(Self.scrapedAPIRequests)) == served },
            "Prometheus never scraped the \(served) API requests the proxy counted"
        )

        var empty: [String] = []
        var zero: [String] = []
        for expression in expressions {
            for query in expression.queries {
                let result: [[String: Any]]
                do {
                    result = try prometheus.query(query)
                } catch {
                    XCTFail("\(expression.kind) \(expression.source) does not run: \(error)\n  \(query)")
                    continue
                }
                if result.isEmpty {
                    empty.append(expression.source)
                } else if !result.contains(where: { Self.isNonZero($0) }) {
                    zero.append(expression.source)
                }
            }
        }
        let unexpectedEmpty = Set(empty).subtracting(Self.allowedEmpty.keys)
        XCTAssertEqual(unexpectedEmpty, [], "queries with no series (fix the query, or justify it in allowedEmpty)")
        let unexpectedZero = Set(zero).subtracting(Self.allowedZero.keys).subtracting(Self.allowedEmpty.keys)
        XCTAssertEqual(unexpectedZero, [], "queries reading only 0/NaN after the traffic (\(traffic.summary))")

        // An unrelated alert stays quiet: the target is up and nothing pages for it.
        XCTAssertEqual(try prometheus.value(#"up{job="sightline"}"#), 1)
        let active = try prometheus.alerts().map { Self.name(of: $0) }
        XCTAssertFalse(active.contains("SightlineTargetDown"), "\(active)")
        XCTAssertFalse(active.contains("SightlinePoolExhausted"), "\(active)")
        print(
            "DashboardLiveTests: \(expressions.count) expressions checked after \(traffic.summary) in "
                + "\(Int(Date().timeIntervalSince(started))) s"
        )
    }

    /// The alert-base rewrite itself, without a stack: a compound condition yields each operand, each
    /// without its threshold, and label matchers or quoted strings never split.
    func testAlertBaseDropsThresholdsAndSplitsSetOperators() {
        let compound = DashboardExpression(
            kind: "alert",
            source: "x",
            expr:
                #"sum by (job) (a{k="and or"}) / clamp_min(sum by (job) (b), 1e-9) < 0.3"#
                + " and on (job) sum by (job) (b) > 100"
        )
        XCTAssertEqual(
            compound.queries,
            [#"sum by (job) (a{k="and or"}) / clamp_min(sum by (job) (b), 1e-9)"#, "sum by (job) (b)"]
        )
        XCTAssertEqual(
            DashboardExpression(kind: "alert", source: "x", expr: "sum(increase(c[15m])) >= 3").queries,
            ["sum(increase(c[15m]))"]
        )
        XCTAssertEqual(
            DashboardExpression(kind: "alert", source: "x", expr: #"up{job=~"s.*"} == 0"#).queries,
            [#"up{job=~"s.*"}"#]
        )
        XCTAssertEqual(
            DashboardExpression(kind: "panel", source: "x", expr: "max(s) == 1").queries,
            ["max(s) == 1"],
            "panels run as written"
        )
    }

    static let scrapedAPIRequests =
        #"sum(sightline_requests_total{job="sightline",route=~"responses|responses_compact"})"#

    static func name(of alert: [String: Any]) -> String {
        (alert["labels"] as? [String: Any])?["alertname"] as? String ?? ""
    }

    /// True if an instant-vector sample holds a finite value other than 0.
    static func isNonZero(_ sample: [String: Any]) -> Bool {
        guard let pair = sample["value"] as? [Any], let text = pair.last as? String, let v = Double(text) else {
            return false
        }
        return v.isFinite && v != 0
    }
}

/// One expression printed by `scripts/dashboard-exprs.sh --all --with-source`.
struct DashboardExpression {
    var kind: String
    var source: String
    var expr: String

    /// What to send to Prometheus: a panel or recording rule as written; an alert without its threshold
    /// comparisons ("alert-base", as scripts/check-dashboards-live.sh), split at top-level `and`/`or`/
    /// `unless` so each operand of a compound condition must return data on its own.
    var queries: [String] {
        guard kind == "alert" else { return [expr] }
        return Self.setOperands(expr).map(Self.withoutThreshold)
    }

    static func load() throws -> [DashboardExpression] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [
            TestEnvironment.repoRoot.appendingPathComponent("scripts/dashboard-exprs.sh").path, "--all",
            "--with-source",
        ]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestClientError.io("dashboard-exprs.sh exited \(process.terminationStatus): \(errors)")
        }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, !fields[2].isEmpty else { return nil }
            return DashboardExpression(kind: String(fields[0]), source: String(fields[1]), expr: String(fields[2]))
        }
    }

    /// Removes a trailing `<op> <number>` comparison (the alert's threshold).
    static func withoutThreshold(_ expr: String) -> String {
        expr.replacingOccurrences(
            of: #"\s*(>=|<=|==|!=|>|<)\s*(bool\s+)?[-+0-9.eE]+\s*$"#,
            with: "",
            options: .regularExpression
        ).trimmingCharacters(in: .whitespaces)
    }

    /// Splits at set operators outside parentheses, braces and quotes, dropping `on (…)`/`ignoring (…)`.
    static func setOperands(_ expr: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var depth = 0
        var quote: Character?
        var i = expr.startIndex
        while i < expr.endIndex {
            let c = expr[i]
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if "({[".contains(c) {
                depth += 1
            } else if ")}]".contains(c) {
                depth -= 1
            } else if depth == 0, c == " ",
                let op = ["and", "or", "unless"].first(where: { expr[expr.index(after: i)...].hasPrefix("\($0) ") })
            {
                parts.append(current)
                current = ""
                i = expr.index(i, offsetBy: op.count + 2)
                let rest = String(expr[i...])
                let modifier = rest.range(of: #"^\s*(on|ignoring)\s*\([^)]*\)\s*"#, options: .regularExpression)
                if let modifier {
                    i = expr.index(i, offsetBy: rest.distance(from: rest.startIndex, to: modifier.upperBound))
                }
                continue
            }
            current.append(c)
            i = expr.index(after: i)
        }
        parts.append(current)
        return parts.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

/// Mixed downstream traffic with simulator fault injection, one bounded round at a time, so that every
/// family the dashboards and rules read moves: streams and non-streams, compaction, failover after 5xx,
/// a usage-limit pin reset with a cooldown, token refreshes, streams cut after the first byte, prompt-cache
/// hits, affinity hits and misses, unresolvable anchors (masked continuity loss, 502) and invalid JSON.
final class LiveTraffic {
    let stack: SightlineStack
    private(set) var rounds = 0
    private(set) var failovers = 0
    private(set) var statuses: [Int: Int] = [:]
    private var unexpected = 0

    init(stack: SightlineStack) { self.stack = stack }

    var summary: String {
        let counts = statuses.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
        return "\(rounds) rounds, \(failovers) failovers, statuses \(counts)"
    }

    /// Sends one round of requests; false once a response was not the expected one (the test then fails
    /// on the recorded assertion instead of hammering a broken stack until the deadline).
    func round() throws -> Bool {
        let r = rounds
        rounds += 1
        let failuresBefore = unexpected
        if r == 0 {
            // One account hits its usage limit: pin_reset to another; it cools for 10 min (cooldown panel).
            try fault(["fault": "usage_limit", "count": 1, "resets_in_seconds": 600])
        }
        try expect(200, post(#"{"model":"gpt-5.5","input":"live \#(r)","stream":true}"#))

        // A 500 fails over before the first byte and cools that account for a few seconds: only while two
        // accounts are available, so the failover always has somewhere to go.
        let failover = try availableAccounts() >= 2
        if failover { try fault(["fault": "server_error", "count": 1]) }
        let unary = try post(#"{"model":"gpt-5.5","input":"unary \#(r)"}"#)
        try expect(200, unary)
        if failover { failovers += 1 }
        let anchor = unary.responseID

        // Above the simulator's 256-token cache minimum, on one key: from the second round on, cached.
        let context = String(repeating: "shared context ", count: 120)
        try expect(
            200,
            post(#"{"model":"gpt-5.5","input":"\#(context)","prompt_cache_key":"live-cache","stream":true}"#)
        )

        if r == 1 {
            // Every account's access token dies: the next request on each refreshes it (token_refresh).
            for account in ["acct1", "acct2", "acct3"] {
                _ = try HTTPTestClient.exchange(
                    port: stack.simulatorPort,
                    HTTPTestClient.post(path: "/__sim/accounts/\(account)/invalidate-access", json: "{}")
                )
            }
        }
        // An anchor nobody produced (affinity miss, masked as a 502 stream_incomplete, tombstoned), then one
        // the proxy produced (affinity hit, replayed from the transcript: 200).
        let lost = try post(
            #"{"model":"gpt-5.5","input":"next","previous_response_id":"resp_sim_\#(String(format: "%016x", r))","stream":true}"#
        )
        try expect(502, lost)
        if !lost.bodyText.contains("stream_incomplete") { try expect(-1, lost) }
        if let anchor {
            try expect(
                200,
                post(#"{"model":"gpt-5.5","input":"next","previous_response_id":"\#(anchor)","stream":true}"#)
            )
        }

        // Cut after the first bytes: the client gets response.failed, the attempt counts as stream_error.
        let cut = try post(
            #"{"model":"gpt-5.5","input":"cut","stream":true}"#,
            headers: [("x-sim-fault", "stream_cut;after=5")]
        )
        try expect(200, cut)
        if !cut.bodyText.contains("response.failed") { try expect(-1, cut) }

        try expect(200, post(#"{"model":"gpt-5.5","input":"compact me"}"#, path: "/v1/responses/compact"))
        try expect(400, post("{"))
        return unexpected == failuresBefore
    }

    /// The proxy's own count of answered API requests (from its /metrics).
    func proxyAPIRequestCount() throws -> Double {
        let body = try HTTPTestClient.get(port: stack.proxyPort, path: "/metrics").bodyText
        return body.split(separator: "\n")
            .filter {
                $0.hasPrefix("sightline_requests_total{")
                    && ($0.contains(#"route="responses""#) || $0.contains(#"route="responses_compact""#))
            }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
            .reduce(0, +)
    }

    /// `sightline_pool_available_accounts` from the proxy's /metrics.
    func availableAccounts() throws -> Double {
        let body = try HTTPTestClient.get(port: stack.proxyPort, path: "/metrics").bodyText
        let line = body.split(separator: "\n").first { $0.hasPrefix("sightline_pool_available_accounts ") }
        return line.flatMap { $0.split(separator: " ").last.flatMap { Double($0) } } ?? 0
    }

    private func post(
        _ json: String,
        path: String = "/v1/responses",
        headers: [(String, String)] = []
    ) throws -> ParsedResponse {
        try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(path: path, json: json, headers: headers)
        )
    }

    private func fault(_ body: [String: Any]) throws {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        let reply = try HTTPTestClient.exchange(
            port: stack.simulatorPort,
            HTTPTestClient.post(path: "/__sim/faults", json: json)
        )
        XCTAssertEqual(reply.status, 200, reply.bodyText)
    }

    private func record(_ response: ParsedResponse) { statuses[response.status, default: 0] += 1 }

    private func expect(_ status: Int, _ response: ParsedResponse, line: UInt = #line) throws {
        record(response)
        if response.status != status { unexpected += 1 }
        XCTAssertEqual(response.status, status, "round \(rounds): \(response.bodyText.prefix(300))", line: line)
    }
}
