import Synchronization
import WireFormats

/// Remembers, per response id, the full input that produced a response and its output items, so a turn
/// that continues with `previous_response_id` can be replayed losslessly without the anchor.
///
/// Entries are deflated (`TranscriptCompression`); the cache is bounded by total compressed bytes (and by
/// entry count), evicting the least recently used first. An entry larger than the whole budget is not stored.
/// `expandedInput(for:)` returns input + output of a response as one JSON array, and
/// `fullInput(previousResponseID:newItems:)` returns input + output + new items: the input a request with
/// `previous_response_id` X and items N stands for. Items are deduplicated by their `id` field: an item
/// whose `id` already appeared earlier in the result is dropped (first occurrence kept, order kept), so a
/// client that resends an output item with its `id` does not produce "Duplicate item found". Items
/// without an `id` (e.g. `function_call_output`, plain messages) are always kept. Reasoning items without
/// `encrypted_content` are left out of both: a request without the anchor cannot carry them (see `fullInput`).
/// It stores only what callers give it after a completed response (the caller's job); it never
/// fabricates items, does no I/O, and never logs (item bytes are conversation content).
///
/// **Conversations are stored as chains.** Codex sends the whole history on every turn, so turn n+1's input
/// begins with turn n's input. Given the `session` of a turn, the cache compares (by `TranscriptDigest`) the
/// new input's first bytes with the input of the session's last stored turn, and when they match it stores
/// only the rest, linked to that entry: each turn costs the deflate of what it added, and a conversation
/// costs the cache about its own size instead of the sum of all its histories. Chains are at most
/// `maximumChainDepth` links deep (then a turn is stored whole and starts a new chain). An entry can only be
/// expanded while every entry it links to is held, so entries are evicted with their descendants, and
/// storing or reading an entry marks its whole chain as used: a conversation is kept or dropped as a whole,
/// least recently used first. Budgets count each entry's own compressed bytes.
/// Concurrency: `Sendable`; all state sits behind one `Mutex`. Hashing and compression run outside the lock.
public final class TranscriptCache: Sendable {
    /// What is known about one cached response besides its items.
    public struct Metadata: Sendable, Equatable {
        public var accountIndex: Int
        public var model: String?
        /// Unix seconds.
        public var createdAt: Int64
        /// The `prn_` pseudonym of the principal whose request produced the response; nil when anonymous.
        public var owner: String?

        public init(accountIndex: Int, model: String?, createdAt: Int64, owner: String? = nil) {
            self.accountIndex = accountIndex
            self.model = model
            self.createdAt = createdAt
            self.owner = owner
        }
    }

    /// The entry's input continues the input of `parent`: its first `prefix` bytes, then the entry's own.
    private struct Link {
        var parent: String
        var prefix: Int
    }

    /// A class, not a struct: the LRU list is relinked on every store and read, and copying a struct of nine
    /// references out of the dictionary and back cost 5% of a proxied request's CPU. Only touched under the lock.
    /// The LRU neighbours and the parent are references, not keys: marking a 32-deep chain as used by key cost
    /// about 200 string hashes per request (docs/benchmarks.md, fifth pass). An entry is in the LRU list exactly
    /// while `entries` holds it, and its parent is held at least as long as it is (evicted with descendants).
    private final class Entry {
        let key: String
        let metadata: Metadata
        /// Compressed: all of the input for a chain's first entry, the bytes after `link.prefix` otherwise.
        let ownInput: [UInt8]
        let ownInputLength: Int
        let link: Link?
        var depth = 0
        /// The whole input's length and the digest of all of it but its last byte (the closing bracket a
        /// continuing turn replaces with a comma).
        let inputLength: Int
        let inputDigest: Int
        let session: String?
        var children: [String] = []
        let output: [UInt8]
        let outputLength: Int
        /// The entry `link` names, once it is stored.
        var parent: Entry?
        /// Towards the most and the least recently used end of the LRU list.
        var previous: Entry?
        var next: Entry?
        var cost: Int { ownInput.count + output.count }

        init(
            key: String,
            metadata: Metadata,
            ownInput: [UInt8],
            ownInputLength: Int,
            link: Link?,
            inputLength: Int,
            inputDigest: Int,
            session: String?,
            output: [UInt8],
            outputLength: Int
        ) {
            self.key = key
            self.metadata = metadata
            self.ownInput = ownInput
            self.ownInputLength = ownInputLength
            self.link = link
            self.inputLength = inputLength
            self.inputDigest = inputDigest
            self.session = session
            self.output = output
            self.outputLength = outputLength
        }
    }

