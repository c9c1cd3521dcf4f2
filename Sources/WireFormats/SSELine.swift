import Glibc

/// Line scanning shared by the SSE framer, the parser and the in-place checks (`SSEDeltaRun`, `SSEForwardOnly`).
enum SSELine {
    /// Bytes before the first CR or LF in `start..<start+count` (`count` when there is none), found with
    /// memchr (vectorised) instead of testing every byte.
    static func contentLength(_ start: UnsafePointer<UInt8>, _ count: Int) -> Int {
        let lf = memchr(start, 0x0A, count).map { UnsafeRawPointer($0) - UnsafeRawPointer(start) } ?? count
        return memchr(start, 0x0D, lf).map { UnsafeRawPointer($0) - UnsafeRawPointer(start) } ?? lf
    }

    private static let eventLead: [UInt8] = Array("event: ".utf8)

    /// Where the type sits when the first line of `start..<start+count` is `event: <type>` ending in LF (a CR
    /// before it stays in the type, so no listed type matches); nil for any other first line or none complete.
    static func eventType(_ start: UnsafePointer<UInt8>, _ count: Int) -> Range<Int>? {
        guard count > eventLead.count, memcmp(start, eventLead, eventLead.count) == 0,
            let lf = memchr(start, 0x0A, count)
        else { return nil }
        return eventLead.count..<(UnsafeRawPointer(lf) - UnsafeRawPointer(start))
    }
}
