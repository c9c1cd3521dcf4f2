import XCTest

@testable import WireFormats

final class SSEFramerTests: XCTestCase {
    private let stream = Fixtures.bytes(
        ": keepalive\n\nevent: a\ndata: {\"x\":1}\n\nevent: b\r\ndata: 2\r\n\r\nevent: c\rdata: 3\r\rdata:4\n\n"
    )
    private let expectedBlocks = [
        ": keepalive\n\n", "event: a\ndata: {\"x\":1}\n\n", "event: b\r\ndata: 2\r\n\r\n", "event: c\rdata: 3\r\r",
        "data:4\n\n",
    ]

    func testBlocksInOneChunk() throws {
        var framer = SSEFramer()
        XCTAssertEqual(try framer.feed(stream).map { Fixtures.string($0) }, expectedBlocks)
        XCTAssertTrue(framer.remainder.isEmpty)
    }

    /// Every split position, and byte-by-byte: the concatenation of blocks plus remainder equals the input, and
    /// the parsed events are the same as for the unsplit stream.
    func testEverySplitPositionIsLossless() throws {
        var whole = SSEFramer()
        let reference = try whole.feed(stream).compactMap { SSEEvent.parse(block: $0) }
        XCTAssertEqual(reference.count, 4)
        for split in 0...stream.count {
            var framer = SSEFramer()
            let blocks = try framer.feed(Array(stream[..<split])) + framer.feed(Array(stream[split...]))
            XCTAssertEqual(blocks.flatMap { $0 } + framer.remainder, stream, "split at \(split)")
            XCTAssertEqual(blocks.compactMap { SSEEvent.parse(block: $0) }, reference, "split at \(split)")
        }
        var framer = SSEFramer()
        var blocks: [[UInt8]] = []
        for byte in stream { blocks += try framer.feed([byte]) }
        XCTAssertEqual(blocks.flatMap { $0 }, stream)
        XCTAssertEqual(blocks.compactMap { SSEEvent.parse(block: $0) }, reference)
    }

    func testCRAtChunkEndIsReturnedAtOnce() throws {
        var framer = SSEFramer()
        XCTAssertEqual(try framer.feed(Fixtures.bytes("data: 1\r\n\r")).map { Fixtures.string($0) }, ["data: 1\r\n\r"])
        // The LF completing that CRLF starts the next block and does not end it.
        XCTAssertEqual(try framer.feed(Fixtures.bytes("\ndata: 2\n")), [])
        XCTAssertEqual(try framer.feed(Fixtures.bytes("\n")).map { Fixtures.string($0) }, ["\ndata: 2\n\n"])
        XCTAssertEqual(SSEEvent.parse(block: Fixtures.bytes("\ndata: 2\n\n"))?.dataString, "2")
    }

    func testIncompleteEventStaysInRemainder() throws {
        var framer = SSEFramer()
        XCTAssertEqual(try framer.feed(Fixtures.bytes("data: 1\n\ndata: 2\n")).count, 1)
        XCTAssertEqual(Fixtures.string(framer.remainder), "data: 2\n")
    }

    func testOversizedEventThrows() throws {
        var framer = SSEFramer(maxEventBytes: 16)
        XCTAssertEqual(try framer.feed(Fixtures.bytes("data: 0123456\n\n")).count, 1)
        XCTAssertThrowsError(try framer.feed(Fixtures.bytes("data: 0123456789abcdef"))) {
            XCTAssertEqual(($0 as? SSEError)?.reason, .eventTooLarge)
        }
    }

    /// `feedFirst` at every split, one block at a time, yields exactly what `feed` yields, and keeps the rest.
    func testFeedFirstTakesOneBlockAtATime() throws {
        for split in 0...stream.count {
            var framer = SSEFramer()
            var blocks: [[UInt8]] = []
            for part in [stream[..<split], stream[split...]] {
                var rest = part
                while !rest.isEmpty {
                    let next = try rest.withUnsafeBytes { try framer.feedFirst($0) }
                    rest = rest.dropFirst(next.consumed)
                    if let block = next.block { blocks.append(block) } else { XCTAssertTrue(rest.isEmpty) }
                }
            }
            var whole = SSEFramer()
            let expected = try whole.feed(Array(stream[..<split])) + whole.feed(Array(stream[split...]))
            XCTAssertEqual(blocks, expected, "split at \(split)")
            XCTAssertEqual(framer.remainder, whole.remainder)
        }
        var framer = SSEFramer()
        let partial = Fixtures.bytes("data: 1\n\ndata: 2\n")
        let first = try partial.withUnsafeBytes { try framer.feedFirst($0) }
        XCTAssertEqual(first.block.map { Fixtures.string($0) }, "data: 1\n\n")
        XCTAssertEqual(first.consumed, 9)
        XCTAssertTrue(framer.isIdle)
        let second = try partial[9...].withUnsafeBytes { try framer.feedFirst($0) }
        XCTAssertNil(second.block)
        XCTAssertEqual(Fixtures.string(framer.remainder), "data: 2\n")
    }

    func testFeedFirstBoundsThePendingEvent() throws {
        var framer = SSEFramer(maxEventBytes: 16)
        let big = Fixtures.bytes("data: 0123456789abcdef")
        XCTAssertThrowsError(try big.withUnsafeBytes { try framer.feedFirst($0) }) {
            XCTAssertEqual(($0 as? SSEError)?.reason, .eventTooLarge)
        }
    }

    func testRawBufferFeed() throws {
        var framer = SSEFramer()
        let blocks = try stream.withUnsafeBytes { try framer.feed($0) }
        XCTAssertEqual(blocks.count, expectedBlocks.count)
    }
}
