import Foundation
import XCTest

/// The rules parse, their unit tests pass, and every alert follows observability-conventions.md §6 and
/// has its runbook section and its row in docs/alerts.md.
final class AlertRulesTests: XCTestCase {
    private let required = [
        "SightlineMaskedContinuityLossRateHigh", "SightlineAffinityMissRatioHigh", "SightlinePinResetsSpiking",
        "SightlinePromptCacheHitRatioCollapsed", "SightlinePoolNearlyExhausted", "SightlinePoolExhausted",
        "SightlineTokenRefreshFailures", "SightlineAccountReauthRequired", "SightlineUpstreamErrorRatioHigh",
        "SightlineServerErrorRateHigh", "SightlineTimeToFirstEventSlow", "SightlineTargetDown",
        "SightlineStripRetryRateHigh", "SightlineStateWriteFailures",
    ]

    func testPromtoolCheckRulesSucceeds() throws {
        guard let result = try Promtool.run(["check", "rules", "alerts/sightline.rules.yml"], in: Repository.root)
        else { return }
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("SUCCESS"), result.output)
    }

    func testPromtoolUnitTestsPass() throws {
        let testFiles = try Repository.files(in: "alerts/tests", suffix: ".yml").map(\.lastPathComponent)
        XCTAssertFalse(testFiles.isEmpty)
        guard let result = try Promtool.run(["test", "rules"] + testFiles, in: Repository.url("alerts/tests"))
        else { return }
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("SUCCESS"), result.output)
    }

    func testEveryRequiredAlertExists() throws {
        let names = try RuleFile.load().alertNames
        XCTAssertEqual(Set(required).subtracting(names), [])
        XCTAssertEqual(Set(names).count, names.count, "alert names must be unique")
    }

    func testAlertsFollowTheNamingLabelAndAnnotationConventions() throws {
        let text = try Repository.text("alerts/sightline.rules.yml")
        let file = RuleFile(yaml: text)
        let blocks = text.components(separatedBy: "- alert: ").dropFirst()
        XCTAssertEqual(blocks.count, file.alertNames.count)
        for block in blocks {
            let name = String(block.prefix { !$0.isWhitespace })
            XCTAssertFalse(PromQL.matches(of: #"^Sightline[A-Z][A-Za-z]+$"#, in: name).isEmpty, name)
            let body = block.components(separatedBy: "- record: ")[0]
            XCTAssertFalse(PromQL.matches(of: #"\n\s+for: \d+m\n"#, in: body).isEmpty, "\(name): for:")
            XCTAssertFalse(
                PromQL.matches(of: #"\n\s+severity: (critical|warning|info)\n"#, in: body).isEmpty,
                "\(name): severity"
            )
            XCTAssertFalse(PromQL.matches(of: #"\n\s+summary: [^{\n]+\.\n"#, in: body).isEmpty, "\(name): summary")
            XCTAssertFalse(
                PromQL.matches(of: #"\n\s+description: '[^\n]*\{\{"#, in: body).isEmpty,
                "\(name): description"
            )
            let runbook = "runbook_url: https://example.invalid/sightline/runbooks#\(name.lowercased())\n"
            XCTAssertTrue(body.contains(runbook), "\(name): \(runbook)")
        }
    }

    func testRatiosGuardTheirDenominatorsAndAggregateByJob() throws {
        for rule in try RuleFile.load().rules where rule.kind == .alert {
            if rule.expression.contains(" / ") {
                XCTAssertTrue(rule.expression.contains("/ clamp_min("), "\(rule.name): \(rule.expression)")
            }
            if rule.name != "SightlineTargetDown" && rule.name != "SightlineTimeToFirstEventSlow" {
                XCTAssertTrue(rule.expression.contains("by (job"), "\(rule.name): \(rule.expression)")
            }
            XCTAssertFalse(rule.expression.contains("sightline_request_duration_seconds"), "never total duration")
            XCTAssertEqual(PromQL.unwrappedCounters(in: rule.expression), [], rule.name)
        }
    }

    func testEveryAlertIsTestedPendingFiringAndHealthy() throws {
        let tests = try Repository.text("alerts/tests/sightline.rules.test.yml")
        for name in try RuleFile.load().alertNames {
            let evaluations =
                tests.components(separatedBy: "alertname: \(name)\n").count - 1
                + tests.components(separatedBy: "alertname: \(name)}").count - 1
            XCTAssertGreaterThanOrEqual(evaluations, 3, "\(name): pending, firing and healthy cases")
            XCTAssertTrue(tests.contains("runbooks#\(name.lowercased())"), "\(name): a firing case with annotations")
        }
    }

    func testEveryAlertHasARunbookSectionAndATableRow() throws {
        let runbooks = try Repository.text("docs/runbooks.md")
        let table = try Repository.text("docs/alerts.md")
        for name in try RuleFile.load().alertNames {
            XCTAssertTrue(runbooks.contains("\n## \(name)\n"), "docs/runbooks.md: ## \(name)")
            XCTAssertTrue(table.contains("| `\(name)` |"), "docs/alerts.md: row for \(name)")
        }
    }

    func testTheRuleScannerReadsBlockAndInlineExpressions() {
        let file = RuleFile(
            yaml: """
                groups:
                  - name: g
                    rules:
                      - record: a:b:rate5m
                        expr: sum(rate(x_total[5m]))
                      - alert: SightlineThingBroken
                        expr: |
                          a:b:rate5m
                            > 1
                        for: 5m
                """
        )
        XCTAssertEqual(
            file.rules,
            [
                .init(kind: .record, name: "a:b:rate5m", expression: "sum(rate(x_total[5m]))"),
                .init(kind: .alert, name: "SightlineThingBroken", expression: "a:b:rate5m > 1"),
            ]
        )
    }
}
