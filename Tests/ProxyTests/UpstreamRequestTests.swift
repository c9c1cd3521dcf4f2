import XCTest

@testable import Proxy

/// How `UpstreamRequest` headers become libcurl header lines (`CurlRequestHeaders`).
final class UpstreamRequestTests: XCTestCase {
    func testHeaderLinesDropFramingAndInjectionAndSuppressCurlDefaults() {
        let lines = CurlRequestHeaders.lines(
            for: [
                ("Authorization", "Bearer sk-test-FAKE"), ("Content-Length", "9"), ("transfer-encoding", "chunked"),
                ("X-Empty", ""), ("X-Evil", "a\r\nInjected: yes"), ("Bad Name", "x"), ("x-multi", "1"),
                ("x-multi", "2"),
            ],
            hasBody: true
        )
        XCTAssertEqual(
            lines,
            [
                "Authorization: Bearer sk-test-FAKE", "X-Empty;", "x-multi: 1", "x-multi: 2", "Accept:", "Expect:",
                "Content-Type:",
            ]
        )
    }

    func testCallerAcceptAndContentTypeAreKept() {
        let lines = CurlRequestHeaders.lines(
            for: [("accept", "text/event-stream"), ("content-type", "application/json")],
            hasBody: true
        )
        XCTAssertEqual(lines, ["accept: text/event-stream", "content-type: application/json", "Expect:"])
    }

    /// libcurl sends POST fields, and adds its form type to them, for any body and for a POST without one.
    func testWhichRequestsGoAsPostFields() {
        let cases: [(String, Bool, Bool)] = [
            ("POST", true, true), ("post", true, true), ("POST", false, true), ("PUT", false, true),
            ("PUT", true, false), ("GET", true, false), ("DELETE", true, false), ("GET", false, true),
        ]
        for (method, bodyIsEmpty, expected) in cases {
            XCTAssertEqual(
                CurlRequestHeaders.sendsFields(method: method, bodyIsEmpty: bodyIsEmpty),
                expected,
                "\(method), empty body: \(bodyIsEmpty)"
            )
        }
    }
}
