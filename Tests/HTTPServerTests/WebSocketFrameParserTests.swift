import HTTPServer
import XCTest

final class WebSocketFrameParserTests: XCTestCase {
    private func events(
        _ bytes: [UInt8],
        role: WebSocketFrameParser.Role = .server,
        max: Int = 1 << 20
    )
        throws(WebSocketProtocolError) -> [WebSocketEvent]
    {
        var reader = WebSocketReader(role: role, maxMessageBytes: max)
        // Feed byte by byte: the parser must be incremental.
        var out: [WebSocketEvent] = []
        for byte in bytes {
            reader.append([byte])
            while let event = try reader.next() { out.append(event) }
        }
        return out
    }

    private func error(
        _ bytes: [UInt8],
        role: WebSocketFrameParser.Role = .server,
        max: Int = 1 << 20
    )
        -> WebSocketProtocolError?
    {
        do {
            _ = try events(bytes, role: role, max: max)
            return nil
        } catch {
            return error
        }
    }

    func testRFCMaskedHelloExample() throws {
        // RFC 6455 §5.7: a single-frame masked text message containing "Hello".
        let frame: [UInt8] = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
        XCTAssertEqual(try events(frame), [.text(Array("Hello".utf8))])
        XCTAssertEqual(
            WebSocketFrameEncoder.encode(
                opcode: .text,
                payload: Array("Hello".utf8),
                maskingKey: (0x37, 0xFA, 0x21, 0x3D)
            ),
            frame
        )
    }

    func testUnmaskedServerFrameForClient() throws {
        XCTAssertEqual(try events([0x81, 0x05] + Array("Hello".utf8), role: .client), [.text(Array("Hello".utf8))])
    }

    func testLengthEncodings() throws {
        for size in [0, 125, 126, 65535, 65536, 200_000] {
            let payload = (0..<size).map { UInt8($0 & 0xFF) }
            let frame = WebSocketFrameEncoder.client(.binary, payload)
            let headerLength = size <= 125 ? 2 : (size <= 65535 ? 4 : 10)
            XCTAssertEqual(frame.count, headerLength + 4 + size)
            var reader = WebSocketReader(role: .server, maxMessageBytes: 1 << 20)
            reader.append(frame)
            XCTAssertEqual(try reader.next(), .binary(payload), "size \(size)")
        }
    }

    func testAppendedServerFramesEqualSingleFramesAndParseInOrder() throws {
        let sizes = [0, 125, 126, 65535, 65536, 200_000]
        var burst: [UInt8] = [0xEE]  // what the buffer already held stays in front
        for size in sizes {
            let payload = (0..<size).map { UInt8(0x61 + $0 % 26) }  // text: valid UTF-8
            var one: [UInt8] = []
            WebSocketFrameEncoder.appendServer(.text, payload, to: &one)
            XCTAssertEqual(one, WebSocketFrameEncoder.server(.text, payload), "size \(size)")
            WebSocketFrameEncoder.appendServer(.text, payload, to: &burst)
        }
        XCTAssertEqual(burst.first, 0xEE)
        var reader = WebSocketReader(role: .client, maxMessageBytes: 1 << 20)
        reader.append(Array(burst.dropFirst()))
        for size in sizes {
            guard case .text(let payload)? = try? reader.next() else { return XCTFail("size \(size) missing") }
            XCTAssertEqual(payload.count, size)
        }
    }

    func testFragmentedMessageWithInterleavedPing() throws {
        let bytes =
            WebSocketFrameEncoder.client(.text, Array("Hel".utf8), fin: false)
            + WebSocketFrameEncoder.client(.ping, [1, 2])
            + WebSocketFrameEncoder.client(.continuation, Array("lo".utf8), fin: false)
            + WebSocketFrameEncoder.client(.continuation, Array("!".utf8))
        XCTAssertEqual(try events(bytes), [.ping([1, 2]), .text(Array("Hello!".utf8))])
    }