    /// What `fullInput` takes out of the lock for each entry of a chain.
    private struct PackedInput: Sendable {
        var bytes: [UInt8]
        var length: Int
        var link: Link?
        var inputLength: Int
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Most recently used end of the LRU list.
        var head: Entry?
        /// Least recently used end.
        var tail: Entry?
        var bytes = 0
        /// The last entry stored per session: what its next turn may continue.
        var lastInSession: [String: String] = [:]
    }

    /// What a new input is compared with: the session's last entry.
    private struct Candidate {
        var responseID: String
        var inputLength: Int
        var inputDigest: Int
    }

    public static let maximumChainDepth = 32

    public let maximumBytes: Int
    public let maximumEntries: Int
    private let state = Mutex(State())

    /// What the cache holds after a change, how many entries that change evicted to stay within its bounds
    /// (descendants of an evicted entry included), and whether it was a store the cache refused (1): an
    /// entry larger than the whole budget, one that would not compress, or not JSON arrays.
    public struct Usage: Sendable, Equatable {
        public var bytes: Int
        public var entries: Int
        public var evicted: Int
        public var rejected = 0
    }

    private let onChange: @Sendable (Usage) -> Void

    /// `onChange` runs after every store, refused store and removal, outside the lock (the proxy feeds its
    /// metrics from it).
    public init(
        maximumBytes: Int = 64 << 20,
        maximumEntries: Int = 10_000,
        onChange: @escaping @Sendable (Usage) -> Void = { _ in }
    ) {
        self.maximumBytes = maximumBytes
        self.maximumEntries = maximumEntries
        self.onChange = onChange
    }

    /// The LRU list's neighbours hold each other strongly; unlinked here so the entries go with the cache.
    deinit {
        state.withLock { state in
            for entry in state.entries.values {
                entry.previous = nil
                entry.next = nil
            }
            state.head = nil
            state.tail = nil
        }
    }

    /// Total compressed bytes held.
    public var byteCount: Int { state.withLock { $0.bytes } }
    public var count: Int { state.withLock { $0.entries.count } }

    /// Stores the transcript of `responseID`; `input` and `output` must be JSON arrays of items.
    /// Returns false (and stores nothing) when either is not an array or the entry exceeds the budget.
    @discardableResult
    public func store(responseID: String, input: [UInt8], output: [UInt8], metadata: Metadata) -> Bool {
        guard (try? JSONArray.elements(of: input[...])) != nil, (try? JSONArray.elements(of: output[...])) != nil
        else { return refuse() }
        return store(responseID: responseID, scannedInput: input[...], output: output, metadata: metadata, session: nil)
    }

    /// `store` for arrays the caller already scanned as JSON arrays (a request's `input` value, items joined
    /// with `JSONEncoding.array`): the same entry without a second full scan of a long history. With a
    /// `session`, the entry continues the session's last one when its input does (see the type's notes).
    @discardableResult
    func store(
        responseID: String,
        scannedInput input: ArraySlice<UInt8>,
        output: [UInt8],
        metadata: Metadata,
        session: String?
    ) -> Bool {
        guard let packedOutput = TranscriptCompression.compress(output[...]) else { return refuse() }
        var candidate = session.flatMap { session in state.withLock { Self.candidate(session, $0) } }
        // At most twice: if the entry to continue is evicted meanwhile, store the input whole instead.
        while true {
            let (link, digest) = Self.link(input, continuing: candidate)
            let own = link.map { input.dropFirst($0.prefix) } ?? input
            guard let packedInput = TranscriptCompression.compress(own),
                packedInput.count + packedOutput.count <= maximumBytes
            else { return refuse() }
            var usage: Usage?
            let stored = state.withLock { state -> Bool in
                // Made under the lock: the entry is a class that only the locked state may hold.
                let entry = Entry(
                    key: responseID,
                    metadata: metadata,
                    ownInput: packedInput,
                    ownInputLength: own.count,
                    link: link,
                    inputLength: input.count,
                    inputDigest: digest,
                    session: session,
                    output: packedOutput,
                    outputLength: output.count
                )
                if let link {
                    guard let parent = state.entries[link.parent], parent.inputLength == candidate?.inputLength,
                        parent.inputDigest == candidate?.inputDigest
                    else { return false }
                    entry.depth = parent.depth + 1
                }
                removeWithDescendants(responseID, &state)
                if let link, let parent = state.entries[link.parent] {
                    parent.children.append(responseID)
                    entry.parent = parent
                } else if link != nil {
                    return false  // the parent was this very id, or descended from it, just replaced
                }
                state.entries[responseID] = entry
                state.bytes += entry.cost
                touchChain(entry, &state)
                if let session { state.lastInSession[session] = responseID }
                let before = state.entries.count
                while state.bytes > maximumBytes || state.entries.count > maximumEntries, let tail = state.tail {
                    removeWithDescendants(tail.key, &state)
                }
                usage = Usage(bytes: state.bytes, entries: state.entries.count, evicted: before - state.entries.count)
                return state.entries[responseID] != nil
            }
            if let usage { onChange(usage) }
            if stored || usage != nil { return stored }
            if candidate == nil { return false }
            candidate = nil
        }
    }

