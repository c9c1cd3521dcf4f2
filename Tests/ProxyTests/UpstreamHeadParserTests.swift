import XCTest

@testable import Proxy

final class UpstreamHeadParserTests: XCTestCase {
    func testSkipsInterimResponsesAndIgnoresTrailers() {
        var parser = UpstreamHeadParser()
        let lines = [
            "HTTP/1.1 100 Continue", "", "HTTP/1.1 200 OK", "X-A: 1", "x-a:  2 ", "Folded: one", "\ttwo", "",
            "Trailer: late", "",
        ]
        var heads: [UpstreamHeadParser.Head] = []
        for line in lines {
            if let head = parser.consume(line: line) { heads.append(head) }
        }
        XCTAssertEqual(heads.count, 1)
        XCTAssertEqual(heads.first?.status, 200)
        XCTAssertEqual(heads.first?.headers.map(\.0), ["X-A", "x-a", "Folded"])
        XCTAssertEqual(heads.first?.headers.map(\.1), ["1", "2", "one two"])
        XCTAssertTrue(parser.isComplete)
    }

    func testParsesHTTP2StatusLineFromRawBytesWithCRLF() {
        var parser = UpstreamHeadParser()
        var head: UpstreamHeadParser.Head?
        for line in ["HTTP/2 429\r\n", "retry-after: 3\r\n", "\r\n"] {
            let bytes = Array(line.utf8)
            head = bytes.withUnsafeBytes { parser.consume($0) } ?? head
        }
        XCTAssertEqual(head?.status, 429)
        XCTAssertEqual(head?.headers.first?.1, "3")
    }

    func testOddLinesAreParsedOrSkippedOnBytes() {
        var parser = UpstreamHeadParser()
        let lines = [
            "HTTP/1.1 2x0 Weird", "HTTP/1.1   503", ": no name", "no colon here", "Name :  a b \t", "Empty:", "\t ",
            "Café: é", "",
        ]
        var head: UpstreamHeadParser.Head?
        for line in lines { head = parser.consume(line: line) ?? head }
        XCTAssertEqual(head?.status, 503)
        XCTAssertEqual(head?.headers.map(\.0), ["Name", "Empty", "Café"])
        XCTAssertEqual(head?.headers.map(\.1), ["a b", "", "é"])

        var bad = UpstreamHeadParser()
        XCTAssertNil(bad.consume(line: "HTTP/1.1 2x0 Weird"))
        XCTAssertNil(bad.consume(line: ""), "a head without a status is not complete")
    }
}
