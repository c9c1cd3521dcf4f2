import CZlib
import XCTest

@testable import Metrics

final class GzipTests: XCTestCase {
    func testOutputIsGzipAndInflatesBack() throws {
        let input = Array(String(repeating: "sightline_requests_total{route=\"responses\"} 12345\n", count: 500).utf8)
        let compressed = try XCTUnwrap(Gzip.compress(input))
        XCTAssertEqual(Array(compressed.prefix(3)), [0x1f, 0x8b, 0x08])
        XCTAssertLessThan(compressed.count, input.count / 10)
        XCTAssertEqual(try inflate(compressed), input)
    }

    func testEmptyInputRoundTrips() throws {
        let compressed = try XCTUnwrap(Gzip.compress([]))
        XCTAssertEqual(Array(compressed.prefix(3)), [0x1f, 0x8b, 0x08])
        XCTAssertEqual(try inflate(compressed), [])
    }
}

/// Inflates a whole gzip or zlib stream with `sl_inflate_init_auto`; fails the test on any zlib error.
func inflate(_ input: [UInt8]) throws -> [UInt8] {
    var stream = z_stream()
    guard sl_inflate_init_auto(&stream) == Z_OK else { throw InflateError() }
    defer { inflateEnd(&stream) }
    var input = input
    var output: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16 * 1024)
    var status = Z_OK
    try input.withUnsafeMutableBufferPointer { inBuffer in
        stream.next_in = inBuffer.baseAddress
        stream.avail_in = uInt(inBuffer.count)
        repeat {
            let produced = chunk.withUnsafeMutableBufferPointer { outBuffer -> Int in
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = uInt(outBuffer.count)
                status = CZlib.inflate(&stream, Z_NO_FLUSH)
                return outBuffer.count - Int(stream.avail_out)
            }
            output += chunk[..<produced]
            guard status == Z_OK || status == Z_STREAM_END else { throw InflateError() }
        } while status != Z_STREAM_END
    }
    return output
}

struct InflateError: Error {}
