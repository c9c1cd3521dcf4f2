import HTTPServer
import XCTest

@testable import Proxy

/// `UpstreamHandshakeHeadScanner`: where the upgrade answer's head ends, fed as the socket delivers it.
final class UpstreamHandshakeHeadScannerTests: XCTestCase {
    typealias Outcome = UpstreamHandshakeHeadScanner.Outcome

    /// Each row: the reads that arrive, in order, and the outcome after each (the buffer is their concatenation).
    func testOutcomesReadByRead() {
        let rows: [(name: String, maxBytes: Int, reads: [String], expected: [Outcome])] = [
            ("one read", 1024, ["HTTP/1.1 101 OK\r\nA: b\r\n\r\n"], [.head(length: 25)]),
            ("frames after the head stay out", 1024, ["HTTP/1.1 101 OK\r\n\r\n\u{81}\u{0}"], [.head(length: 19)]),
            (
                "terminator split over reads", 1024, ["HTTP/1.1 101 OK\r\nA: b\r", "\n\r", "\n"],
                [.needMore, .needMore, .head(length: 25)]
            ),
            (
                "byte by byte", 1024, ["H", "\r", "\n", "\r", "\n"],
                [.needMore, .needMore, .needMore, .needMore, .head(length: 5)]
            ),
            ("a head of exactly the limit", 20, ["HTTP/1.1 101\r\nXY\r\n\r\n"], [.head(length: 20)]),
            ("one byte over the limit", 20, ["HTTP/1.1 101\r\nXYZ\r\n\r\n"], [.tooLarge]),
            ("no end by the limit", 20, ["HTTP/1.1 101 OK\r\nX: y\r\n", "X: y\r\n"], [.tooLarge, .tooLarge]),
            ("short of the limit, no end yet", 20, ["HTTP/1.1 101 OK\r\nX\r"], [.needMore]),
        ]
        for row in rows {
            var scanner = UpstreamHandshakeHeadScanner(maxBytes: row.maxBytes)
            var buffer: [UInt8] = []
            var outcomes: [Outcome] = []
            for read in row.reads {
                buffer += Array(read.utf8)
                outcomes.append(scanner.scan(buffer))
            }
            XCTAssertEqual(outcomes, row.expected, row.name)
        }
    }

    func testTheDefaultLimitIsTheServersHeaderLimit() {
        XCTAssertEqual(UpstreamHandshakeHeadScanner().maxBytes, HTTPServerConfiguration().maxHeaderBytes)
    }

    func testParse() throws {
        let head = Array("HTTP/1.1 429 Too Many Requests\r\nRetry-After:  7 \r\nno colon\r\nX-A: 1:2".utf8)
        let parsed = try XCTUnwrap(UpstreamHandshakeHeadScanner.parse(head[...]))
        XCTAssertEqual(parsed.status, 429)
        XCTAssertEqual(parsed.headers["retry-after"], "7")
        XCTAssertEqual(parsed.headers["x-a"], "1:2")
        XCTAssertEqual(parsed.headers.count, 2)
        XCTAssertNil(UpstreamHandshakeHeadScanner.parse(Array("HTTP/1.1 abc\r\nA: b".utf8)[...]))
        XCTAssertNil(UpstreamHandshakeHeadScanner.parse(Array("garbage".utf8)[...]))
    }
}
