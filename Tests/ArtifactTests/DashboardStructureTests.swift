import Foundation
import XCTest

/// The Grafana dashboards follow the classic JSON model rules of observability-conventions.md §7.
final class DashboardStructureTests: XCTestCase {
    private let datasource = ["type": "prometheus", "uid": "${datasource}"]

    func testTheThreeDashboardsExistWithUniqueStableUIDs() throws {
        let dashboards = try Dashboard.loadAll()
        XCTAssertEqual(
            dashboards.map(\.file),
            ["sightline-accounts.json", "sightline-continuity.json", "sightline-overview.json"]
        )
        let uids = dashboards.map(\.uid)
        XCTAssertEqual(Set(uids).count, uids.count, "dashboard uids must be unique: \(uids)")
        for uid in uids {
            XCTAssertFalse(uid.isEmpty)
            XCTAssertLessThanOrEqual(uid.count, 40, uid)
        }
    }

    func testTopLevelFieldsFollowTheConventions() throws {
        for dashboard in try Dashboard.loadAll() {
            let model = dashboard.model
            let name = dashboard.file
            XCTAssertNil(model["id"], "\(name): no top-level id (Grafana assigns it)")
            XCTAssertEqual(model["schemaVersion"] as? Int, 39, name)
            XCTAssertEqual(model["timezone"] as? String, "utc", name)
            XCTAssertEqual(model["editable"] as? Bool, false, name)
            XCTAssertEqual(model["graphTooltip"] as? Int, 1, name)
            XCTAssertFalse((model["title"] as? String ?? "").isEmpty, name)
            XCTAssertTrue((model["tags"] as? [String] ?? []).contains("sightline"), name)
            XCTAssertNotNil(model["time"] as? [String: Any], name)
            XCTAssertNotNil(model["refresh"] as? String, name)
        }
    }

    func testTemplatingIsADatasourceVariableThenTheJobVariable() throws {
        for dashboard in try Dashboard.loadAll() {
            let variables = dashboard.templateVariables
            XCTAssertEqual(variables.map { $0["name"] as? String }, ["datasource", "job"], dashboard.file)
            guard variables.count == 2 else { continue }
            XCTAssertEqual(variables[0]["type"] as? String, "datasource", dashboard.file)
            XCTAssertEqual(variables[0]["query"] as? String, "prometheus", dashboard.file)
            XCTAssertEqual(variables[1]["type"] as? String, "query", dashboard.file)
            XCTAssertEqual(variables[1]["datasource"] as? [String: String], datasource, dashboard.file)
            let query = variables[1]["query"] as? [String: Any]
            XCTAssertEqual(query?["query"] as? String, "label_values(sightline_requests_total, job)", dashboard.file)
            XCTAssertEqual(variables[1]["definition"] as? String, "label_values(sightline_requests_total, job)")
        }
    }

    func testEveryPanelHasIdTitleDescriptionUnitDatasourceAndTargets() throws {
        for dashboard in try Dashboard.loadAll() {
            let ids = dashboard.panels.compactMap { $0["id"] as? Int }
            XCTAssertEqual(ids.count, dashboard.panels.count, "\(dashboard.file): every panel has an integer id")
            XCTAssertEqual(Set(ids).count, ids.count, "\(dashboard.file): panel ids must be unique")
            XCTAssertGreaterThanOrEqual(dashboard.dataPanels.count, 8, dashboard.file)
            for panel in dashboard.panels {
                let where_ = "\(dashboard.file) panel \(panel["id"] ?? "?")"
                XCTAssertFalse((panel["type"] as? String ?? "").isEmpty, "\(where_): type")
                XCTAssertFalse((panel["title"] as? String ?? "").isEmpty, "\(where_): title")
                let grid = panel["gridPos"] as? [String: Int] ?? [:]
                XCTAssertEqual(Set(grid.keys), ["h", "w", "x", "y"], "\(where_): gridPos")
                XCTAssertLessThanOrEqual((grid["x"] ?? 99) + (grid["w"] ?? 99), 24, "\(where_): 24 columns")
                guard panel["type"] as? String != "row" else { continue }
                XCTAssertFalse((panel["description"] as? String ?? "").isEmpty, "\(where_): description")
                XCTAssertEqual(panel["datasource"] as? [String: String], datasource, "\(where_): datasource")
                let defaults = (panel["fieldConfig"] as? [String: Any])?["defaults"] as? [String: Any]
                XCTAssertFalse((defaults?["unit"] as? String ?? "").isEmpty, "\(where_): fieldConfig.defaults.unit")
                let targets = panel["targets"] as? [[String: Any]] ?? []
                XCTAssertFalse(targets.isEmpty, "\(where_): targets")
                let refIDs = targets.compactMap { $0["refId"] as? String }
                XCTAssertEqual(refIDs.count, targets.count, "\(where_): refId on every target")
                XCTAssertEqual(Set(refIDs).count, refIDs.count, "\(where_): unique refIds")
                for target in targets {
                    XCTAssertFalse((target["expr"] as? String ?? "").isEmpty, "\(where_): expr")
                    XCTAssertNotNil(target["legendFormat"] as? String, "\(where_): legendFormat")
                }
            }
        }
    }

