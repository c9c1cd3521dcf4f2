import Dispatch
import XCTest

@testable import Metrics

final class CounterTests: XCTestCase {
    func testUnlabeledCounterRendersZeroFromRegistration() throws {
        let registry = MetricRegistry()
        _ = try registry.counter("jobs_total", help: "Jobs run.")
        XCTAssertEqual(
            registry.render(),
            """
            # HELP jobs_total Jobs run.
            # TYPE jobs_total counter
            jobs_total 0

            """
        )
    }

    func testLabeledCounterGoldenSortsLabelsAndSeries() throws {
        let registry = MetricRegistry()
        let family = try registry.counter("http_requests_total", help: "Requests.", labels: ["method", "code"])
        family.labels("post", "500").increment(by: 0)
        family.labels("get", "200").increment()
        family.labels("get", "200").increment(by: 2)
        XCTAssertTrue(family.labels("get", "200") === family.labels(["get", "200"]), "children are cached")
        XCTAssertEqual(
            registry.render(),
            """
            # HELP http_requests_total Requests.
            # TYPE http_requests_total counter
            http_requests_total{code="200",method="get"} 3
            http_requests_total{code="500",method="post"} 0

            """
        )
    }

    func testUnlabeledChildAndEmptyLabelsAreTheSameSeries() throws {
        let family = try MetricRegistry().counter("a_total", help: "A.")
        family.child.increment()
        family.labels().increment()
        XCTAssertEqual(family.child.value, 2)
    }

    func testConcurrentIncrementsAreExact() throws {
        let registry = MetricRegistry()
        let counter = try registry.counter("hits_total", help: "Hits.").child
        let family = try registry.counter("by_worker_total", help: "Hits.", labels: ["worker"])
        let threads = 8
        let perThread = 50_000
        DispatchQueue.concurrentPerform(iterations: threads) { index in
            let child = family.labels(String(index % 2))
            for _ in 0..<perThread {
                counter.increment()
                child.increment(by: 2)
            }
        }
        XCTAssertEqual(counter.value, UInt64(threads * perThread))
        XCTAssertEqual(family.labels("0").value + family.labels("1").value, UInt64(2 * threads * perThread))
        XCTAssertTrue(registry.render().contains("hits_total 400000\n"))
    }
}
