import Foundation
import XCTest

@testable import Metrics

final class SightlineMetricsTests: XCTestCase {
    static let fakeAccount = "acct_0000000000000000"

    /// The golden scrape: build info fixed, no process metrics, one fake account, nothing recorded.
    static func goldenScrape() -> String {
        let metrics = SightlineMetrics(
            registry: MetricRegistry(),
            version: "0.0.0-test",
            revision: "0000000",
            swiftVersion: "6.3"
        )
        metrics.registerAccount(fakeAccount)
        return metrics.registry.render()
    }

    /// Set SIGHTLINE_UPDATE_GOLDEN=1 to rewrite Golden/scrape.prom in the source tree after a deliberate change.
    func testFullScrapeMatchesGolden() throws {
        let rendered = Self.goldenScrape()
        let sourceURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "Golden/scrape.prom"
        )
        if ProcessInfo.processInfo.environment["SIGHTLINE_UPDATE_GOLDEN"] == "1" {
            try rendered.write(to: sourceURL, atomically: true, encoding: .utf8)
        }
        let goldenURL = try XCTUnwrap(
            Bundle.module.url(forResource: "scrape", withExtension: "prom", subdirectory: "Golden")
        )
        let golden = try String(contentsOf: goldenURL, encoding: .utf8)
        XCTAssertEqual(rendered, golden, "re-run with SIGHTLINE_UPDATE_GOLDEN=1 if the change is intended")
        XCTAssertTrue(rendered.hasSuffix("\n"))
    }

    func testGoldenScrapePassesPromtool() throws {
        let goldenURL = try XCTUnwrap(
            Bundle.module.url(forResource: "scrape", withExtension: "prom", subdirectory: "Golden")
        )
        let findings = try promtoolCheckMetrics(Data(contentsOf: goldenURL))
        XCTAssertEqual(findings, "", "promtool lint findings")
    }

    /// A live scrape with process metrics and recorded values (not just zeros) lints clean too.
    func testLiveScrapeWithProcessMetricsPassesPromtool() throws {
        let metrics = SightlineMetrics(registry: MetricRegistry(), version: "v", revision: "r")
        metrics.registry.addCollector(ProcessMetrics.collect)
        metrics.registerAccount(Self.fakeAccount).quotaUsedRatio(window: "primary").set(0.25)
        metrics.requestDuration(route: "responses", transport: "http").observe(1.5)
        metrics.requestInputTokens.observe(.infinity)
        let text = metrics.registry.render()
        XCTAssertTrue(text.contains("\nprocess_open_fds "))
        XCTAssertEqual(try promtoolCheckMetrics(Data(text.utf8)), "", "promtool lint findings")
    }

    /// Runs `promtool check metrics` on `input`; returns its trimmed output, asserting exit status 0.
    private func promtoolCheckMetrics(_ input: Data) throws -> String {
        let promtool = "/usr/bin/promtool"
        guard FileManager.default.isExecutableFile(atPath: promtool) else { throw XCTSkip("promtool not installed") }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sightline-\(UUID().uuidString).prom")
        try input.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: promtool)
        process.arguments = ["check", "metrics"]
        process.standardInput = try FileHandle(forReadingFrom: file)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, text)
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testEveryKnownCombinationIsPreinitialised() {
        let metrics = SightlineMetrics(registry: MetricRegistry(), version: "v", revision: "r", swiftVersion: "6.3")
        metrics.registerAccount(Self.fakeAccount)
        let text = metrics.registry.render()
        XCTAssertEqual(metrics.requestsFamily.store.count, 7 * 2 * 5)
        XCTAssertEqual(metrics.recoveryDecisionsFamily.store.count, 27)
        XCTAssertEqual(metrics.requestDurationFamily.store.count, 14)
        XCTAssertEqual(metrics.protocolErrorsFamily.store.count, SightlineMetrics.protocolErrorReasons.count)
        XCTAssertEqual(metrics.stateWriteFailuresFamily.store.count, 2 * 5)
        XCTAssertTrue(
            text.contains("sightline_state_write_failures_total{file=\"continuity\",reason=\"no_space\"} 0\n")
        )
        XCTAssertTrue(text.contains("sightline_build_info{revision=\"r\",swift_version=\"6.3\",version=\"v\"} 1\n"))
        for decision in SightlineMetrics.decisions {
            for outcome in SightlineMetrics.outcomes {
                XCTAssertTrue(
                    text.contains(
                        "sightline_recovery_decisions_total{decision=\"\(decision)\",outcome=\"\(outcome)\"} 0\n"
                    )
                )
            }
        }
        XCTAssertTrue(
            text.contains(
                "sightline_request_duration_seconds_bucket{route=\"health\",transport=\"websocket\",le=\"81.92\"} 0\n"
            )
        )
        XCTAssertTrue(
            text.contains(
                "sightline_request_duration_seconds_bucket{route=\"health\",transport=\"websocket\",le=\"640\"} 0\n"
            )
        )
        XCTAssertTrue(text.contains("sightline_account_state{account=\"\(Self.fakeAccount)\",state=\"active\"} 1\n"))
        XCTAssertTrue(text.contains("sightline_account_state{account=\"\(Self.fakeAccount)\",state=\"cooling\"} 0\n"))
    }

    func testConvenienceLookupsReturnTheCachedSeries() {
        let metrics = SightlineMetrics(registry: MetricRegistry(), version: "v", revision: "r")
        let counter = metrics.requests(route: "responses", transport: "http", statusClass: "2xx")
        XCTAssertTrue(counter === metrics.requestsFamily.labels("responses", "http", "2xx"))
        counter.increment()
        metrics.recoveryDecisions(decision: "strip_retry", outcome: "attempted").increment()
        metrics.requestDuration(route: "models", transport: "websocket").observe(0.03)
        let account = metrics.registerAccount("acct_1111111111111111")
        XCTAssertEqual(metrics.registerAccount("acct_1111111111111111").pseudonym, account.pseudonym)
        XCTAssertTrue(
            account.attempts(outcome: "http_429")
                === metrics.upstreamAttemptsFamily.labels(account.pseudonym, "http_429")
        )
        account.setState("cooling")
        let text = metrics.registry.render()
        XCTAssertTrue(
            text.contains("sightline_requests_total{route=\"responses\",status_class=\"2xx\",transport=\"http\"} 1\n")
        )
        XCTAssertTrue(
            text.contains("sightline_recovery_decisions_total{decision=\"strip_retry\",outcome=\"attempted\"} 1\n")
        )
        XCTAssertTrue(
            text.contains(
                "sightline_request_duration_seconds_bucket{route=\"models\",transport=\"websocket\",le=\"0.04\"} 1\n"
            )
        )
        XCTAssertTrue(text.contains("sightline_account_state{account=\"acct_1111111111111111\",state=\"active\"} 0\n"))
        XCTAssertTrue(text.contains("sightline_account_state{account=\"acct_1111111111111111\",state=\"cooling\"} 1\n"))
        XCTAssertEqual(SightlineMetrics.statusClass(204), "2xx")
        XCTAssertEqual(SightlineMetrics.statusClass(429), "4xx")
        XCTAssertEqual(SightlineMetrics.statusClass(0), "5xx")
    }

    /// Correctness only; render speed is measured by the benchmarks, not here.
    func testRenderWithFiftyAccountsIsWellFormed() throws {
        let metrics = SightlineMetrics(registry: MetricRegistry(), version: "v", revision: "r", swiftVersion: "6.3")
        let accounts = (0..<50).map { String(format: "acct_%016x", $0 * 7919) }
        for account in accounts { metrics.registerAccount(account).attempts(outcome: "success").increment() }
        let text = metrics.registry.render()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.last, "", "ends with a newline")
        let samples = lines.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        XCTAssertEqual(
            Set(samples.map { $0.split(separator: " ").dropLast().joined(separator: " ") }).count,
            samples.count,
            "unique series"
        )
        let attempts = samples.filter { $0.hasPrefix("sightline_upstream_attempts_total{") }
        XCTAssertEqual(attempts.count, 50 * SightlineMetrics.upstreamOutcomes.count)
        XCTAssertEqual(attempts.filter { $0.hasSuffix(" 1") }.count, 50)
        XCTAssertEqual(samples.filter { $0.hasPrefix("sightline_account_state{") && $0.hasSuffix(" 1") }.count, 50)
        // Families are contiguous: a TYPE line never repeats.
        let types = lines.filter { $0.hasPrefix("# TYPE ") }
        XCTAssertEqual(Set(types).count, types.count)
        XCTAssertEqual(types.map { $0.split(separator: " ")[2] }, types.map { $0.split(separator: " ")[2] }.sorted())
        XCTAssertEqual(metrics.registeredAccountCount, 50)
    }
}
