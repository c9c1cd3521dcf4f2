import XCTest

@testable import WireFormats

final class SSEEventTests: XCTestCase {
    func testBlockParsingTable() {
        let cases: [(block: String, expected: SSEEvent?)] = [
            ("event: t\ndata: {}\n\n", SSEEvent(event: "t", data: Fixtures.bytes("{}"))),
            ("event:t\ndata:{}\n\n", SSEEvent(event: "t", data: Fixtures.bytes("{}"))),
            ("data:  two spaces\n\n", SSEEvent(data: Fixtures.bytes(" two spaces"))),
            ("data: a\ndata: b\r\ndata\n\n", SSEEvent(data: Fixtures.bytes("a\nb\n"))),
            ("data\n\n", SSEEvent(data: [])),
            (": comment\ndata: x\n: another\n\n", SSEEvent(data: Fixtures.bytes("x"))),
            (": keepalive\n\n", nil),
            ("event: only-type\n\n", nil),
            ("id: 7\nretry: 1500\ndata: x\n\n", SSEEvent(data: Fixtures.bytes("x"), id: "7", retry: 1500)),
            ("retry: 15x\nunknown: y\ndata: x\n\n", SSEEvent(data: Fixtures.bytes("x"))),
            ("data: x: y\n\n", SSEEvent(data: Fixtures.bytes("x: y"))),
            ("data: no blank line\n", nil),
        ]
        for c in cases {
            XCTAssertEqual(SSEEvent.parse(block: Fixtures.bytes(c.block)), c.expected, c.block)
        }
    }
}
