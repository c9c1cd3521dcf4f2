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
        // Uninitialised scratch (zeroing it cost 5% of a request's instructions), then an exact-size copy:
        // keeping the scratch would keep its `compressBound` capacity (about the input's size), and the cache,
        // which budgets compressed bytes, would hold ten times its bound in memory.
        let scratch = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: Int(capacity))
        defer { scratch.deallocate() }
        let status = bytes.withUnsafeBufferPointer { source in
            compress2(scratch.baseAddress, &capacity, source.baseAddress, uLong(source.count), 1)
        }
        guard status == Z_OK else { return nil }
        return Array(UnsafeBufferPointer(rebasing: scratch[0..<Int(capacity)]))
    }

    static func decompress(_ bytes: [UInt8], originalLength: Int) -> [UInt8]? {
        var length = uLongf(originalLength)
        var status: Int32 = Z_DATA_ERROR
        let out = [UInt8](unsafeUninitializedCapacity: max(originalLength, 1)) { destination, initialized in
            status = bytes.withUnsafeBufferPointer { source in
                uncompress(destination.baseAddress, &length, source.baseAddress, uLong(source.count))
            }
            initialized = status == Z_OK ? min(Int(length), originalLength) : 0
        }
        guard status == Z_OK, Int(length) == originalLength else { return nil }
        return out
    }
}