    /// Reports a store the cache did not take; false, for `store` to return.
    private func refuse() -> Bool {
        onChange(state.withLock { Usage(bytes: $0.bytes, entries: $0.entries.count, evicted: 0, rejected: 1) })
        return false
    }

    public func metadata(for responseID: String) -> Metadata? {
        state.withLock { $0.entries[responseID]?.metadata }
    }

    public func contains(_ responseID: String) -> Bool { state.withLock { $0.entries[responseID] != nil } }

    /// How many links lead from `responseID` to the first entry of its chain (0: stored whole); nil if absent.
    func chainDepth(of responseID: String) -> Int? { state.withLock { $0.entries[responseID]?.depth } }

    /// The held ids, from the most to the least recently used: for tests of the list's order.
    func recencyOrder() -> [String] {
        state.withLock { state in
            var keys: [String] = []
            var entry = state.head
            while let current = entry {
                keys.append(current.key)
                entry = current.next
            }
            return keys
        }
    }

    /// The input and output items of `responseID` as one deduplicated array; marks it recently used.
    public func expandedInput(for responseID: String) -> [UInt8]? {
        fullInput(previousResponseID: responseID, newItems: nil)
    }

    /// Input + output of `previousResponseID`, then `newItems` (a JSON array), deduplicated by item `id`, without
    /// the reasoning items that carry no `encrypted_content` (`EncryptedReasoning.isReferenceOnly`).
    /// Nil when the response is not cached or `newItems` is not an array.
    public func fullInput(previousResponseID: String, newItems: [UInt8]?) -> [UInt8]? {
        // The chain from the entry up to its first one, copied under the lock (the arrays share storage).
        let packed: (chain: [PackedInput], output: (bytes: [UInt8], length: Int))? = state.withLock { state in
            guard let entry = state.entries[previousResponseID] else { return nil }
            var chain = [entry]
            while let parent = chain.last!.parent { chain.append(parent) }
            let inputs = chain.map {
                PackedInput(bytes: $0.ownInput, length: $0.ownInputLength, link: $0.link, inputLength: $0.inputLength)
            }
            touchChain(entry, &state)
            return (inputs, (entry.output, entry.outputLength))
        }
        guard let packed,
            let input = Self.inflate(packed.chain),
            let output = TranscriptCompression.decompress(packed.output.bytes, originalLength: packed.output.length)
        else { return nil }
        // What this returns is sent without the anchor, so nothing may stand for an item the upstream must look up
        // by id: with `store:false` it keeps none, and one such reasoning item made every replay a 404. The model
        // loses that turn's private reasoning, as with any `store:false` client that did not ask for its content.
        return Self.concatenateDeduplicated(
            [input, output] + (newItems.map { [$0] } ?? []),
            dropping: EncryptedReasoning.isReferenceOnly
        )
    }

    public func remove(_ responseID: String) {
        let usage = state.withLock { state in
            removeWithDescendants(responseID, &state)
            return Usage(bytes: state.bytes, entries: state.entries.count, evicted: 0)
        }
        onChange(usage)
    }

    /// Joins JSON arrays, dropping an object item whose string `id` appeared in an earlier kept item, and every
    /// object item `drop` names.
    public static func concatenateDeduplicated(
        _ arrays: [[UInt8]],
        dropping drop: (JSONTopLevel) -> Bool = { _ in false }
    ) -> [UInt8]? {
        var seen = Set<String>()
        var kept: [[UInt8]] = []
        for array in arrays {
            guard let values = try? JSONArray.values(of: array[...]) else { return nil }
            for value in values {
                if value.kind == .object, let object = try? value.object() {
                    if drop(object) { continue }
                    if let id = object.string(forKey: "id") {
                        guard seen.insert(id).inserted else { continue }
                    }
                }
                kept.append(Array(value.bytes))
            }
        }
        return JSONEncoding.array(kept)
    }

    // MARK: - Chains

    private static func candidate(_ session: String, _ state: State) -> Candidate? {
        guard let id = state.lastInSession[session], let entry = state.entries[id],
            entry.depth < maximumChainDepth
        else { return nil }
        return Candidate(responseID: id, inputLength: entry.inputLength, inputDigest: entry.inputDigest)
    }

