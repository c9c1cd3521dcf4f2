/// Deterministic chunk boundaries derived from the input itself, shared by the harnesses that check an
/// incremental parser gives the same answer however its input is split.
///
/// The split depends only on the bytes, so a crash input replays exactly. Sizes are small (1…`maxChunk`) so
/// boundaries land inside CRLFs, tokens and chunk-size lines, where incremental parsers go wrong.
/// Concurrency: a value; libFuzzer calls the harness on one thread.
struct FuzzSplit {
    private var state: UInt64

    init(_ data: UnsafeRawBufferPointer) {
        // FNV-1a over the input: cheap and stable.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in data { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        state = h | 1
    }

    /// The next chunk size, 1…maxChunk.
    mutating func next(maxChunk: Int) -> Int {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return 1 + Int(state % UInt64(maxChunk))
    }

    /// The input cut into consecutive chunks.
    mutating func chunks(of bytes: [UInt8], maxChunk: Int) -> [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        var i = 0
        while i < bytes.count {
            let n = min(next(maxChunk: maxChunk), bytes.count - i)
            out.append(bytes[i..<(i + n)])
            i += n
        }
        return out
    }
}

/// Stops the process so libFuzzer records the input as a crash, with a message saying which invariant broke.
func fuzzInvariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("fuzz invariant violated: \(message())") }
}
