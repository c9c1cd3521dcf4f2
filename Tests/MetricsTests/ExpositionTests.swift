import XCTest

@testable import Metrics

final class ExpositionTests: XCTestCase {
    func testContentType() {
        XCTAssertEqual(Exposition.contentType, "text/plain; version=0.0.4; charset=utf-8")
    }

    func testGzipNegotiationTable() {
        let table: [(String?, Bool)] = [
            (nil, false),
            ("", false),
            ("gzip", true),
            ("GZIP", true),
            ("x-gzip", true),
            ("identity", false),
            ("deflate, br", false),
            ("gzip;q=0", false),
            ("gzip; q=0.000", false),
            ("gzip;q=0.001", true),
            ("gzip;Q=1", true),
            ("gzip;q=1.000", true),
            ("gzip;q=1.5", false),
            ("gzip;q=abc", false),
            ("gzip;q=0.0001", false),
            ("*", true),
            ("*;q=0", false),
            ("gzip;q=0, *", false),
            ("*, gzip;q=0", false),
            ("gzip;q=0.5, *;q=0", true),
            ("br;q=1.0, gzip;q=0.8, *;q=0.1", true),
            ("  deflate ; q=1 ,  gzip ; q=0.2 ", true),
            ("identity, *;q=0", false),
        ]
        for (header, expected) in table {
            XCTAssertEqual(Exposition.negotiate(acceptEncoding: header), expected, "\(header ?? "nil")")
        }
    }
}
