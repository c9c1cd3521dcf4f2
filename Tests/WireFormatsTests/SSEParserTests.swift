import XCTest

@testable import WireFormats

final class SSEParserTests: XCTestCase {
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

    func testParserAcrossEverySplitOfARealStream() throws {
        let stream = Fixtures.bytes(Fixtures.fullStream())
        var whole = SSEParser()
        let reference = try whole.feed(stream)
        XCTAssertEqual(reference.map(\.event), [
            "response.created", "response.in_progress", "response.output_item.added", "response.output_text.delta",
            "response.output_item.done", "response.output_item.done", "response.completed",
        ])
        XCTAssertNoThrow(try JSONTopLevel.scan(reference[6].data))
        for split in stride(from: 0, through: stream.count, by: 1) {
            var parser = SSEParser()
            let events = try parser.feed(Array(stream[..<split])) + parser.feed(Array(stream[split...]))
            XCTAssertEqual(events, reference, "split at \(split)")
        }
    }

    func testLeadingBOMIsStrippedEvenWhenSplit() throws {
        let stream: [UInt8] = [0xEF, 0xBB, 0xBF] + Fixtures.bytes("data: x\n\n")
        for split in 0...4 {
            var parser = SSEParser()
            let events = try parser.feed(Array(stream[..<split])) + parser.feed(Array(stream[split...]))
            XCTAssertEqual(events, [SSEEvent(data: Fixtures.bytes("x"))], "split at \(split)")
        }
    }

    func testLastEventIDPersists() throws {
        var parser = SSEParser()
        _ = try parser.feed(Fixtures.bytes("id: 1\ndata: a\n\ndata: b\n\n"))
        XCTAssertEqual(parser.lastEventID, "1")
    }
}
