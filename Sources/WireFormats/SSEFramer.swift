import Glibc

/// Splits an SSE byte stream into complete event blocks over the original bytes, for byte-exact forwarding.
///
/// Feed chunks as they arrive (any split, even mid-line or inside a CRLF); each call returns the blocks that
/// became complete, each ending with its terminating blank line. Line endings may be `\n`, `\r\n` or `\r`.
/// Invariant: the concatenation of all returned blocks plus `remainder` equals the bytes fed — nothing is
/// rewritten, added or dropped. A block may hold only comments (a keepalive) or only a stray line ending; parse
/// it with `SSEEvent.parse(block:)` to learn what it carries.
///
/// When a block ends in `\r` exactly at a chunk end, it is returned at once (no waiting for the next chunk), and
/// an `\n` that then starts the next chunk is treated as the rest of that line ending: it becomes the first byte
/// of the next block, which `SSEEvent.parse(block:)` ignores.
///
/// Bounded: if the pending, incomplete event exceeds `maxEventBytes`, `feed` throws `event_too_large`; the
/// framer must then be discarded. It does not interpret fields or validate UTF-8.
/// Concurrency: a mutable value owned by one stream.
public struct SSEFramer: Sendable {
    public static let defaultMaxEventBytes = 16 * 1024 * 1024

    public let maxEventBytes: Int
    private var pending: [UInt8] = []
    /// `pending[..<scanned]` has been examined already.
    private var scanned = 0
    /// No byte other than a line ending has been seen since the last line ending (or block start).
    private var lineEmpty = true
    /// The last byte examined was `\r`, so an `\n` now completes that line ending.
    private var afterCR = false

    public init(maxEventBytes: Int = SSEFramer.defaultMaxEventBytes) {
        self.maxEventBytes = maxEventBytes
    }

    /// Nothing is pending: the next byte fed starts a new block (see `SSEDeltaRun`).
    public var isIdle: Bool { pending.isEmpty && !afterCR && lineEmpty }

    /// Bytes of the incomplete event received so far (forward or drop them at end of stream).
    public var remainder: ArraySlice<UInt8> { pending[...] }

    public mutating func feed(_ chunk: [UInt8]) throws(SSEError) -> [[UInt8]] {
        pending.append(contentsOf: chunk)
        return try frame()
    }

    public mutating func feed(_ chunk: UnsafeRawBufferPointer) throws(SSEError) -> [[UInt8]] {
        pending.append(contentsOf: chunk)
        return try frame()
    }

    public mutating func feed(_ chunk: ArraySlice<UInt8>) throws(SSEError) -> [[UInt8]] {
        pending.append(contentsOf: chunk)
        return try frame()
    }

    /// Feeds `chunk` only as far as the end of the first block it completes: that block (nil when the chunk
    /// ends first, all of it then pending) and how many bytes of `chunk` it took. Lets a caller handle the
    /// rest of the chunk in place once the framer is idle again (see `SSEDeltaRun`); the invariant of `feed`
    /// holds for the bytes taken.
    public mutating func feedFirst(_ chunk: UnsafeRawBufferPointer) throws(SSEError) -> (block: [UInt8]?, consumed: Int)
    {
        var afterCR = afterCR
        var lineEmpty = lineEmpty
        let end = Self.blockEnd(
            in: chunk.assumingMemoryBound(to: UInt8.self),
            from: 0,
            afterCR: &afterCR,
            lineEmpty: &lineEmpty
        )
        self.afterCR = afterCR
        self.lineEmpty = lineEmpty
        guard let end else {
            pending.append(contentsOf: chunk)
            scanned = pending.count
            if pending.count > maxEventBytes { throw SSEError(.eventTooLarge) }
            return (nil, chunk.count)
        }
        // The block takes the pending storage over (no copy); the framer starts empty.
        var block = pending
        pending = []
        scanned = 0
        block.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[..<end]))
        return (block, end)
    }

    private mutating func frame() throws(SSEError) -> [[UInt8]] {
        // Every scan variable lives inside the closure and the results come back as a value: variables
        // captured and mutated by the closure were kept in memory and reloaded on every byte (the loop was
        // 10–14% of the proxy's instructions per streamed request; see docs/benchmarks.md).
        let scan = pending.withUnsafeBufferPointer { [scanned, afterCR, lineEmpty] p in
            var blocks: [[UInt8]] = []
            var blockStart = 0
            var afterCR = afterCR
            var lineEmpty = lineEmpty
            var i = scanned
            while let end = Self.blockEnd(in: p, from: i, afterCR: &afterCR, lineEmpty: &lineEmpty) {
                blocks.append(Array(p[blockStart..<end]))
                blockStart = end
                i = end
            }
            return (blocks: blocks, blockStart: blockStart, afterCR: afterCR, lineEmpty: lineEmpty)
        }
        let blocks = scan.blocks
        let blockStart = scan.blockStart
        afterCR = scan.afterCR
        lineEmpty = scan.lineEmpty
        if blockStart > 0 { pending.removeSubrange(0..<blockStart) }
        scanned = pending.count
        if pending.count > maxEventBytes { throw SSEError(.eventTooLarge) }
        return blocks
    }

    /// The index just past the first block end in `p[start...]`, carrying the line state across calls; nil
    /// when `p` ends first, the state then describing its end.
    @inline(__always)
    private static func blockEnd(
        in p: UnsafeBufferPointer<UInt8>,
        from start: Int,
        afterCR: inout Bool,
        lineEmpty: inout Bool
    ) -> Int? {
        var i = start
        let count = p.count
        while i < count {
            if afterCR {
                afterCR = false
                if p[i] == 0x0A {
                    i += 1
                    continue
                }
            }
            let b = p[i]
            guard b == 0x0A || b == 0x0D else {
                lineEmpty = false
                // Inside a line: jump to its ending with memchr (vectorised) instead of testing every byte.
                i += SSELine.contentLength(p.baseAddress! + i, count - i)
                continue
            }
            i += 1
            afterCR = b == 0x0D
            if !lineEmpty {
                lineEmpty = true
                continue
            }
            // A line ending on an empty line: the event is complete.
            if afterCR && i < count && p[i] == 0x0A {
                i += 1
                afterCR = false
            }
            return i
        }
        return nil
    }
}
