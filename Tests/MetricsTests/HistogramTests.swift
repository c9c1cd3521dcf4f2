import Dispatch
import XCTest

@testable import Metrics

final class HistogramTests: XCTestCase {
    func testGoldenLabeledHistogram() throws {
        let registry = MetricRegistry()
        let family = try registry.histogram(
            "rpc_duration_seconds",
            help: "RPC latency.",
            labels: ["transport"],
            buckets: [0.01, 0.1, 1, 10]
        )
        let http = family.labels("http")
        for value in [0.005, 0.01, 0.5, 2.5, 100] { http.observe(value) }
        _ = family.labels("websocket")
        XCTAssertEqual(
            registry.render(),
            """
            # HELP rpc_duration_seconds RPC latency.
            # TYPE rpc_duration_seconds histogram
            rpc_duration_seconds_bucket{transport="http",le="0.01"} 2
            rpc_duration_seconds_bucket{transport="http",le="0.1"} 2
            rpc_duration_seconds_bucket{transport="http",le="1"} 3
            rpc_duration_seconds_bucket{transport="http",le="10"} 4
            rpc_duration_seconds_bucket{transport="http",le="+Inf"} 5
            rpc_duration_seconds_sum{transport="http"} 103.015
            rpc_duration_seconds_count{transport="http"} 5
            rpc_duration_seconds_bucket{transport="websocket",le="0.01"} 0
            rpc_duration_seconds_bucket{transport="websocket",le="0.1"} 0
            rpc_duration_seconds_bucket{transport="websocket",le="1"} 0
            rpc_duration_seconds_bucket{transport="websocket",le="10"} 0
            rpc_duration_seconds_bucket{transport="websocket",le="+Inf"} 0
            rpc_duration_seconds_sum{transport="websocket"} 0
            rpc_duration_seconds_count{transport="websocket"} 0

            """
        )
    }

    func testUnlabeledHistogramGoldenAndTrailingInfBoundDropped() throws {
        let registry = MetricRegistry()
        let histogram = try registry.histogram("size_bytes", help: "Sizes.", buckets: [1024, .infinity]).child
        histogram.observe(2048)
        XCTAssertEqual(
            registry.render(),
            """
            # HELP size_bytes Sizes.
            # TYPE size_bytes histogram
            size_bytes_bucket{le="1024"} 0
            size_bytes_bucket{le="+Inf"} 1
            size_bytes_sum 2048
            size_bytes_count 1

            """
        )
    }

    func testNaNIsIgnoredEntirely() throws {
        let histogram = try MetricRegistry().histogram("x_seconds", help: "X.", buckets: [1]).child
        histogram.observe(0.5)
        histogram.observe(.nan)
        XCTAssertEqual(histogram.count, 1)
        XCTAssertEqual(histogram.sum, 0.5)
    }

    func testInfBucketEqualsCountUnderConcurrency() throws {
        let registry = MetricRegistry()
        let histogram = try registry.histogram("lat_seconds", help: "L.", buckets: SightlineMetrics.durationBuckets)
            .child
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            for step in 0..<10_000 { histogram.observe(Double(step % 1000) * 0.001 * Double(index + 1)) }
        }
        let cumulative = histogram.cumulativeCounts
        XCTAssertEqual(cumulative.last, 80_000)
        XCTAssertEqual(histogram.count, 80_000)
        XCTAssertEqual(cumulative, cumulative.sorted(), "buckets are cumulative")
        let text = registry.render()
        XCTAssertTrue(text.contains("lat_seconds_bucket{le=\"+Inf\"} 80000\n"))
        XCTAssertTrue(text.contains("lat_seconds_count 80000\n"))
    }

    func testBoundsAreInclusiveAndRenderedOnce() throws {
        let histogram = try MetricRegistry().histogram("b_seconds", help: "B.", buckets: [0.32, 0.64, 81.92]).child
        histogram.observe(0.64)
        XCTAssertEqual(histogram.cumulativeCounts, [0, 1, 1, 1])
    }
}
