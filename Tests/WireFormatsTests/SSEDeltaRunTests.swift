import SightlineTestSupport
import XCTest

@testable import WireFormats

/// `SSEDeltaRun` lets a committed stream skip the framer for runs of whole delta blocks; taking that path
/// wherever the framer is idle must yield exactly the blocks (and bytes) the framer alone yields.
final class SSEDeltaRunTests: XCTestCase {
    private func run(_ text: String) -> (bytes: Int, events: Int) {
        Array(text.utf8).withUnsafeBytes { SSEDeltaRun.prefix(of: $0) }
    }

    private let delta = "event: response.output_text.delta\ndata: {\"delta\":\"hi\"}\n\n"

    func testCountsWholeDeltaBlocksAndStopsAtTheFirstOther() {
        XCTAssertEqual(run(delta + delta).events, 2)
        XCTAssertEqual(run(delta + delta).bytes, 2 * delta.utf8.count)
        let done = "event: response.output_item.done\ndata: {}\n\n"
        XCTAssertEqual(run(delta + done + delta).events, 1)
        XCTAssertEqual(run(delta + done + delta).bytes, delta.utf8.count)
    }

    func testRefusesIncompleteCarriageReturnAndNonDeltaBlocks() {
        let rows = [
            String(delta.dropLast()),  // no blank line yet
            "event: response.output_text.delta\r\ndata: {}\r\n\r\n",
            "event: response.output_text.delta\ndata: {\"a\":\"x\rdata: y\"}\n\n",
            "event: response.completed\ndata: {}\n\n",
            "data: {\"type\":\"response.output_text.delta\"}\n\n",
            ": keepalive\n\n",
            "",
        ]
        for row in rows { XCTAssertEqual(run(row).events, 0, row.debugDescription) }
    }

    func testTakingTheRunWhereTheFramerIsIdleYieldsWhatTheFramerYields() throws {
        let blocks = [
            delta,
            "event: response.reasoning_summary_text.delta\ndata: {\"delta\":\"é\"}\n\n",
            "event: response.output_item.done\ndata: {\"item\":{}}\n\n",
            "event: response.output_text.delta\r\ndata: {}\r\n\r\n",
            "event: response.output_text.delta\rdata: {}\r\r",
            ": keepalive\n\n",
            "event: response.output_text.delta\ndata: a\ndata: b\n\n",
            "\n",
        ].map { Array($0.utf8) }
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<400 {
            var stream: [UInt8] = []
            for _ in 0..<Int(rng.next() % 12) { stream += blocks[Int(rng.next() % UInt64(blocks.count))] }
            var cuts = Set<Int>()
            for _ in 0..<Int(rng.next() % 6) where !stream.isEmpty {
                cuts.insert(Int(rng.next() % UInt64(stream.count)))
            }
            let bounds = [0] + cuts.sorted() + [stream.count]
            let chunks = zip(bounds, bounds.dropFirst()).map { Array(stream[$0..<$1]) }

            var alone = SSEFramer()
            var expected: [[UInt8]] = []
            for chunk in chunks { expected += try alone.feed(chunk) }

            var framer = SSEFramer()
            var bytes: [UInt8] = []
            var events = 0
            // As ResponsesExchange consumes a chunk: the delta run wherever the framer is idle, else one block.
            for chunk in chunks {
                var rest = chunk[...]
                while !rest.isEmpty {
                    if framer.isIdle {
                        let run = rest.withUnsafeBytes { SSEDeltaRun.prefix(of: $0) }
                        if run.bytes > 0 {
                            bytes += rest.prefix(run.bytes)
                            events += run.events
                            rest = rest.dropFirst(run.bytes)
                            continue
                        }
                    }
                    let next = try rest.withUnsafeBytes { try framer.feedFirst($0) }
                    rest = rest.dropFirst(next.consumed)
                    guard let block = next.block else { break }
                    XCTAssertGreaterThan(next.consumed, 0)
                    events += 1
                    bytes += block
                }
            }
            XCTAssertEqual(bytes, expected.flatMap { $0 }, "stream \(stream.count) bytes, cuts \(cuts.sorted())")
            XCTAssertEqual(events, expected.count)
            XCTAssertEqual(Array(framer.remainder), Array(alone.remainder))
        }
    }
}
