/// Simulates the backend's prompt cache: how many input tokens of a request count as `cached_tokens`.
///
/// Model: 4 bytes of canonical input ≈ 1 token, and the cache works in 64-token blocks. For each
/// (account, `prompt_cache_key`) it remembers a chained hash at every block boundary of the previous
/// request's input; the cached tokens of the next request are 64 × the number of leading blocks whose
/// chained hash matches, provided the input is at least `minimumTokens` long. A different account or a
/// different key starts from nothing, which is what lets tests prove account stickiness. Requests without a
/// key share the per-account entry under "" (the real backend routes by prefix there, too). A different model or
/// a different `tools` array starts from nothing as well: the real cache is per model, and the tools come first in
/// the prompt, so changing them misses every block after them (until 2026-12-07 the model ignored both).
///
/// Pure: no I/O and no clock. Does not model eviction by time; the table is bounded by `maxEntries` and
/// forgets the oldest entry first. Concurrency: a value type, owned by `SimulatorState` under its lock.
struct PromptCacheModel: Sendable {
    static let bytesPerToken = 4
    static let tokensPerBlock = 64
    static let bytesPerBlock = bytesPerToken * tokensPerBlock

    struct Key: Hashable, Sendable {
        var account: String
        var promptCacheKey: String
        var model: String
        /// `SimulatedRequest.toolsDigest`: 0 without tools.
        var toolsDigest: UInt64
    }

    var minimumTokens: Int
    var maxEntries: Int = 50_000
    private var entries: [Key: [UInt64]] = [:]
    private var insertionOrder: [Key] = []
    private var orderHead = 0

    init(minimumTokens: Int) { self.minimumTokens = minimumTokens }

    /// Tokens the simulator reports as `input_tokens` for `canonicalInput`.
    static func inputTokens(_ canonicalInput: [UInt8]) -> Int {
        max(1, (canonicalInput.count + bytesPerToken - 1) / bytesPerToken)
    }

    private static let fnvOffsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    private static let fnvPrime: UInt64 = 0x0000_0100_0000_01B3

    /// FNV-1a of `bytes` (the tools' digest); `blockHashes` chains the same function through the input.
    static func fnv1a(_ bytes: some Sequence<UInt8>) -> UInt64 {
        bytes.reduce(fnvOffsetBasis) { ($0 ^ UInt64($1)) &* fnvPrime }
    }

    /// Chained FNV-1a hash at the end of every complete block.
    static func blockHashes(_ bytes: [UInt8]) -> [UInt64] {
        var hashes: [UInt64] = []
        hashes.reserveCapacity(bytes.count / bytesPerBlock)
        var hash = fnvOffsetBasis
        var inBlock = 0
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* fnvPrime
            inBlock += 1
            if inBlock == bytesPerBlock {
                hashes.append(hash)
                inBlock = 0
            }
        }
        return hashes
    }

    /// Returns the cached tokens for this request and remembers its input as the new previous one.
    mutating func observe(
        account: String,
        promptCacheKey: String?,
        model: String = "",
        toolsDigest: UInt64 = 0,
        canonicalInput: [UInt8]
    ) -> Int {
        let key = Key(account: account, promptCacheKey: promptCacheKey ?? "", model: model, toolsDigest: toolsDigest)
        let hashes = Self.blockHashes(canonicalInput)
        var cached = 0
        if Self.inputTokens(canonicalInput) >= minimumTokens, let previous = entries[key] {
            var blocks = 0
            while blocks < hashes.count, blocks < previous.count, hashes[blocks] == previous[blocks] { blocks += 1 }
            cached = blocks * Self.tokensPerBlock
        }
        remember(key, hashes)
        return cached
    }

    mutating func reset() {
        entries = [:]
        insertionOrder = []
        orderHead = 0
    }

    private mutating func remember(_ key: Key, _ hashes: [UInt64]) {
        if entries.updateValue(hashes, forKey: key) == nil {
            insertionOrder.append(key)
            if insertionOrder.count - orderHead > maxEntries {
                entries[insertionOrder[orderHead]] = nil
                orderHead += 1
                if orderHead > maxEntries {
                    insertionOrder.removeFirst(orderHead)
                    orderHead = 0
                }
            }
        }
    }
}
