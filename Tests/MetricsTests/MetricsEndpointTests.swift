import XCTest

@testable import Metrics

final class MetricsEndpointTests: XCTestCase {
    private func registry() throws -> MetricRegistry {
        let registry = MetricRegistry()
        try registry.counter("served_total", help: "Served.").child.increment(by: 7)
        return registry
    }

    func testPlainResponse() throws {
        let registry = try registry()
        let response = MetricsEndpoint.response(registry: registry, acceptEncoding: "gzip;q=0")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers.map(\.0), ["Content-Type", "Vary"])
        XCTAssertEqual(response.headers.first?.1, "text/plain; version=0.0.4; charset=utf-8")
        XCTAssertEqual(response.headers.last?.1, "Accept-Encoding")
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), registry.render())
    }

    func testGzipResponse() throws {
        let registry = try registry()
        let response = MetricsEndpoint.response(registry: registry, acceptEncoding: "gzip")
        XCTAssertEqual(response.headers.map(\.0), ["Content-Type", "Vary", "Content-Encoding"])
        XCTAssertEqual(response.headers.last?.1, "gzip")
        XCTAssertEqual(String(decoding: try inflate(response.body), as: UTF8.self), registry.render())
    }
}
