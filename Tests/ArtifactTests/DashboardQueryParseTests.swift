import Foundation
import XCTest

/// Every panel expression parses: with Grafana's variables replaced, each becomes a recording rule in a
/// temporary rules file that `promtool check rules` must accept.
final class DashboardQueryParseTests: XCTestCase {
    func testVariablesAreReplacedWithHarmlessValues() {
        XCTAssertEqual(
            PromQL.substitutingVariables(
                #"rate(a_total{job=~"$job",x="${instance}"}[$__rate_interval])"#
                    + #" + increase(b_total[$__range]) + c[$__interval]"#
            ),
            #"rate(a_total{job=~"x",x="x"}[5m]) + increase(b_total[1h]) + c[1m]"#
        )
    }

    func testEveryPanelExpressionParsesWithPromtool() throws {
        var yaml = "groups:\n  - name: dashboard_exprs\n    rules:\n"
        var count = 0
        for dashboard in try Dashboard.loadAll() {
            let prefix = dashboard.uid.replacingOccurrences(of: "-", with: "_")
            for target in dashboard.targets {
                let expression = PromQL.substitutingVariables(target.expression)
                XCTAssertFalse(expression.contains("$"), expression)
                yaml += "      - record: dashboard:\(prefix)_panel_\(target.panelID)_\(target.refID)\n"
                yaml += "        expr: \(try Self.yamlString(expression))\n"
                count += 1
            }
        }
        XCTAssertGreaterThan(count, 40)
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("sightline-artifacts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try yaml.write(to: directory.appendingPathComponent("dashboard_exprs.yml"), atomically: true, encoding: .utf8)
        guard let result = try Promtool.run(["check", "rules", "dashboard_exprs.yml"], in: directory) else { return }
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("SUCCESS: \(count) rules found"), result.output)
    }

    func testABrokenExpressionFailsTheSameCheck() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("sightline-artifacts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let yaml =
            "groups:\n  - name: g\n    rules:\n      - record: dashboard:broken\n        expr: "
            + (try Self.yamlString("sum(rate(sightline_requests_total[5m])"))
            + "\n"
        try yaml.write(to: directory.appendingPathComponent("broken.yml"), atomically: true, encoding: .utf8)
        guard let result = try Promtool.run(["check", "rules", "broken.yml"], in: directory) else { return }
        XCTAssertNotEqual(result.status, 0, result.output)
    }

    /// A JSON string literal is a valid YAML double-quoted scalar.
    static func yamlString(_ value: String) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
