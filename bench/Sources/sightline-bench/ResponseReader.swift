import Foundation

/// Incremental HTTP/1.1 response reader for the load client: finds the status and framing in the head,
/// decodes chunked or length-delimited bodies, and counts SSE events (blank-line terminated blocks) in the
/// decoded body without keeping it.
///
/// Does not validate headers beyond what framing needs and keeps no body bytes. One per connection;
/// `reset()` between keep-alive responses. Not thread-safe (owned by the load loop's thread).
struct ResponseReader {
    enum Framing { case chunked, length(Int), untilClose }
    enum ChunkState { case size, data(Int), dataCRLF, trailer }

    var status = 0
    var headDone = false
    var complete = false
    var closeAfter = false
    var framing = Framing.untilClose
    var events = 0
    var bodyBytes = 0
    var failed = false

    private var head: [UInt8] = []
    private var chunkState = ChunkState.size
    private var sizeLine: [UInt8] = []
    private var trailerLineLength = 0
    private var lineLength = 0
    private var blockHasContent = false

    mutating func reset() { self = ResponseReader() }

    /// Feeds received bytes. Bytes after the end of the response are ignored (the client never pipelines).
    mutating func feed(_ p: UnsafeBufferPointer<UInt8>) {
        var i = 0
        if !headDone {
            while i < p.count {
                head.append(p[i])
                i += 1
                let n = head.count
                if n >= 4, head[n - 1] == 10, head[n - 2] == 13, head[n - 3] == 10, head[n - 4] == 13 {
                    parseHead()
                    break
                }
                if n > 65536 { failed = true; return }
            }
            if !headDone { return }
            if case .length(0) = framing { complete = true }
        }
        while i < p.count && !complete {
            switch framing {
            case .untilClose:
                body(p, i, p.count); i = p.count
            case .length(let remaining):
                let take = min(remaining, p.count - i)
                body(p, i, i + take); i += take
                framing = .length(remaining - take)
                if remaining - take == 0 { complete = true }
            case .chunked:
                i = chunked(p, i)
            }
        }
    }

    /// End of input: completes a close-delimited body.
    mutating func endOfInput() {
        if headDone, case .untilClose = framing { complete = true }
    }

    private mutating func chunked(_ p: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int {
        var i = start
        switch chunkState {
        case .size:
            while i < p.count {
                let b = p[i]; i += 1
                if b == 10 {
                    let hex = sizeLine.prefix { $0 != 59 && $0 != 13 && $0 != 32 }
                    guard let n = Int(String(decoding: hex, as: UTF8.self), radix: 16) else {
                        failed = true; complete = true; return p.count
                    }
                    sizeLine.removeAll(keepingCapacity: true)
                    chunkState = n == 0 ? .trailer : .data(n)
                    trailerLineLength = 0
                    return i
                }
                sizeLine.append(b)
            }
        case .data(let remaining):
            let take = min(remaining, p.count - i)
            body(p, i, i + take)
            i += take
            chunkState = remaining - take == 0 ? .dataCRLF : .data(remaining - take)
        case .dataCRLF:
            while i < p.count {
                let b = p[i]; i += 1
                if b == 10 { chunkState = .size; return i }
            }
        case .trailer:
            while i < p.count {
                let b = p[i]; i += 1
                if b == 10 {
                    if trailerLineLength == 0 { complete = true; return i }
                    trailerLineLength = 0
                } else if b != 13 {
                    trailerLineLength += 1
                }
            }
        }
        return i
    }

    private mutating func body(_ p: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) {
        bodyBytes += to - from
        var i = from
        while i < to {
            let b = p[i]
            if b == 10 {
                if lineLength == 0 {
                    if blockHasContent { events += 1; blockHasContent = false }
                } else {
                    blockHasContent = true
                }
                lineLength = 0
            } else if b != 13 {
                lineLength += 1
            }
            i += 1
        }
    }

    private mutating func parseHead() {
        headDone = true
        let text = String(decoding: head, as: UTF8.self)
        head = []
        let lines = text.split(separator: "\r\n")
        guard let first = lines.first else { failed = true; return }
        let parts = first.split(separator: " ")
        status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        var length: Int?
        var chunked = false
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces).lowercased()
            if name == "content-length" { length = Int(value) }
            if name == "transfer-encoding", value.contains("chunked") { chunked = true }
            if name == "connection", value.contains("close") { closeAfter = true }
        }
        if first.hasPrefix("HTTP/1.0") { closeAfter = true }
        framing = chunked ? .chunked : length.map { .length($0) } ?? .untilClose
        if case .untilClose = framing { closeAfter = true }
    }
}
