import Foundation
import Synchronization
import XCTest

/// Issue 5's fault soak: thousands of requests with randomly injected upstream faults. Every client request
/// ends in a complete stream or a well-formed retryable error; no raw `previous_response_not_found` and no
/// `resp_` id reaches a client in an error; no configured secret reaches the logs; and the decision
/// counters add up to the faults the simulator injected.
final class RecoveryFaultSoakTests: XCTestCase {
    /// Faults that each force exactly one recovery decision or, on a request's last attempt, a final 502.
    static let faults = [
        "server_error", "bad_gateway", "overloaded", "connection_reset", "previous_response_not_found_in_stream",
        "token_invalidated",
    ]

    func testRandomFaultsEndWellFormedAndDecisionsAddUp() throws {
        let stack = try SightlineStack(label: "soak5")
        defer { stack.stop() }
        let setup =
            #"{"probability":0.25,"faults":[\#(Self.faults.map { "\"\($0)\"" }.joined(separator: ","))],"seed":20261130}"#
        XCTAssertEqual(
            try HTTPTestClient.exchange(
                port: stack.simulatorPort,
                HTTPTestClient.post(path: "/__sim/random-faults", json: setup)
            ).status,
            200
        )

        let total = 1200
        let outcomes = Mutex<[String: Int]>([:])
        let violations = Mutex<[String]>([])
        let deadline = Date().addingTimeInterval(240)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for i in stride(from: worker, to: total, by: 8) where Date() < deadline {
                let stream = i % 2 == 0
                let json = #"{"model":"gpt-5.5","input":"soak \#(i)","stream":\#(stream)}"#
                let outcome: String
                do {
                    let r = try HTTPTestClient.exchange(
                        port: stack.proxyPort,
                        HTTPTestClient.post(path: "/v1/responses", json: json)
                    )
                    outcome = Self.classify(r, stream: stream)
                } catch {
                    outcome = "transport_error"
                }
                outcomes.withLock { $0[outcome, default: 0] += 1 }
                if outcome.hasPrefix("bad:") || outcome == "transport_error" {
                    violations.withLock { $0.append("request \(i): \(outcome)") }
                }
            }
        }
        let seen = outcomes.withLock { $0 }
        XCTAssertEqual(seen.values.reduce(0, +), total, "the loop is bounded; it must finish: \(seen)")
        XCTAssertEqual(violations.withLock { $0 }.prefix(10).joined(separator: "\n"), "", "\(seen)")
        XCTAssertGreaterThan(seen["completed", default: 0], total / 2, "\(seen)")

        // The simulator's own record of what it injected (its log holds the last 1000 requests, so count
        // injected faults from the proxy's side of the ledger: attempts that failed with each outcome).
        let metrics = try HTTPTestClient.get(port: stack.proxyPort, path: "/metrics").bodyText
        func value(_ series: String) -> Double {
            metrics.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap {
                Double($0.split(separator: " ").last!)
            } ?? -1
        }
        func sum(_ prefix: String, _ containing: String) -> Double {
            metrics.split(separator: "\n").filter { $0.hasPrefix(prefix) && $0.contains(containing) }
                .compactMap { Double($0.split(separator: " ").last!) }.reduce(0, +)
        }
        let failedAttempts = ["http_5xx", "connect_error", "stream_error", "http_4xx"].map {
            sum("sightline_upstream_attempts_total{", #"outcome="\#($0)""#)
        }.reduce(0, +)
        let decisions = ["failover", "masked_continuity_loss", "token_refresh", "pin_reset"].map {
            value(#"sightline_recovery_decisions_total{decision="\#($0)",outcome="attempted"}"#)
        }.reduce(0, +)
        let final502 = Double(seen["error:upstream_unavailable", default: 0])
        // Every failed attempt was either recovered by a decision or ended its request with a retryable 502.
        XCTAssertEqual(
            decisions + final502,
            failedAttempts,
            "decisions \(decisions) + final 502s \(final502) ≠ failed attempts \(failedAttempts)\n\(seen)"
        )
        XCTAssertEqual(
            value(#"sightline_recovery_decisions_total{decision="masked_continuity_loss",outcome="attempted"}"#),
            Double(seen["error:stream_incomplete", default: 0]),
            "each masked loss is one client-visible 502"
        )
        for decision in SightlineDecisions.all {
            let a = value(#"sightline_recovery_decisions_total{decision="\#(decision)",outcome="attempted"}"#)
            let s = value(#"sightline_recovery_decisions_total{decision="\#(decision)",outcome="succeeded"}"#)
            let g = value(#"sightline_recovery_decisions_total{decision="\#(decision)",outcome="gave_up"}"#)
            XCTAssertEqual(a, s + g, "\(decision) triad")
        }
        // Nothing secret in the logs: the simulator's fake tokens are what the proxy holds.
        stack.proxy.stop()
        let output = stack.allOutput()
        for secret in ["sim-access-acct", "sim-refresh-acct", "sim-account-1"] {
            XCTAssertFalse(output.contains(secret), "\(secret) leaked")
        }
    }

    /// `completed`, `failed_after_commit`, `error:<code>` for well-formed retryable errors, `bad:<why>` else.
    static func classify(_ r: ParsedResponse, stream: Bool) -> String {
        let text = r.bodyText
        if r.status == 200 {
            if text.contains("previous_response_not_found") { return "bad:raw previous_response_not_found in a stream" }
            if stream {
                if text.contains("event: response.completed") { return "completed" }
                let last = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }.last ?? ""
                return last.contains("response.failed") ? "failed_after_commit" : "bad:stream without a terminal event"
            }
            return text.contains(#""status":"completed""#) ? "completed" : "bad:unary 200 without a completed response"
        }
        guard let json = try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any],
            let error = json["error"] as? [String: Any], let code = error["code"] as? String
        else { return "bad:\(r.status) without an OpenAI error body" }
        if text.contains("resp_") { return "bad:a resp_ id in an error" }
        if text.contains("previous_response_not_found") { return "bad:raw previous_response_not_found" }
        guard r.status == 502 || r.status == 503 else { return "bad:\(r.status) \(code) is not retryable" }
        return "error:\(code)"
    }
}

/// The decision labels, as declared in SightlineMetrics.
enum SightlineDecisions {
    static let all = [
        "affinity_miss", "strip_retry", "transcript_replay", "pin_reset", "masked_continuity_loss", "dead_anchor",
        "failover", "token_refresh",
    ]
}
