import XCTest

@testable import WireFormats

final class SSEParserTests: XCTestCase {
    func testParserAcrossEverySplitOfARealStream() throws {
        let stream = Fixtures.bytes(Fixtures.fullStream())
        var whole = SSEParser()
        let reference = try whole.feed(stream)
        XCTAssertEqual(
            reference.map(\.event),
            [
                "response.created", "response.in_progress", "response.output_item.added", "response.output_text.delta",
                "response.output_item.done", "response.output_item.done", "response.completed",
            ]
        )
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
