import XCTest

@testable import HTTPServer

/// Table tests of the pure parser, each fed whole and one byte at a time (the results must agree).
final class HTTPRequestParserTests: XCTestCase {
    /// Drives the parser like a connection: keeps unconsumed bytes, feeds `pieceSize` bytes at a time.
    static func run(_ input: String, pieceSize: Int, maxHeader: Int = 1024, maxBody: Int = 64) -> [String] {
        var parser = HTTPRequestParser(maxHeaderBytes: maxHeader, maxBodyBytes: maxBody)
        let bytes = Array(input.utf8)
        var pending: [UInt8] = []
        var out: [String] = []
        var offset = 0
        while offset < bytes.count {
            let next = min(bytes.count, offset + pieceSize)
            pending += bytes[offset..<next]
            offset = next
            while true {
                let (consumed, event) = pending.withUnsafeBytes { parser.parse($0) }
                pending.removeFirst(consumed)
                switch event {
                case .needMore:
                    break
                case .head(let expects):
                    out.append("head expect=\(expects)")
                    continue
                case .request(let r, let keepAlive):
                    let query = r.query.map { "?\($0)" } ?? ""
                    out.append(
                        "\(r.method) \(r.path)\(query) 1.\(r.minorVersion) ka=\(keepAlive) body=\(String(decoding: r.body, as: UTF8.self))"
                    )
                    continue
                case .failed(let error):
                    out.append("error \(error.reason) \(error.status)")
                    return out
                }
                break
            }
        }
        return out
    }

    static let cases: [(name: String, input: String, expected: [String])] = [
        ("simple get", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", ["GET / 1.1 ka=true body="]),
        ("no host is fine", "GET /x HTTP/1.1\r\n\r\n", ["GET /x 1.1 ka=true body="]),
        ("query", "GET /a?b=1 HTTP/1.0\r\n\r\n", ["GET /a?b=1 1.0 ka=false body="]),
        ("1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", ["GET / 1.0 ka=true body="]),
        ("1.1 close", "GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n", ["GET / 1.1 ka=false body="]),
        ("leading CRLF", "\r\n\r\nGET / HTTP/1.1\r\n\r\n", ["GET / 1.1 ka=true body="]),
        (
            "pipelined",
            "GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 2\r\n\r\nhiGET /3 HTTP/1.1\r\n\r\n",
            [
                "GET /1 1.1 ka=true body=", "head expect=false", "POST /2 1.1 ka=true body=hi",
                "GET /3 1.1 ka=true body=",
            ]
        ),
        ("missing version", "GET /\r\n\r\n", ["error malformed_request 400"]),
        ("double space", "GET  / HTTP/1.1\r\n\r\n", ["error malformed_request 400"]),
        ("bad method", "G@T / HTTP/1.1\r\n\r\n", ["error malformed_request 400"]),
        ("http/2", "GET / HTTP/2.0\r\n\r\n", ["error malformed_request 400"]),
        ("trailing junk", "GET / HTTP/1.1 x\r\n\r\n", ["error malformed_request 400"]),
        ("bare LF", "GET / HTTP/1.1\nHost: a\n\n", ["error malformed_request 400"]),
        ("bad header name", "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", ["error malformed_request 400"]),
        ("space before colon", "GET / HTTP/1.1\r\nName : x\r\n\r\n", ["error malformed_request 400"]),
        ("no colon", "GET / HTTP/1.1\r\nNoColon\r\n\r\n", ["error malformed_request 400"]),
        ("obs-fold", "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", ["error malformed_request 400"]),
        ("control char", "GET / HTTP/1.1\r\nA: b\u{1}c\r\n\r\n", ["error malformed_request 400"]),
        (
            "content-length", "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
            ["head expect=false", "POST / 1.1 ka=true body=hello"]
        ),
        (
            "repeated equal CL", "POST / HTTP/1.1\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok",
            ["head expect=false", "POST / 1.1 ka=true body=ok"]
        ),
        (
            "conflicting CL", "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            ["error malformed_request 400"]
        ),
        ("non-numeric CL", "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", ["error malformed_request 400"]),
        ("signed CL", "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", ["error malformed_request 400"]),
        ("empty CL", "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", ["error malformed_request 400"]),
        (
            "CL and TE", "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            ["error malformed_request 400"]
        ),
        ("TE gzip", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", ["error malformed_request 400"]),
        ("TE on 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", ["error malformed_request 400"]),
        (
            "chunked",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-T: 1\r\n\r\n",
            ["head expect=false", "POST / 1.1 ka=true body=hello world"]
        ),
        ("truncated chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", ["head expect=false"]),
        (
            "bad hex", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            ["head expect=false", "error bad_chunked_encoding 400"]
        ),
        (
            "missing CRLF after data", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX",
            ["head expect=false", "error bad_chunked_encoding 400"]
        ),
        (
            "huge chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n",
            ["head expect=false", "error bad_chunked_encoding 400"]
        ),
        (
            "chunked over body limit", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n41\r\n",
            ["head expect=false", "error body_too_large 413"]
        ),
        ("CL over body limit", "POST / HTTP/1.1\r\nContent-Length: 65\r\n\r\n", ["error body_too_large 413"]),
        (
            "header too large", "GET / HTTP/1.1\r\nA: \(String(repeating: "x", count: 1100))\r\n\r\n",
            ["error header_too_large 431"]
        ),
        (
            "header never ends", "GET / HTTP/1.1\r\nA: \(String(repeating: "x", count: 1100))",
            ["error header_too_large 431"]
        ),
        (
            "expect continue", "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx",
            ["head expect=true", "POST / 1.1 ka=true body=x"]
        ),
        ("expect without body", "GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n", ["GET / 1.1 ka=true body="]),
        (
            "unknown expectation", "POST / HTTP/1.1\r\nExpect: magic\r\nContent-Length: 1\r\n\r\nx",
            ["error expectation_failed 417"]
        ),
    ]

    func testTable() {
        for c in Self.cases {
            XCTAssertEqual(Self.run(c.input, pieceSize: 1 << 20), c.expected, c.name)
            XCTAssertEqual(Self.run(c.input, pieceSize: 1), c.expected, "\(c.name), byte by byte")
            XCTAssertEqual(Self.run(c.input, pieceSize: 7), c.expected, "\(c.name), 7 bytes at a time")
        }
    }

    func testHeadersKeepOrderAndCase() {
        var parser = HTTPRequestParser(maxHeaderBytes: 1024, maxBodyBytes: 0)
        let bytes = Array("GET / HTTP/1.1\r\nX-One:  a b \r\nx-two:\tc\r\n\r\n".utf8)
        let (consumed, event) = bytes.withUnsafeBytes { parser.parse($0) }
        XCTAssertEqual(consumed, bytes.count)
        guard case .request(let request, _) = event else { return XCTFail("expected a request") }
        XCTAssertEqual(request.headers, HTTPHeaders([("X-One", "a b"), ("x-two", "c")]))
        XCTAssertEqual(request.headers["X-TWO"], "c")
    }
}
