import Foundation
import XCTest

/// Every metric a dashboard or rule names is listed in docs/metrics.md, so no panel or alert waits on a
/// metric that does not exist (the codex-lb "dead metrics" failure).
final class MetricCatalogTests: XCTestCase {
    func testTheCatalogIsReadFromTheMetricsDocument() throws {
        let catalog = try MetricCatalog.load()
        XCTAssertGreaterThan(catalog.names.count, 30)
        XCTAssertTrue(catalog.names.contains("sightline_recovery_decisions_total"))
        XCTAssertTrue(catalog.names.contains("process_cpu_seconds_total"))
    }

    func testTheCheckerFlagsAnUndocumentedName() {
        let catalog = MetricCatalog(names: ["sightline_requests_total", "sightline_request_duration_seconds"])
        XCTAssertEqual(catalog.unknownNames(in: "sum(rate(sightline_requests_totl[5m]))"), ["sightline_requests_totl"])
        XCTAssertEqual(
            catalog.unknownNames(in: "rate(sightline_made_up_seconds_bucket[5m]) / rate(sightline_requests_total[5m])"),
            ["sightline_made_up_seconds_bucket"]
        )
        XCTAssertEqual(catalog.unknownNames(in: "process_open_fds"), ["process_open_fds"])
        XCTAssertEqual(
            catalog.unknownNames(
                in: "histogram_quantile(0.5, sum by (le) (rate(sightline_request_duration_seconds_bucket[5m])))"
                    + " + sightline_request_duration_seconds_sum / sightline_request_duration_seconds_count"
            ),
            []
        )
        XCTAssertEqual(catalog.unknownNames(in: #"sum by (job) (sightline:requests:rate5m{job=~"sightline.*"})"#), [])
    }

    func testEveryDashboardMetricIsCatalogued() throws {
        let catalog = try MetricCatalog.load()
        var referenced = 0
        for dashboard in try Dashboard.loadAll() {
            for target in dashboard.targets {
                referenced += MetricCatalog.referencedNames(in: target.expression).count
                XCTAssertEqual(
                    catalog.unknownNames(in: target.expression),
                    [],
                    "\(dashboard.file) panel \(target.panelID) \(target.refID): metric missing from docs/metrics.md"
                )
            }
        }
        XCTAssertGreaterThan(referenced, 40)
    }

    func testEveryRuleMetricIsCataloguedAndEveryRecordedNameIsDefined() throws {
        let catalog = try MetricCatalog.load()
        let file = try RuleFile.load()
        XCTAssertGreaterThanOrEqual(file.rules.count, 15)
        let recorded = Set(file.rules.filter { $0.kind == .record }.map(\.name))
        for rule in file.rules {
            XCTAssertEqual(catalog.unknownNames(in: rule.expression), [], "\(rule.name): \(rule.expression)")
            for used in PromQL.matches(of: #"\bsightline:[a-z0-9_:]+"#, in: rule.expression) {
                XCTAssertTrue(recorded.contains(used.text), "\(rule.name) reads unrecorded \(used.text)")
            }
            let prometheusOwn = PromQL.matches(of: #"\b(up)\{"#, in: rule.expression).map { $0.groups[1] ?? "" }
            XCTAssertTrue(Set(prometheusOwn).isSubset(of: MetricCatalog.prometheusOwn))
        }
    }

    func testSelectorLabelsExistOnTheirFamilyInTheGoldenScrape() throws {
        let catalog = try MetricCatalog.load()
        let scrape = ScrapeLabels(exposition: try Repository.text("Tests/MetricsTests/Golden/scrape.prom"))
        let rules = try RuleFile.load().rules
        var recorded: [String: String] = [:]
        for rule in rules where rule.kind == .record {
            recorded[rule.name] = MetricCatalog.referencedNames(in: rule.expression).first.flatMap(catalog.family(of:))
        }
        XCTAssertEqual(recorded["sightline:requests:rate5m"], "sightline_requests_total")
        let expressions = try Dashboard.loadAll().flatMap { $0.targets.map(\.expression) } + rules.map(\.expression)
        for expression in expressions {
            XCTAssertEqual(scrape.problems(in: expression, catalog: catalog, recorded: recorded), [], expression)
        }
        XCTAssertEqual(
            scrape.problems(
                in: #"sightline:requests:rate5m{status_class="6xx"}"#,
                catalog: catalog,
                recorded: recorded
            ),
            ["sightline_requests_total{status_class} has no value 6xx"]
        )
    }

    func testTheLabelCheckFlagsAMisspelledLabelOrValue() throws {
        let catalog = try MetricCatalog.load()
        let scrape = ScrapeLabels(exposition: try Repository.text("Tests/MetricsTests/Golden/scrape.prom"))
        XCTAssertEqual(
            scrape.problems(in: #"rate(sightline_requests_total{status="5xx"}[5m])"#, catalog: catalog),
            ["sightline_requests_total has no label status"]
        )
        XCTAssertEqual(
            scrape.problems(in: #"rate(sightline_recovery_decisions_total{outcome="attempt"}[5m])"#, catalog: catalog),
            ["sightline_recovery_decisions_total{outcome} has no value attempt"]
        )
        XCTAssertEqual(
            scrape.problems(
                in: #"rate(sightline_requests_total{job=~"$job",status_class=~"4xx|5xx"}[5m])"#,
                catalog: catalog
            ),
            []
        )
    }
}
