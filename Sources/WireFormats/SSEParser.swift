/// Incremental SSE parser: feed byte chunks, get complete events.
///
/// Built on `SSEFramer` (same line-ending rules, chunk-split handling and `maxEventBytes` bound) plus
/// `SSEEvent.parse(block:)`; tracks the stream's last event id. Use `SSEFramer` directly when the original
/// bytes must be forwarded. It strips a leading UTF-8 BOM, as the spec says.
/// Concurrency: a mutable value owned by one stream.
public struct SSEParser: Sendable {
    private var framer: SSEFramer
    private var sawFirstBytes = false
    private var bomCandidate: [UInt8] = []
    /// The last `id:` seen so far, as the spec's "last event ID buffer".
    public private(set) var lastEventID: String?

    public init(maxEventBytes: Int = SSEFramer.defaultMaxEventBytes) {
        framer = SSEFramer(maxEventBytes: maxEventBytes)
    }

    public mutating func feed(_ chunk: [UInt8]) throws(SSEError) -> [SSEEvent] {
        var chunk = chunk[...]
        if !sawFirstBytes {
            // Hold back up to three bytes until we know whether the stream starts with a BOM.
            bomCandidate.append(contentsOf: chunk)
            let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
            if bomCandidate.count < 3 && bom.starts(with: bomCandidate) { return [] }
            sawFirstBytes = true
            chunk = bomCandidate.starts(with: bom) ? bomCandidate.dropFirst(3) : bomCandidate[...]
            bomCandidate = []
        }
        var events: [SSEEvent] = []
        for block in try framer.feed(chunk) {
            guard let event = SSEEvent.parse(block: block) else { continue }
            if let id = event.id { lastEventID = id }
            events.append(event)
        }
        return events
    }
}
