import HTTPServer

/// Finds the end of the upstream's answer to a WebSocket upgrade (the blank line after its headers) in the
/// bytes received so far, and parses that head.
///
/// Each `scan` searches only the bytes added since the previous one (and the three before them, where a split
/// `\r\n\r\n` may start), so a head that arrives in many small reads costs linear time, not quadratic. A head
/// longer than `maxBytes` (64 KiB by default, the `maxHeaderBytes` our own server allows a request) is
/// `tooLarge`: an upstream that never ends its headers must not grow the buffer until the connect timeout.
/// It does not read the socket, decide anything about the status, or look past the head (the refusal body
/// and the first frames are the caller's).
/// Pure: no I/O, no clock. Concurrency: a value owned by the socket's I/O thread.
struct UpstreamHandshakeHeadScanner: Sendable {
    enum Outcome: Equatable, Sendable {
        /// No blank line yet, and room for more.
        case needMore
        /// The head is the first `length` bytes, its final `\r\n\r\n` included.
        case head(length: Int)
        /// The head is, or would end up, longer than `maxBytes`.
        case tooLarge
    }

    static let defaultMaxBytes = 64 * 1024

    let maxBytes: Int
    /// How many bytes of the buffer earlier calls searched.
    private var scanned = 0

    init(maxBytes: Int = Self.defaultMaxBytes) { self.maxBytes = maxBytes }

    /// Looks for the end of the head in `buffer`, which holds everything received so far (earlier calls saw a
    /// prefix of it).
    mutating func scan(_ buffer: [UInt8]) -> Outcome {
        var i = max(0, scanned - 3)
        while i + 3 < buffer.count {
            if buffer[i] == 13, buffer[i + 1] == 10, buffer[i + 2] == 13, buffer[i + 3] == 10 {
                return i + 4 <= maxBytes ? .head(length: i + 4) : .tooLarge
            }
            i += 1
        }
        scanned = buffer.count
        // Any blank line still to come would end past what is here.
        return buffer.count >= maxBytes ? .tooLarge : .needMore
    }

    /// The status and headers of `head` (without its final blank line); nil when the status line has no
    /// numeric code. Lines without a colon are skipped.
    static func parse(_ head: ArraySlice<UInt8>) -> (status: Int, headers: HTTPHeaders)? {
        var lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines.removeFirst().split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
        var headers = HTTPHeaders()
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.add(String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return (status, headers)
    }
}