    func testCountersAreOnlyReadThroughRateOrIncreaseOverTheRateInterval() throws {
        for dashboard in try Dashboard.loadAll() {
            for target in dashboard.targets {
                let where_ = "\(dashboard.file) panel \(target.panelID) \(target.refID)"
                XCTAssertEqual(PromQL.unwrappedCounters(in: target.expression), [], "\(where_): \(target.expression)")
                for window in PromQL.rateWindows(in: target.expression) {
                    XCTAssertEqual(window, "$__rate_interval", "\(where_): \(target.expression)")
                }
            }
        }
    }

    func testQuantilesAggregateBucketsByLe() throws {
        for dashboard in try Dashboard.loadAll() {
            for target in dashboard.targets where target.expression.contains("_bucket") {
                XCTAssertTrue(
                    target.expression.hasPrefix("histogram_quantile(")
                        && target.expression.contains("sum by (le) (rate("),
                    "\(dashboard.file) panel \(target.panelID): \(target.expression)"
                )
            }
        }
    }

    func testEveryPanelFiltersByTheJobVariable() throws {
        for dashboard in try Dashboard.loadAll() {
            for target in dashboard.targets {
                let selectors =
                    PromQL.matches(of: #"\b(sightline|process)_[a-z0-9_]+\{[^}]*\}"#, in: target.expression)
                    + PromQL.matches(of: #"\bup\{[^}]*\}"#, in: target.expression)
                let bare = PromQL.matches(of: #"\b(sightline|process)_[a-z0-9_]+\b(?!\{)"#, in: target.expression)
                XCTAssertEqual(
                    bare.map(\.text),
                    [],
                    "\(dashboard.file) panel \(target.panelID): selector without labels"
                )
                for selector in selectors {
                    XCTAssertTrue(selector.text.contains(#"job=~"$job""#), "\(dashboard.file): \(selector.text)")
                }
            }
        }
    }

    func testTheCounterCheckFlagsACounterOutsideRate() {
        XCTAssertEqual(PromQL.unwrappedCounters(in: "sum(sightline_requests_total)"), ["sightline_requests_total"])
        XCTAssertEqual(
            PromQL.unwrappedCounters(in: "sum by (le) (sightline_request_input_tokens_bucket{job=~\"$job\"})"),
            ["sightline_request_input_tokens_bucket"]
        )
        XCTAssertEqual(PromQL.unwrappedCounters(in: "sum(rate(sightline_requests_total{job=\"a\"}[5m]))"), [])
        XCTAssertEqual(PromQL.unwrappedCounters(in: "increase(sightline_pool_exhausted_total[5m]) > 0"), [])
        XCTAssertEqual(PromQL.rateWindows(in: "rate(a_total{x=\"[\"}[$__rate_interval]) + rate(b[5m])").count, 2)
        XCTAssertEqual(PromQL.rateWindows(in: "sum(rate(a_total[$__rate_interval]))"), ["$__rate_interval"])
    }
}
