import Foundation
import XCTest

@testable import Metrics

/// docs/metrics.md must list exactly the metrics the code registers, no more and no fewer.
final class MetricsCatalogTests: XCTestCase {
    func testCatalogMatchesRegisteredMetrics() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let doc = try String(contentsOf: root.appendingPathComponent("docs/metrics.md"), encoding: .utf8)
        var documented: Set<String> = []
        for line in doc.split(separator: "\n") where line.hasPrefix("|") {
            let firstCell = line.split(separator: "|", omittingEmptySubsequences: true).first ?? ""
            let name = firstCell.trimmingCharacters(in: .whitespaces).trimmingCharacters(
                in: CharacterSet(charactersIn: "`")
            )
            if name.hasPrefix("sightline_") || name.hasPrefix("process_") { documented.insert(name) }
        }
        let metrics = SightlineMetrics(registry: MetricRegistry(), version: "v", revision: "r")
        let registered = Set(metrics.registry.familyNames + ProcessMetrics.familyNames)
        XCTAssertEqual(documented.subtracting(registered), [], "documented but not registered")
        XCTAssertEqual(registered.subtracting(documented), [], "registered but not documented")
        XCTAssertGreaterThan(documented.count, 30)
    }
}
