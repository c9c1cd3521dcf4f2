import HTTPServer

/// libFuzzer target `websocket`: a server-side `WebSocketReader` (frame parser + message assembler) over
/// arbitrary client bytes.
///
/// Invariants beyond "does not crash or hang": no message exceeds the message limit; control payloads stay
/// within 125 bytes; every text message is valid UTF-8; a protocol error carries a close code that is legal
/// on the wire; and the events and the error are the same whether the bytes arrive at once or in pieces.
@_cdecl("LLVMFuzzerTestOneInput")
public func webSocketFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let bytes = Array(input)
    let whole = WebSocketRun.read([bytes[...]])
    var split = FuzzSplit(input)
    let pieces = WebSocketRun.read(split.chunks(of: bytes, maxChunk: 11))
    fuzzInvariant(whole == pieces, "split changed the outcome:\n whole: \(whole)\n split: \(pieces)")
    return 0
}

struct WebSocketRun: Equatable {
    static let maxMessageBytes = 4096

    var events: [WebSocketEvent] = []
    var error: WebSocketProtocolError?

    static func read(_ chunks: [ArraySlice<UInt8>]) -> WebSocketRun {
        var reader = WebSocketReader(role: .server, maxMessageBytes: maxMessageBytes, maxFrameBytes: maxMessageBytes)
        var run = WebSocketRun()
        for chunk in chunks {
            reader.append(chunk)
            do {
                while let event = try reader.next() {
                    check(event)
                    run.events.append(event)
                }
            } catch {
                fuzzInvariant(
                    WebSocketCloseCode.isValidOnWire(error.closeCode),
                    "illegal close code \(error.closeCode)"
                )
                run.error = error
                return run
            }
        }
        return run
    }

    static func check(_ event: WebSocketEvent) {
        switch event {
        case .text(let payload):
            fuzzInvariant(payload.count <= maxMessageBytes, "text of \(payload.count) bytes")
            fuzzInvariant(String(validating: payload, as: UTF8.self) != nil, "invalid UTF-8 passed as text")
        case .binary(let payload):
            fuzzInvariant(payload.count <= maxMessageBytes, "binary of \(payload.count) bytes")
        case .ping(let payload), .pong(let payload):
            fuzzInvariant(payload.count <= 125, "control payload of \(payload.count) bytes")
        case .close(let code, _):
            if let code { fuzzInvariant(WebSocketCloseCode.isValidOnWire(code), "close code \(code) passed through") }
        }
    }
}
