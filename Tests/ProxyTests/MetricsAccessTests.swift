import HTTPServer
import LogRedaction
import XCTest

@testable import Proxy

final class MetricsAccessTests: XCTestCase {
    func testOpenWithoutAToken() {
        XCTAssertTrue(MetricsAccess(tokenSHA256: nil).admits(HTTPHeaders()))
    }

    func testRequiresTheBearerTokenWhoseHashIsConfigured() {
        let access = MetricsAccess(tokenSHA256: SHA256.hash(Array("metrics-FAKE".utf8)))
        func headers(_ value: String?) -> HTTPHeaders {
            var h = HTTPHeaders()
            if let value { h.add("authorization", value) }
            return h
        }
        XCTAssertTrue(access.admits(headers("Bearer metrics-FAKE")))
        XCTAssertTrue(access.admits(headers("bearer   metrics-FAKE ")))
        XCTAssertFalse(access.admits(headers(nil)))
        XCTAssertFalse(access.admits(headers("Bearer metrics-FAKf")))
        XCTAssertFalse(access.admits(headers("Basic metrics-FAKE")))
        XCTAssertFalse(access.admits(headers("metrics-FAKE")))
    }
}
