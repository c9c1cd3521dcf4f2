import Foundation
import XCTest

/// `content-encoding: zstd` request bodies (what the Codex CLI sends with a ChatGPT login), end to end through the
/// proxy, compressed by the real `zstd` tool (scripts/setup.sh installs it). Until 2026-12-07 every body that
/// failed to decode was answered 415 `unsupported_content_encoding`, whose message asked for zstd.
final class RequestEncodingTests: XCTestCase {
    private var stack: SightlineStack!

    override func setUpWithError() throws {
        stack = try SightlineStack(label: "zstd-bodies", extraConfig: ["limits": ["maxBodyBytes": 65536]])
    }
    override func tearDown() { stack?.stop() }

    private func zstd(_ input: [UInt8]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["zstd", "-q", "-c"]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        stdin.fileHandleForWriting.write(Data(input))
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        return Array(out)
    }

    private func post(_ body: [UInt8], encoding: String) throws -> ParsedResponse {
        var head = "POST /v1/responses HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        head += "Content-Encoding: \(encoding)\r\nContent-Length: \(body.count)\r\n\r\n"
        return try HTTPTestClient.exchange(port: stack.proxyPort, Array(head.utf8) + body)
    }

    private func protocolErrors(_ reason: String) throws -> Double {
        try stack.metric(#"sightline_http_protocol_errors_total{reason="\#(reason)"}"#)
    }

    func testAZstdBodyIsDecodedAndServed() throws {
        let r = try post(try zstd(Array(#"{"model":"gpt-5.5","input":"hi"}"#.utf8)), encoding: "zstd")
        XCTAssertEqual(r.status, 200, r.bodyText)
        XCTAssertTrue(r.bodyText.contains("Hello from the Codex simulator"), r.bodyText)
    }

    /// 1 MB of history compresses far below the 64 KiB limit; decoded, it is over it: 413, as the same body sent
    /// uncompressed gets, and nothing goes upstream.
    func testAZstdBodyLargerThanTheLimitOnceDecodedIs413() throws {
        let big = #"{"model":"gpt-5.5","input":""# + String(repeating: "a", count: 1 << 20) + #""}"#
        let compressed = try zstd(Array(big.utf8))
        XCTAssertLessThan(compressed.count, 65536)
        let r = try post(compressed, encoding: "zstd")
        XCTAssertEqual(r.status, 413, r.bodyText)
        XCTAssertEqual(r.errorObject?["code"] as? String, "body_too_large", r.bodyText)
        XCTAssertEqual(try protocolErrors("body_too_large"), 1)
        XCTAssertEqual(try stack.simulatorLog().count, 0)
    }

    func testACorruptOrTruncatedZstdBodyIs400() throws {
        let good = try zstd(Array(#"{"model":"gpt-5.5","input":"hi"}"#.utf8))
        for body in [Array(good.dropLast(3)), Array("not zstd at all".utf8)] {
            let r = try post(body, encoding: "zstd")
            XCTAssertEqual(r.status, 400, r.bodyText)
            XCTAssertEqual(r.errorObject?["code"] as? String, "invalid_content_encoding", r.bodyText)
        }
        XCTAssertEqual(try protocolErrors("invalid_content_encoding"), 2)
        XCTAssertEqual(try protocolErrors("unsupported_media_type"), 0)
    }

    func testAnEncodingTheProxyDoesNotDecodeIs415AndSaysWhatItTakes() throws {
        let r = try post(Array(#"{"model":"gpt-5.5","input":"hi"}"#.utf8), encoding: "gzip")
        XCTAssertEqual(r.status, 415, r.bodyText)
        let message = try XCTUnwrap(r.errorObject?["message"] as? String)
        XCTAssertFalse(message.contains("gzip"), "it does not take gzip: \(message)")
        XCTAssertEqual(try protocolErrors("unsupported_media_type"), 1)
    }
}
