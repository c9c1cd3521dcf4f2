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
        var event: String?
        var data: [UInt8] = []
        var hasData = false
        var id: String?
        var retry: Int?
        var result: SSEEvent?
        let bytes = Array(block)
        var lineStart = 0
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            guard b == 0x0A || b == 0x0D else {
                i += 1
                continue
            }
            let line = bytes[lineStart..<i]
            i += (b == 0x0D && i + 1 < bytes.count && bytes[i + 1] == 0x0A) ? 2 : 1
            lineStart = i
            if line.isEmpty {
                if hasData && result == nil { result = SSEEvent(event: event, data: data, id: id, retry: retry) }
                event = nil
                data = []
                hasData = false
                continue
            }
            if line.first == 0x3A { continue }
            let colon = line.firstIndex(of: 0x3A)
            let name = line[line.startIndex..<(colon ?? line.endIndex)]
            var value = colon.map { line[($0 + 1)...] } ?? line[line.endIndex...]
            if value.first == 0x20 { value = value.dropFirst() }
            switch String(decoding: name, as: UTF8.self) {
            case "data":
                if hasData { data.append(0x0A) }
                data.append(contentsOf: value)
                hasData = true
            case "event":
                event = String(decoding: value, as: UTF8.self)
            case "id":
                if !value.contains(0) { id = String(decoding: value, as: UTF8.self) }
            case "retry":
                if !value.isEmpty, value.allSatisfy({ $0 &- 0x30 < 10 }) {
                    retry = Int(String(decoding: value, as: UTF8.self))
                }
            default:
                break
            }
        }
        return result
    }
}
