import CZstd
import HTTPServer
import XCTest

@testable import CodexSimulator

/// `content-encoding` was ignored: a real zstd body got 400 invalid_json, and an identity body labelled zstd 200.
final class SimulatedContentEncodingTests: XCTestCase {
    /// Compressed in-process with libzstd, so the test needs no `zstd` binary.
    private func zstd(_ input: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let n = input.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in ZSTD_compress(dst.baseAddress, dst.count, src.baseAddress, src.count, 3)
            }
        }
        precondition(ZSTD_isError(n) == 0)
        return Array(out[..<n])
    }

    func testDecodesByContentEncoding() {
        let body = Requests.body()
        let cases: [(String?, [UInt8], [UInt8]?)] = [
            (nil, body, body),
            ("identity", body, body),
            ("", body, body),
            ("zstd", zstd(body), body),
            (" ZSTD ", zstd(body), body),
            ("zstd", body, nil),  // an identity body labelled zstd
            ("zstd", Array(zstd(body).dropLast(3)), nil),
            ("gzip", body, nil),
            ("zstd, gzip", zstd(body), nil),
        ]
        for (i, (encoding, input, expected)) in cases.enumerated() {
            XCTAssertEqual(
                try? SimulatedContentEncoding.decode(input, contentEncoding: encoding),
                expected,
                "case \(i)"
            )
        }
    }

    func testAZstdBodyIsAnsweredAndABadOneIs400() throws {
        let h = Harness()
        let path = "/backend-api/codex/responses"
        func post(_ body: [UInt8], _ encoding: String) -> RecordingSink {
            let sink = h.send("POST", path, headers: Requests.chatgpt(1, [("content-encoding", encoding)]), body: body)
            sink.waitFinished()
            return sink
        }
        let answered = post(zstd(Requests.body(input: "Say hello")), "zstd")
        XCTAssertEqual(answered.snapshot.status, 200)
        XCTAssertEqual(answered.events.last?["type"] as? String, "response.completed")
        let done = answered.events.first { $0["type"] as? String == "response.output_text.done" }
        XCTAssertTrue((done?["text"] as? String)?.hasSuffix("Say hello") == true, "\(String(describing: done))")
        for (body, encoding) in [(Requests.body(), "zstd"), (Requests.body(), "br")] {
            let refused = post(body, encoding)
            XCTAssertEqual(refused.snapshot.status, 400, encoding)
            XCTAssertEqual((refused.json["error"] as? [String: Any])?["type"] as? String, "invalid_request_error")
        }
    }
}
