import Synchronization
import WireFormats

/// Remembers, per response id, the full input that produced a response and its output items, so a turn
/// that continues with `previous_response_id` can be replayed losslessly without the anchor.
///
/// Entries are zlib-compressed; the cache is bounded by total compressed bytes (and by entry count),
/// evicting the least recently used entry first. An entry larger than the whole budget is not stored.
/// `expandedInput(for:)` returns input + output of a response as one JSON array, and
/// `fullInput(previousResponseID:newItems:)` returns input + output + new items: the input a request with
/// `previous_response_id` X and items N stands for. Items are deduplicated by their `id` field: an item
/// whose `id` already appeared earlier in the result is dropped (first occurrence kept, order kept), so a
/// client that resends an output item with its `id` does not produce "Duplicate item found". Items
/// without an `id` (e.g. `function_call_output`, plain messages) are always kept.
/// It stores only what callers give it after a completed response (the caller's job); it never
/// fabricates items, does no I/O, and never logs (item bytes are conversation content).
/// Concurrency: `Sendable`; all state sits behind one `Mutex`. Compression runs outside the lock.
public final class TranscriptCache: Sendable {
    /// What is known about one cached response besides its items.
    public struct Metadata: Sendable, Equatable {
        public var accountIndex: Int
        public var model: String?
        /// Unix seconds.
        public var createdAt: Int64

        public init(accountIndex: Int, model: String?, createdAt: Int64) {
            self.accountIndex = accountIndex
            self.model = model
            self.createdAt = createdAt
        }
    }

    private struct Entry {
        var metadata: Metadata
        var input: [UInt8]
        var inputLength: Int
        var output: [UInt8]
        var outputLength: Int
        var previous: String?
        var next: String?
        var cost: Int { input.count + output.count }
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Most recently used end of the LRU list.
        var head: String?
        /// Least recently used end.
        var tail: String?
        var bytes = 0
    }

    public let maximumBytes: Int
    public let maximumEntries: Int
    private let state = Mutex(State())

    public init(maximumBytes: Int = 64 << 20, maximumEntries: Int = 10_000) {
        self.maximumBytes = maximumBytes
        self.maximumEntries = maximumEntries
    }

    /// Total compressed bytes held.
    public var byteCount: Int { state.withLock { $0.bytes } }
    public var count: Int { state.withLock { $0.entries.count } }

    /// Stores the transcript of `responseID`; `input` and `output` must be JSON arrays of items.
    /// Returns false (and stores nothing) when either is not an array or the entry exceeds the budget.
    @discardableResult
    public func store(responseID: String, input: [UInt8], output: [UInt8], metadata: Metadata) -> Bool {
        guard (try? JSONArray.elements(of: input[...])) != nil, (try? JSONArray.elements(of: output[...])) != nil
        else { return false }
        return store(responseID: responseID, scannedInput: input, output: output, metadata: metadata)
    }

    /// `store` for arrays the caller already scanned as JSON arrays (a request's `input` value, items joined
    /// with `JSONEncoding.array`): the same entry without a second full scan of a long history.
    @discardableResult
    func store(responseID: String, scannedInput input: [UInt8], output: [UInt8], metadata: Metadata) -> Bool {
        guard let packedInput = TranscriptCompression.compress(input),
            let packedOutput = TranscriptCompression.compress(output)
        else { return false }
        var entry = Entry(
            metadata: metadata,
            input: packedInput,
            inputLength: input.count,
            output: packedOutput,
            outputLength: output.count
        )
        guard entry.cost <= maximumBytes else { return false }
        state.withLock { state in
            remove(responseID, &state)
            entry.next = state.head
            if let head = state.head { state.entries[head]!.previous = responseID }
            state.head = responseID
            if state.tail == nil { state.tail = responseID }
            state.entries[responseID] = entry
            state.bytes += entry.cost
            while state.bytes > maximumBytes || state.entries.count > maximumEntries, let tail = state.tail {
                remove(tail, &state)
            }
        }
        return true
    }

    public func metadata(for responseID: String) -> Metadata? {
        state.withLock { $0.entries[responseID]?.metadata }
    }

    public func contains(_ responseID: String) -> Bool { state.withLock { $0.entries[responseID] != nil } }

    /// The input and output items of `responseID` as one deduplicated array; marks it recently used.
    public func expandedInput(for responseID: String) -> [UInt8]? {
        fullInput(previousResponseID: responseID, newItems: nil)
    }

    /// Input + output of `previousResponseID`, then `newItems` (a JSON array), deduplicated by item `id`.
    /// Nil when the response is not cached or `newItems` is not an array.
    public func fullInput(previousResponseID: String, newItems: [UInt8]?) -> [UInt8]? {
        let packed: Entry? = state.withLock { state in
            guard let entry = state.entries[previousResponseID] else { return nil }
            touch(previousResponseID, &state)
            return entry
        }
        guard let packed,
            let input = TranscriptCompression.decompress(packed.input, originalLength: packed.inputLength),
            let output = TranscriptCompression.decompress(packed.output, originalLength: packed.outputLength)
        else { return nil }
        return Self.concatenateDeduplicated([input, output] + (newItems.map { [$0] } ?? []))
    }

    public func remove(_ responseID: String) { state.withLock { remove(responseID, &$0) } }

    /// Joins JSON arrays, dropping an object item whose string `id` appeared in an earlier item.
    public static func concatenateDeduplicated(_ arrays: [[UInt8]]) -> [UInt8]? {
        var seen = Set<String>()
        var kept: [[UInt8]] = []
        for array in arrays {
            guard let values = try? JSONArray.values(of: array[...]) else { return nil }
            for value in values {
                if value.kind == .object, let id = (try? value.object())?.string(forKey: "id") {
                    guard seen.insert(id).inserted else { continue }
                }
                kept.append(Array(value.bytes))
            }
        }
        return JSONEncoding.array(kept)
    }

    private func touch(_ key: String, _ state: inout State) {
        guard state.head != key, let entry = state.entries[key] else { return }
        unlink(key, entry, &state)
        state.entries[key]!.previous = nil
        state.entries[key]!.next = state.head
        if let head = state.head { state.entries[head]!.previous = key }
        state.head = key
        if state.tail == nil { state.tail = key }
    }

    private func remove(_ key: String, _ state: inout State) {
        guard let entry = state.entries[key] else { return }
        unlink(key, entry, &state)
        state.entries[key] = nil
        state.bytes -= entry.cost
    }

    private func unlink(_ key: String, _ entry: Entry, _ state: inout State) {
        if let previous = entry.previous { state.entries[previous]!.next = entry.next } else { state.head = entry.next }
        if let next = entry.next { state.entries[next]!.previous = entry.previous } else { state.tail = entry.previous }
    }
}