    func testProtocolErrors() {
        let cases: [(String, [UInt8], WebSocketFrameParser.Role, UInt16, String)] = [
            ("unmasked client", [0x81, 0x01, 0x41], .server, 1002, "unmasked_client_frame"),
            ("masked server", WebSocketFrameEncoder.client(.text, [0x41]), .client, 1002, "masked_server_frame"),
            ("rsv1", [0xC1, 0x80, 0, 0, 0, 0], .server, 1002, "reserved_bits_set"),
            ("opcode 3", [0x83, 0x80, 0, 0, 0, 0], .server, 1002, "unknown_opcode"),
            (
                "fragmented ping", WebSocketFrameEncoder.client(.ping, [], fin: false), .server, 1002,
                "fragmented_control_frame"
            ),
            (
                "long ping", WebSocketFrameEncoder.client(.ping, [UInt8](repeating: 0, count: 126)), .server, 1002,
                "control_frame_too_long"
            ),
            (
                "bare continuation", WebSocketFrameEncoder.client(.continuation, [0x41]), .server, 1002,
                "unexpected_continuation"
            ),
            (
                "text inside fragments",
                WebSocketFrameEncoder.client(.text, [0x41], fin: false) + WebSocketFrameEncoder.client(.text, [0x41]),
                .server, 1002, "interleaved_message"
            ),
            ("64-bit msb", [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0], .server, 1002, "invalid_length"),
            ("bad utf8", WebSocketFrameEncoder.client(.text, [0xC3, 0x28]), .server, 1007, "invalid_utf8"),
            ("surrogate", WebSocketFrameEncoder.client(.text, [0xED, 0xA0, 0x80]), .server, 1007, "invalid_utf8"),
            ("overlong", WebSocketFrameEncoder.client(.text, [0xC0, 0xAF]), .server, 1007, "invalid_utf8"),
            ("close 1 byte", WebSocketFrameEncoder.client(.close, [0x03]), .server, 1002, "invalid_close_payload"),
            ("close 1005", WebSocketFrameEncoder.client(.close, [0x03, 0xED]), .server, 1002, "invalid_close_code"),
            ("close 999", WebSocketFrameEncoder.client(.close, [0x03, 0xE7]), .server, 1002, "invalid_close_code"),
            ("close 2000", WebSocketFrameEncoder.client(.close, [0x07, 0xD0]), .server, 1002, "invalid_close_code"),
            (
                "close bad reason", WebSocketFrameEncoder.client(.close, [0x03, 0xE8, 0xFF]), .server, 1007,
                "invalid_utf8"
            ),
        ]
        for (name, bytes, role, code, reason) in cases {
            let failure = error(bytes, role: role)
            XCTAssertEqual(failure?.closeCode, code, name)
            XCTAssertEqual(failure?.reason, reason, name)
        }
    }

    func testSizeLimits() {
        // A frame whose header announces more than the limit fails before its payload arrives.
        var reader = WebSocketReader(role: .server, maxMessageBytes: 100)
        reader.append([0x82, 0xFE, 0x01, 0x00])
        XCTAssertThrowsError(try reader.next()) { XCTAssertEqual(($0 as? WebSocketProtocolError)?.closeCode, 1009) }
        // Fragments that are each small but together too big.
        let fragments =
            WebSocketFrameEncoder.client(.binary, [UInt8](repeating: 1, count: 60), fin: false)
            + WebSocketFrameEncoder.client(.continuation, [UInt8](repeating: 1, count: 60))
        XCTAssertEqual(error(fragments, max: 100)?.reason, "message_too_big")
        XCTAssertEqual(error(fragments, max: 100)?.closeCode, 1009)
    }

    func testValidUTF8AndClosePayloads() throws {
        let text = "héllo ✓ 𝄞"
        XCTAssertEqual(try events(WebSocketFrameEncoder.client(.text, Array(text.utf8))), [.text(Array(text.utf8))])
        let close = WebSocketFrameEncoder.client(.close, WebSocketFrameEncoder.closePayload(code: 4000, reason: "bye"))
        XCTAssertEqual(try events(close), [.close(code: 4000, reason: "bye")])
        XCTAssertEqual(try events(WebSocketFrameEncoder.client(.close, [])), [.close(code: nil, reason: "")])
        let long = String(repeating: "é", count: 100)
        XCTAssertEqual(WebSocketFrameEncoder.closePayload(code: 1000, reason: long).count, 2 + 122)
    }

