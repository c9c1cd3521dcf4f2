import Glibc

/// The leading run of text-delta event blocks in a chunk of an SSE stream, found in place: what a committed
/// stream forwards byte for byte, without framing each event into an array of its own.
///
/// A block counts when its first line is `event: response.….delta`, it holds no CR, and it ends at its first
/// blank line (LF LF); the run stops before the first block that is not such or not complete in the chunk.
/// Meaningful only where an `SSEFramer` has nothing pending (`SSEFramer.isIdle`): then each block found is
/// exactly a block the framer would return for the same bytes, and the framer stays idle after them, so the
/// rest of the chunk can be fed to it as if the run had gone through it.
/// Pure; reads only the bytes it is given.
public enum SSEDeltaRun {
    private static let typePrefix: [UInt8] = Array("response.".utf8)
    private static let typeSuffix: [UInt8] = Array(".delta".utf8)

    /// Bytes and events of the leading run of whole delta blocks in `chunk` (0, 0 when it starts otherwise).
    public static func prefix(of chunk: UnsafeRawBufferPointer) -> (bytes: Int, events: Int) {
        guard let base = chunk.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return (0, 0) }
        let count = chunk.count
        var start = 0
        var events = 0
        while let end = blockEnd(base, from: start, count: count) {
            start = end
            events += 1
        }
        return (start, events)
    }

    /// The index just past the delta block starting at `start`, or nil when there is none complete there.
    private static func blockEnd(_ p: UnsafePointer<UInt8>, from start: Int, count: Int) -> Int? {
        guard let type = SSELine.eventType(p + start, count - start),
            type.count >= typePrefix.count + typeSuffix.count,
            memcmp(p + start + type.lowerBound, typePrefix, typePrefix.count) == 0,
            memcmp(p + start + type.upperBound - typeSuffix.count, typeSuffix, typeSuffix.count) == 0
        else { return nil }
        let lineEnd = start + type.upperBound
        // Walk the remaining lines to the first empty one.
        var lf = lineEnd
        while true {
            let next = lf + 1
            guard next < count else { return nil }
            if p[next] == 0x0A {
                // A CR anywhere would end lines (or the block) where this walk does not see it.
                guard memchr(p + start, 0x0D, next + 1 - start) == nil else { return nil }
                return next + 1
            }
            guard let hit = memchr(p + next, 0x0A, count - next) else { return nil }
            lf = UnsafeRawPointer(hit) - UnsafeRawPointer(p)
        }
    }
}