    /// Whether `input` continues `candidate`'s input (same first `inputLength - 1` bytes), and the digest of
    /// all of `input` but its last byte, from one pass over it.
    private static func link(_ input: ArraySlice<UInt8>, continuing candidate: Candidate?) -> (Link?, Int) {
        input.withUnsafeBytes { raw in
            var digest = TranscriptDigest()
            let end = max(raw.count - 1, 0)
            var link: Link?
            if let candidate, candidate.inputLength >= 2, candidate.inputLength - 1 <= end {
                let prefix = candidate.inputLength - 1
                digest.combine(UnsafeRawBufferPointer(rebasing: raw[0..<prefix]))
                if digest.value == candidate.inputDigest { link = Link(parent: candidate.responseID, prefix: prefix) }
                digest.combine(UnsafeRawBufferPointer(rebasing: raw[prefix..<end]))
            } else {
                digest.combine(UnsafeRawBufferPointer(rebasing: raw[0..<end]))
            }
            return (link, digest.value)
        }
    }

    /// The whole input of `chain[0]`, given the chain up to its first entry.
    private static func inflate(_ chain: [PackedInput]) -> [UInt8]? {
        var input: [UInt8] = []
        for entry in chain.reversed() {
            guard let own = TranscriptCompression.decompress(entry.bytes, originalLength: entry.length)
            else { return nil }
            if let link = entry.link {
                guard link.prefix <= input.count else { return nil }
                input.removeSubrange(link.prefix...)
            }
            input += own
        }
        return input.count == chain.first?.inputLength ? input : nil
    }

    // MARK: - LRU

    /// Marks `entry` and every entry it links to as used, the first of the chain first, so a chain sits
    /// together with its first entry on the old side: evicting that one takes the chain. At most
    /// `maximumChainDepth` deep.
    ///
    /// When the parent's chain already lies in the list as one run in order (parent, its parent, …, the
    /// first entry), as it does from its own `touchChain` until a branch of the same tree is marked, the run
    /// moves to the head in one splice instead of being relinked link by link (up to 32 of them), whose
    /// reference counting alone was 1.2 % of user CPU in a perf probe (docs/benchmarks.md, seventh pass). The
    /// result is the same list order.
    private func touchChain(_ entry: Entry, _ state: inout State) {
        if let parent = entry.parent {
            if let first = Self.orderedRunEnd(from: parent) {
                moveToHead(parent, through: first, &state)
            } else {
                touchChain(parent, &state)
            }
        }
        touch(entry, &state)
    }

    /// The first entry of `entry`'s chain if every entry of the chain is followed in the list by its parent;
    /// nil otherwise. Reads only.
    private static func orderedRunEnd(from entry: Entry) -> Entry? {
        var current = entry
        while let parent = current.parent {
            guard current.next === parent else { return nil }
            current = parent
        }
        return current
    }

    /// Moves the run of the list from `start` to `end` (both in it, `start` first) to the head.
    private func moveToHead(_ start: Entry, through end: Entry, _ state: inout State) {
        guard state.head !== start else { return }
        let before = start.previous
        let after = end.next
        before?.next = after
        if let after { after.previous = before } else { state.tail = before }
        start.previous = nil
        end.next = state.head
        state.head?.previous = end
        state.head = start
    }

    private func touch(_ entry: Entry, _ state: inout State) {
        if state.head === entry { return }
        unlink(entry, &state)
        entry.next = state.head
        state.head?.previous = entry
        state.head = entry
        if state.tail == nil { state.tail = entry }
    }

    private func removeWithDescendants(_ key: String, _ state: inout State) {
        guard let entry = state.entries[key] else { return }
        for child in entry.children { removeWithDescendants(child, &state) }
        unlink(entry, &state)
        state.entries[key] = nil
        state.bytes -= entry.cost
        entry.parent?.children.removeAll { $0 == key }
        entry.parent = nil
        if let session = entry.session, state.lastInSession[session] == key { state.lastInSession[session] = nil }
    }

    /// Takes `entry` out of the LRU list (nothing if it is not in it) and clears its neighbours.
    private func unlink(_ entry: Entry, _ state: inout State) {
        if let previous = entry.previous {
            previous.next = entry.next
        } else if state.head === entry {
            state.head = entry.next
        }
        if let next = entry.next {
            next.previous = entry.previous
        } else if state.tail === entry {
            state.tail = entry.previous
        }
        entry.previous = nil
        entry.next = nil
    }
}