    func testWordAtATimeMaskAndUTF8MatchTheBytewiseRules() {
        var generator = SystemRandomNumberGenerator()
        for length in Array(0...40) + [1023, 4097] {
            let key = (UInt8.random(in: 0...255), UInt8.random(in: 0...255), UInt8.random(in: 0...255), UInt8(7))
            let original = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var masked = original
            WebSocketFrameEncoder.applyMask(&masked, key: key)
            let keyBytes = [key.0, key.1, key.2, key.3]
            XCTAssertEqual(
                masked,
                original.enumerated().map { $0.element ^ keyBytes[$0.offset & 3] },
                "length \(length)"
            )
            WebSocketFrameEncoder.applyMask(&masked, key: key)
            XCTAssertEqual(masked, original)

            // Mostly ASCII with one multi-byte sequence (valid or not) at a random place, so the word-wide
            // ASCII skip ends on every alignment.
            let ascii = (0..<length).map { _ in UInt8.random(in: 0x20...0x7E, using: &generator) }
            for sequence: [UInt8] in [
                [0xC3, 0xA9], [0xE2, 0x82, 0xAC], [0xF0, 0x9F, 0x98, 0x80], [0xC3], [0xED, 0xA0, 0x80], [0x80],
            ] {
                let at = length == 0 ? 0 : Int.random(in: 0...length)
                var bytes = ascii
                bytes.insert(contentsOf: sequence, at: at)
                let expected = String(validatingUTF8: bytes.map { CChar(bitPattern: $0) } + [0]) != nil
                XCTAssertEqual(
                    WebSocketMessageAssembler.isValidUTF8(bytes),
                    expected,
                    "\(sequence) at \(at) of \(length)"
                )
            }
        }
    }

    func testHandshakeAcceptVector() {
        XCTAssertEqual(
            WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        )
    }

    func testHandshakeValidation() {
        let good: HTTPHeaders = [
            "Upgrade": "WebSocket", "Connection": "keep-alive, Upgrade", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
        ]
        XCTAssertEqual(
            try? WebSocketHandshake.validate(method: "GET", headers: good).get(),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        )
        func failure(_ method: String, _ change: (inout HTTPHeaders) -> Void) -> WebSocketHandshake.Failure? {
            var h = good
            change(&h)
            if case .failure(let f) = WebSocketHandshake.validate(method: method, headers: h) { return f }
            return nil
        }
        XCTAssertEqual(failure("POST") { _ in }?.reason, "websocket_bad_method")
        XCTAssertEqual(failure("GET") { $0.set("Upgrade", "h2c") }?.reason, "websocket_bad_upgrade")
        XCTAssertEqual(failure("GET") { $0.set("Connection", "keep-alive") }?.reason, "websocket_bad_connection")
        XCTAssertEqual(failure("GET") { $0.set("Sec-WebSocket-Version", "8") }?.status, 426)
        XCTAssertEqual(failure("GET") { $0.set("Sec-WebSocket-Key", "c2hvcnQ=") }?.reason, "websocket_bad_key")
        XCTAssertEqual(failure("GET") { $0.remove("Sec-WebSocket-Key") }?.reason, "websocket_bad_key")
    }

    func testClientResponseValidation() {
        let key = "dGhlIHNhbXBsZSBub25jZQ=="
        var h: HTTPHeaders = ["Upgrade": "websocket", "Sec-WebSocket-Accept": "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="]
        XCTAssertNil(WebSocketHandshake.validateResponse(status: 101, headers: h, key: key))
        XCTAssertEqual(WebSocketHandshake.validateResponse(status: 426, headers: h, key: key)?.status, 426)
        h.set("Sec-WebSocket-Accept", "AAAA")
        XCTAssertEqual(
            WebSocketHandshake.validateResponse(status: 101, headers: h, key: key)?.reason,
            "websocket_bad_accept"
        )
    }
}
