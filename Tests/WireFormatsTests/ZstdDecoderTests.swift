import CZstd
import XCTest

@testable import WireFormats

final class ZstdDecoderTests: XCTestCase {
    /// Fixtures are compressed in-process with libzstd, so the test needs no `zstd` binary.
    private func compress(_ input: [UInt8], level: Int32 = 3, checksum: Bool = false) -> [UInt8] {
        let context = ZSTD_createCCtx()
        defer { ZSTD_freeCCtx(context) }
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, checksum ? 1 : 0)
        var out = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let n = input.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                ZSTD_compress2(context, dst.baseAddress, dst.count, src.baseAddress, src.count)
            }
        }
        precondition(ZSTD_isError(n) == 0)
        return Array(out[..<n])
    }

    func testRoundTripsACodexBody() throws {
        let body = Fixtures.codexBody(targetBytes: 200_000)
        let compressed = compress(body)
        XCTAssertLessThan(compressed.count, body.count / 4)
        XCTAssertEqual(try ZstdDecoder.decode(compressed, maxOutputBytes: 1 << 20), body)
        XCTAssertEqual(try ZstdDecoder.decode(compressed, maxOutputBytes: body.count), body, "limit is inclusive")
    }

    func testConcatenatedFramesAndEmptyContent() throws {
        let a = Fixtures.bytes("hello "), b = Fixtures.bytes("world")
        XCTAssertEqual(try ZstdDecoder.decode(compress(a) + compress(b), maxOutputBytes: 100), a + b)
        XCTAssertEqual(try ZstdDecoder.decode(compress([]), maxOutputBytes: 100), [])
    }

    func testZipBombIsStopped() {
        let bomb = compress([UInt8](repeating: 0x41, count: 8 << 20), level: 19)
        XCTAssertLessThan(bomb.count, 2048)
        XCTAssertThrowsError(try ZstdDecoder.decode(bomb, maxOutputBytes: 1 << 20)) {
            XCTAssertEqual(($0 as? ZstdError)?.reason, .tooLarge)
        }
    }

    func testCorruptAndTruncatedInput() {
        let good = compress(Fixtures.codexBody(targetBytes: 50_000))
        let cases: [([UInt8], ZstdError.Reason)] = [
            (Fixtures.bytes("{\"not\":\"zstd\"}"), .corrupt),
            (Array(good.prefix(good.count / 2)), .truncated),
            (good + [1, 2, 3, 4, 5, 6, 7, 8], .corrupt),
            ([], .truncated),
        ]
        for (input, reason) in cases {
            XCTAssertThrowsError(try ZstdDecoder.decode(input, maxOutputBytes: 1 << 20)) {
                XCTAssertEqual(($0 as? ZstdError)?.reason, reason)
            }
        }
        // Without a checksum a flipped literal byte can decode "successfully"; with one it must not.
        var flipped = compress(Fixtures.codexBody(targetBytes: 50_000), checksum: true)
        flipped[flipped.count / 2] ^= 0xFF
        XCTAssertThrowsError(try ZstdDecoder.decode(flipped, maxOutputBytes: 1 << 20)) {
            XCTAssertEqual(($0 as? ZstdError)?.reason, .corrupt)
        }
    }
}
