/// One dispatched Server-Sent Event.
///
/// `event` is the last `event:` field (nil if none; the spec's default type is "message"). `data` joins the
/// `data:` lines with `\n`. `id` and `retry` are this event's own fields, if present (the stream-wide
/// last-event-id is `SSEParser.lastEventID`). Comments are not kept.
/// Concurrency: an immutable value; `Sendable`.
public struct SSEEvent: Sendable, Equatable {
    public var event: String?
    public var data: [UInt8]
    public var id: String?
    public var retry: Int?

    public init(event: String? = nil, data: [UInt8], id: String? = nil, retry: Int? = nil) {
        self.event = event
        self.data = data
        self.id = id
        self.retry = retry
    }

    public var dataString: String { String(decoding: data, as: UTF8.self) }

    /// Interprets one block from `SSEFramer` (or any complete bytes up to and including a blank line) per the
    /// WHATWG event-stream rules: fields with or without a space after the colon, lines without a colon as a
    /// field with an empty value, `:` comments skipped, unknown fields ignored. Returns nil when the block
    /// dispatches nothing (comments only, or no `data:` field). A trailing line without its blank line is
    /// ignored, as at end of stream.
    public static func parse(block: some Collection<UInt8>) -> SSEEvent? {
        // Runs once per upstream event on the proxy's hot path: work on the block's own storage (no copy),
        // and match field names as bytes (building a String per line cost more than the rest; see
        // docs/benchmarks.md).
        if let parsed = block.withContiguousStorageIfAvailable({ parse(bytes: $0) }) { return parsed }
        return Array(block).withUnsafeBufferPointer { parse(bytes: $0) }
    }

    static func parse(bytes: UnsafeBufferPointer<UInt8>) -> SSEEvent? {
        var event: String?
        var data: [UInt8] = []
        var hasData = false
        var id: String?
        var retry: Int?
        var result: SSEEvent?
        var lineStart = 0
        var i = 0
        let count = bytes.count
        let base = bytes.baseAddress
        while i < count, let base {
            // To the line's end with memchr (vectorised), not byte by byte: `response.completed` carries the
            // whole output, kilobytes on one line. A line without its ending is never complete: stop.
            let lineEnd = i + SSELine.contentLength(base + i, count - i)
            guard lineEnd < count else { break }
            i = lineEnd + ((bytes[lineEnd] == 0x0D && lineEnd + 1 < count && bytes[lineEnd + 1] == 0x0A) ? 2 : 1)
            let start = lineStart
            lineStart = i
            if lineEnd == start {
                if hasData && result == nil { result = SSEEvent(event: event, data: data, id: id, retry: retry) }
                event = nil
                data = []
                hasData = false
                continue
            }
            if bytes[start] == 0x3A { continue }
            var colon = start
            while colon < lineEnd && bytes[colon] != 0x3A { colon += 1 }
            var valueStart = colon < lineEnd ? colon + 1 : lineEnd
            if valueStart < lineEnd && bytes[valueStart] == 0x20 { valueStart += 1 }
            let value = UnsafeBufferPointer(rebasing: bytes[valueStart..<lineEnd])
            switch Field(bytes, start, colon) {
            case .data:
                if hasData { data.append(0x0A) }
                data.append(contentsOf: value)
                hasData = true
            case .event:
                event = String(decoding: value, as: UTF8.self)
            case .id:
                if !value.contains(0) { id = String(decoding: value, as: UTF8.self) }
            case .retry:
                if !value.isEmpty, value.allSatisfy({ $0 &- 0x30 < 10 }) {
                    retry = Int(String(decoding: value, as: UTF8.self))
                }
            case .other:
                break
            }
        }
        return result
    }

    /// The field names the parser acts on, recognised from the bytes of `bytes[from..<to]`.
    private enum Field {
        case data, event, id, retry, other

        init(_ p: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) {
            func matches(_ name: StaticString) -> Bool {
                guard to - from == name.utf8CodeUnitCount else { return false }
                let n = name.utf8Start
                for k in 0..<(to - from) where p[from + k] != n[k] { return false }
                return true
            }
            if matches("data") {
                self = .data
            } else if matches("event") {
                self = .event
            } else if matches("id") {
                self = .id
            } else if matches("retry") {
                self = .retry
            } else {
                self = .other
            }
        }
    }
}
