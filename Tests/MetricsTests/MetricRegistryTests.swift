import XCTest

@testable import Metrics

final class MetricRegistryTests: XCTestCase {
    func testInvalidNamesAreRefused() {
        let registry = MetricRegistry()
        let cases: [(() throws -> Void, MetricRegistryError)] = [
            (
                { _ = try registry.counter("evil_total{a=\"1\"} 1\nx_total", help: "") },
                .init(.invalidMetricName, name: "evil_total{a=\"1\"} 1\nx_total")
            ),
            ({ _ = try registry.gauge("1abc", help: "") }, .init(.invalidMetricName, name: "1abc")),
            ({ _ = try registry.gauge("", help: "") }, .init(.invalidMetricName, name: "")),
            ({ _ = try registry.counter("requests", help: "") }, .init(.invalidSuffix, name: "requests")),
            ({ _ = try registry.gauge("requests_total", help: "") }, .init(.invalidSuffix, name: "requests_total")),
            ({ _ = try registry.gauge("g", help: "", labels: ["a-b"]) }, .init(.invalidLabelName, name: "a-b")),
            ({ _ = try registry.gauge("g", help: "", labels: ["__name"]) }, .init(.invalidLabelName, name: "__name")),
            ({ _ = try registry.gauge("g", help: "", labels: ["a", "a"]) }, .init(.invalidLabelName, name: "a")),
            (
                { _ = try registry.histogram("h", help: "", labels: ["le"], buckets: [1]) },
                .init(.invalidLabelName, name: "le")
            ),
            ({ _ = try registry.histogram("h", help: "", buckets: []) }, .init(.invalidBuckets, name: "h")),
            ({ _ = try registry.histogram("h", help: "", buckets: [2, 1]) }, .init(.invalidBuckets, name: "h")),
            ({ _ = try registry.histogram("h", help: "", buckets: [1, .nan]) }, .init(.invalidBuckets, name: "h")),
        ]
        for (index, (register, expected)) in cases.enumerated() {
            XCTAssertThrowsError(try register(), "case \(index)") { error in
                XCTAssertEqual(error as? MetricRegistryError, expected, "case \(index)")
            }
        }
        XCTAssertEqual(registry.render(), "", "nothing half-registered")
    }

    func testDuplicateFamiliesAndCollidingSampleNamesAreRefused() throws {
        let registry = MetricRegistry()
        _ = try registry.counter("a_total", help: "A.")
        _ = try registry.histogram("lat", help: "L.", buckets: [1])
        XCTAssertThrowsError(try registry.counter("a_total", help: "again")) {
            XCTAssertEqual(($0 as? MetricRegistryError)?.reason, .duplicateFamily)
        }
        XCTAssertThrowsError(try registry.gauge("lat_count", help: "collides with the histogram's _count")) {
            XCTAssertEqual(($0 as? MetricRegistryError)?.reason, .duplicateFamily)
        }
        XCTAssertEqual(registry.familyNames, ["a_total", "lat"])
    }

    func testHostileLabelValueAndHelpCannotInjectASeries() throws {
        let registry = MetricRegistry()
        let family = try registry.counter(
            "x_total",
            help: "Help with \\ and\n# TYPE evil_total counter\nevil_total 1",
            labels: ["path"]
        )
        family.labels("a\"} 1\nevil_total 1\n# \\").increment()
        let expected = """
            # HELP x_total Help with \\\\ and\\n# TYPE evil_total counter\\nevil_total 1
            # TYPE x_total counter
            x_total{path="a\\"} 1\\nevil_total 1\\n# \\\\"} 1

            """
        XCTAssertEqual(registry.render(), expected)
        let lines = registry.render().split(separator: "\n")
        XCTAssertEqual(lines.count, 3)
        XCTAssertFalse(lines.contains { $0.hasPrefix("evil") })
    }

    func testFamiliesSortedByNameAndCollectorsMerged() throws {
        let registry = MetricRegistry()
        _ = try registry.gauge("b_gauge", help: "B.")
        _ = try registry.counter("d_total", help: "D.")
        registry.addCollector {
            [
                CollectedFamily(
                    name: "c_collected",
                    help: "C.",
                    kind: .gauge,
                    samples: [
                        CollectedSample(labels: ["z": "1", "a": "x\"y"], value: 2),
                        CollectedSample(labels: ["z": "0", "a": "x"], value: .infinity),
                    ]
                ),
                // Dropped: duplicates a registered family, has a bad name, or breaks the _total rule.
                CollectedFamily(name: "b_gauge", help: "dup", kind: .gauge, samples: [CollectedSample(value: 1)]),
                CollectedFamily(name: "bad name", help: "", kind: .gauge, samples: [CollectedSample(value: 1)]),
                CollectedFamily(name: "a_counter", help: "", kind: .counter, samples: [CollectedSample(value: 1)]),
            ]
        }
        XCTAssertEqual(
            registry.render(),
            """
            # HELP b_gauge B.
            # TYPE b_gauge gauge
            b_gauge 0
            # HELP c_collected C.
            # TYPE c_collected gauge
            c_collected{a="x",z="0"} +Inf
            c_collected{a="x\\"y",z="1"} 2
            # HELP d_total D.
            # TYPE d_total counter
            d_total 0

            """
        )
        XCTAssertEqual(registry.renderBytes(), Array(registry.render().utf8))
    }

    func testLabeledFamilyWithoutSeriesRendersOnlyItsHeader() throws {
        let registry = MetricRegistry()
        _ = try registry.counter("empty_total", help: "E.", labels: ["a"])
        XCTAssertEqual(registry.render(), "# HELP empty_total E.\n# TYPE empty_total counter\n")
    }
}
