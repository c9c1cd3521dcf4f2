import Dispatch
import XCTest

@testable import Metrics

final class GaugeTests: XCTestCase {
    func testSetAddIncDec() throws {
        let gauge = try MetricRegistry().gauge("depth", help: "Depth.").child
        gauge.set(5)
        gauge.inc()
        gauge.dec()
        gauge.dec()
        gauge.add(0.5)
        XCTAssertEqual(gauge.value, 4.5)
    }

    func testSpecialFloatsAreSpelledForTheFormat() throws {
        let registry = MetricRegistry()
        let family = try registry.gauge("value", help: "Values.", labels: ["case"])
        let cases: [(String, Double)] = [
            ("a_pos_inf", .infinity), ("b_neg_inf", -.infinity), ("c_nan", .nan), ("d_small", 1e-05),
            ("e_million", 1_000_000), ("f_huge", 1e16), ("g_tenth", 0.1), ("h_negative", -2.5), ("i_neg_zero", -0.0),
        ]
        for (label, value) in cases { family.labels(label).set(value) }
        XCTAssertEqual(
            registry.render(),
            """
            # HELP value Values.
            # TYPE value gauge
            value{case="a_pos_inf"} +Inf
            value{case="b_neg_inf"} -Inf
            value{case="c_nan"} NaN
            value{case="d_small"} 1e-05
            value{case="e_million"} 1000000
            value{case="f_huge"} 1e+16
            value{case="g_tenth"} 0.1
            value{case="h_negative"} -2.5
            value{case="i_neg_zero"} 0

            """
        )
    }

    func testConcurrentAddsAreExact() throws {
        let gauge = try MetricRegistry().gauge("level", help: "Level.").child
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            for _ in 0..<20_000 {
                if index.isMultiple(of: 2) { gauge.inc() } else { gauge.add(0.5) }
            }
        }
        XCTAssertEqual(gauge.value, 4 * 20_000 + 4 * 10_000)
    }
}
