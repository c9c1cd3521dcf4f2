/// Incremental decoder of a `Transfer-Encoding: chunked` body (RFC 9112 §7.1): request bodies here, and the
/// proxy's read of an upstream's refusal of a WebSocket upgrade.
///
/// Pure: no I/O. Feed it whatever bytes arrived; it appends de-chunked data to the caller's buffer and
/// says how much input it used. Strict: chunk sizes are hex digits only (at most 15), lines end in CRLF,
/// bare LF is rejected. Chunk extensions are ignored and trailer fields are skipped (never surfaced).
/// Extension and trailer bytes are bounded by `maxMetadataBytes` so they cannot grow without limit.
/// Concurrency: a value owned by one connection's parser.
public struct ChunkedDecoder: Sendable {
    public enum Result: Equatable, Sendable {
        case needMore
        case done
        case failed(HTTPParseError)
    }

    private enum State: Sendable {
        case sizeStart, size, sizeWhitespace, ext, sizeLF, data, dataCR, dataLF
        case trailerStart, trailerLine, trailerLF, finalLF, done
    }

    public let maxMetadataBytes: Int
    private var state = State.sizeStart
    private var chunkRemaining = 0
    private var sizeDigits = 0
    private var metadataBytes = 0

    public init(maxMetadataBytes: Int) { self.maxMetadataBytes = maxMetadataBytes }

    public var isDone: Bool { if case .done = state { true } else { false } }

    /// Decodes from `input`, appending data to `body`; fails with 413 once `body` would exceed `maxBodyBytes`
    /// (detected from the chunk size, before the chunk's data arrives).
    public mutating func decode(
        _ input: UnsafeRawBufferPointer,
        into body: inout [UInt8],
        maxBodyBytes: Int
    ) -> (consumed: Int, result: Result) {
        let n = input.count
        var i = 0
        while i < n {
            if case .data = state {
                let take = min(chunkRemaining, n - i)
                body.appendRaw(UnsafeRawBufferPointer(rebasing: input[i..<(i + take)]))
                i += take
                chunkRemaining -= take
                if chunkRemaining == 0 { state = .dataCR }
                continue
            }
            let c = input[i]
            i += 1
            metadataBytes += 1
            if metadataBytes > maxMetadataBytes {
                return (i, .failed(.badChunked("Chunk extensions or trailers are too long.")))
            }
            switch state {
            case .sizeStart:
                guard let v = ASCII.hexValue(c) else { return (i, .failed(.badChunked("Invalid chunk size."))) }
                chunkRemaining = v
                sizeDigits = 1
                state = .size
            case .size:
                if let v = ASCII.hexValue(c) {
                    sizeDigits += 1
                    guard sizeDigits <= 15 else { return (i, .failed(.badChunked("Chunk size is too large."))) }
                    chunkRemaining = chunkRemaining << 4 | v
                } else if c == ASCII.cr {
                    state = .sizeLF
                } else if c == ASCII.semicolon {
                    state = .ext
                } else if c == ASCII.space || c == ASCII.tab {
                    state = .sizeWhitespace
                } else {
                    return (i, .failed(.badChunked("Invalid chunk size.")))
                }
            case .sizeWhitespace:
                if c == ASCII.semicolon {
                    state = .ext
                } else if c == ASCII.cr {
                    state = .sizeLF
                } else if c != ASCII.space && c != ASCII.tab {
                    return (i, .failed(.badChunked("Invalid chunk size.")))
                }
            case .ext:
                if c == ASCII.cr {
                    state = .sizeLF
                } else if c == ASCII.lf {
                    return (i, .failed(.badChunked("Bare LF in chunk extension.")))
                }
            case .sizeLF:
                guard c == ASCII.lf else { return (i, .failed(.badChunked("Chunk size line must end in CRLF."))) }
                if chunkRemaining == 0 {
                    metadataBytes = 0
                    state = .trailerStart
                } else {
                    guard body.count + chunkRemaining <= maxBodyBytes else { return (i, .failed(.bodyTooLarge)) }
                    state = .data
                }
            case .dataCR:
                guard c == ASCII.cr else { return (i, .failed(.badChunked("Chunk data must end in CRLF."))) }
                state = .dataLF
            case .dataLF:
                guard c == ASCII.lf else { return (i, .failed(.badChunked("Chunk data must end in CRLF."))) }
                metadataBytes = 0
                state = .sizeStart
            case .trailerStart:
                if c == ASCII.cr {
                    state = .finalLF
                } else if c == ASCII.lf {
                    return (i, .failed(.badChunked("Bare LF in trailer section.")))
                } else {
                    state = .trailerLine
                }
            case .trailerLine:
                if c == ASCII.cr {
                    state = .trailerLF
                } else if c == ASCII.lf {
                    return (i, .failed(.badChunked("Bare LF in trailer section.")))
                }
            case .trailerLF:
                guard c == ASCII.lf else { return (i, .failed(.badChunked("Trailer line must end in CRLF."))) }
                state = .trailerStart
            case .finalLF:
                guard c == ASCII.lf else { return (i, .failed(.badChunked("Chunked body must end in CRLF."))) }
                state = .done
                return (i, .done)
            case .data, .done:
                return (i - 1, .done)
            }
        }
        return (i, .needMore)
    }
}
