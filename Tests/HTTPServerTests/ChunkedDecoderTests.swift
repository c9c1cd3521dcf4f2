import XCTest

@testable import HTTPServer

final class ChunkedDecoderTests: XCTestCase {
    private func decode(
        _ text: String,
        maxBody: Int = 1024,
        maxMetadata: Int = 64
    ) -> (String, ChunkedDecoder.Result, Int) {
        var decoder = ChunkedDecoder(maxMetadataBytes: maxMetadata)
        var body: [UInt8] = []
        let bytes = Array(text.utf8)
        let (consumed, result) = bytes.withUnsafeBytes { decoder.decode($0, into: &body, maxBodyBytes: maxBody) }
        return (String(decoding: body, as: UTF8.self), result, consumed)
    }

    func testStopsRightAfterTheLastCRLF() {
        let (body, result, consumed) = decode("3\r\nabc\r\n0\r\n\r\nGET /next")
        XCTAssertEqual(body, "abc")
        XCTAssertEqual(result, .done)
        XCTAssertEqual(consumed, 13)
    }

    func testUppercaseHexAndWhitespaceBeforeExtension() {
        let (body, result, _) = decode("A ;name=\"v\"\r\n0123456789\r\n0\r\n\r\n")
        XCTAssertEqual(body, "0123456789")
        XCTAssertEqual(result, .done)
    }

    func testExtensionsAreBounded() {
        let (_, result, _) = decode("1;\(String(repeating: "e", count: 100))\r\n")
        XCTAssertEqual(result, .failed(.badChunked("Chunk extensions or trailers are too long.")))
    }

    func testBodyLimitIsCheckedBeforeData() {
        let (_, result, consumed) = decode("10\r\n", maxBody: 8)
        XCTAssertEqual(result, .failed(.bodyTooLarge))
        XCTAssertEqual(consumed, 4)
    }

    func testMissingSizeIsRejected() {
        XCTAssertEqual(decode(";x\r\n").1, .failed(.badChunked("Invalid chunk size.")))
        XCTAssertEqual(decode("\r\n").1, .failed(.badChunked("Invalid chunk size.")))
    }
}
