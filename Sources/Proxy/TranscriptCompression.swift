import CZlib

/// zlib (RFC 1950) compression of transcript item arrays, with the original length kept by the caller.
///
/// Level 1 (fastest): histories are repetitive enough that it keeps most of the ratio at a fraction of
/// the time of the default level, and it runs once per completed response.
/// Pure and stateless; safe from any thread. Input items compress well (repeated instructions, tool
/// schemas and history), which is what lets `TranscriptCache` hold many turns in a small budget.
enum TranscriptCompression {
    static func compress(_ bytes: [UInt8]) -> [UInt8]? {
        var capacity = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(capacity))
        let status = out.withUnsafeMutableBufferPointer { destination in
            bytes.withUnsafeBufferPointer { source in
                compress2(destination.baseAddress, &capacity, source.baseAddress, uLong(source.count), 1)
            }
        }
        guard status == Z_OK else { return nil }
        // An exact-size copy: trimming `out` in place would keep its `compressBound` capacity (about the input's
        // size), and the cache, which budgets compressed bytes, would hold ten times its bound in memory.
        return Array(out[0..<Int(capacity)])
    }

    static func decompress(_ bytes: [UInt8], originalLength: Int) -> [UInt8]? {
        var length = uLongf(originalLength)
        var out = [UInt8](repeating: 0, count: max(originalLength, 1))
        let status = out.withUnsafeMutableBufferPointer { destination in
            bytes.withUnsafeBufferPointer { source in
                uncompress(destination.baseAddress, &length, source.baseAddress, uLong(source.count))
            }
        }
        guard status == Z_OK, Int(length) == originalLength else { return nil }
        out.removeSubrange(originalLength...)
        return out
    }
}
