import LogRedaction
import Synchronization

/// Maps a response id (an anchor) to the account and upstream session that produced it, with a TTL,
/// plus tombstones for anchors known to be dead.
///
/// Keys are never raw ids: every id is turned into its keyed pseudonym (`rid_…`, `Pseudonymizer`) on the
/// way in, so the map, its snapshot file and any debug dump hold no raw `resp_` ids; lookups hash the
/// incoming id the same way. Entries live `ttl` seconds (default 55 min: anchors die with their upstream
/// socket at 60 min, and the margin avoids sending an anchor that is about to die). A lookup answers
/// `.hit`, `.miss` or `.expired` (an expired entry is removed by the lookup that finds it) and reports
/// `hit`/`miss`/`expired` through `onLookup` (wire it to `affinityLookups(result:)`).
/// Callers record an entry only after the response completed successfully: writing before success would
/// pin a failed turn's account (CPA #2374 review). Tombstones (`markDead`) live `tombstoneTTL` (default
/// 2 h, at least the 60 min socket lifetime) so a dead anchor is never sent upstream again; marking
/// dead also forgets the affinity entry.
/// **Owners.** An anchor recorded with an `owner` (the `prn_` pseudonym of the client principal whose request
/// produced it) keeps that owner for `ownerTTL` (default 30 days, the API's retention of stored responses),
/// longer than its entry and untouched by `forget` and `markDead`: a request of another principal that names
/// the anchor is refused as not found (`AnchorOwnership`) for as long as the upstream might still resolve it.
/// All three tables are bounded; when full, the oldest insertion is evicted first.
/// It reads no clock (callers pass `now`, unix seconds), does no I/O except `save`/`load`, never logs.
/// Concurrency: `Sendable`; all state sits behind one `Mutex`.
public final class AffinityMap: Sendable {
    public struct Entry: Sendable, Equatable {
        public var accountIndex: Int
        /// The upstream session (socket) that minted the anchor; nil after a restart or over HTTP.
        public var upstreamSessionID: String?
        /// Unix seconds.
        public var createdAt: Int64

        public init(accountIndex: Int, upstreamSessionID: String? = nil, createdAt: Int64) {
            self.accountIndex = accountIndex
            self.upstreamSessionID = upstreamSessionID
            self.createdAt = createdAt
        }
    }

    public enum Lookup: Sendable, Equatable {
        case hit(Entry)
        case miss
        case expired(Entry)

        /// The `sightline_affinity_lookups_total{result}` value.
        public var result: String {
            switch self {
            case .hit: "hit"
            case .miss: "miss"
            case .expired: "expired"
            }
        }
    }

    public static let defaultTTL: Int64 = 55 * 60
    public static let defaultTombstoneTTL: Int64 = 2 * 3600
    public static let defaultOwnerTTL: Int64 = 30 * 86400

    /// Who produced an anchor, and until when that is remembered.
    struct Owner {
        var principal: String
        /// Unix seconds.
        var until: Int64
    }

    struct State {
        var entries = AffinityBoundedTable<Entry>()
        var tombstones = AffinityBoundedTable<Int64>()  // pseudonym → dead until
        var owners = AffinityBoundedTable<Owner>()
        /// The three tables' summed `changes` when the last snapshot was written (`save`).
        var savedChanges: UInt64?
    }

    let pseudonymizer: Pseudonymizer
    public let ttl: Int64
    public let tombstoneTTL: Int64
    public let ownerTTL: Int64
    public let maximumEntries: Int
    let state = Mutex(State())
    private let onLookup: (@Sendable (String) -> Void)?

    public init(
        pseudonymizer: Pseudonymizer,
        ttl: Int64 = AffinityMap.defaultTTL,
        tombstoneTTL: Int64 = AffinityMap.defaultTombstoneTTL,
        ownerTTL: Int64 = AffinityMap.defaultOwnerTTL,
        maximumEntries: Int = 100_000,
        onLookup: (@Sendable (String) -> Void)? = nil
    ) {
        self.pseudonymizer = pseudonymizer
        self.ttl = ttl
        self.tombstoneTTL = max(tombstoneTTL, 3600)
        self.ownerTTL = max(ownerTTL, ttl)
        self.maximumEntries = maximumEntries
        self.onLookup = onLookup
    }

    /// The key an id is stored under: its `rid_` pseudonym.
    public func key(_ responseID: String) -> String { pseudonymizer.pseudonym(.rid, responseID) }

    public var count: Int { state.withLock { $0.entries.count } }

    /// Records that `responseID` was produced on `entry`'s account/session, for the principal pseudonym `owner`
    /// (nil: an anonymous request, which no principal owns). Call after success only.
    public func record(responseID: String, entry: Entry, owner: String? = nil) {
        let key = key(responseID)
        state.withLock { state in
            state.entries.insert(key, entry, limit: maximumEntries)
            if let owner {
                state.owners.insert(
                    key,
                    Owner(principal: owner, until: min(entry.createdAt, .max - ownerTTL) + ownerTTL),
                    limit: maximumEntries
                )
            }
        }
    }

    /// The principal pseudonym that owns `responseID`, while remembered; nil for an unowned or unknown anchor.
    public func owner(of responseID: String, now: Int64) -> String? {
        let key = key(responseID)
        return state.withLock { state in
            guard let owner = state.owners[key] else { return nil }
            guard now < owner.until else {
                state.owners.remove(key)
                return nil
            }
            return owner.principal
        }
    }

    public func lookup(responseID: String, now: Int64) -> Lookup {
        let key = key(responseID)
        let result: Lookup = state.withLock { state in
            guard let entry = state.entries[key] else { return .miss }
            guard now - entry.createdAt < ttl else {
                state.entries.remove(key)
                return .expired(entry)
            }
            return .hit(entry)
        }
        onLookup?(result.result)
        return result
    }

    /// Drops the entry without a tombstone (e.g. a pin reset moved the conversation).
    public func forget(responseID: String) {
        let key = key(responseID)
        state.withLock { _ = $0.entries.remove(key) }
    }

    /// Tombstones the anchor until `now + tombstoneTTL` and forgets its entry.
    public func markDead(responseID: String, now: Int64) {
        let key = key(responseID)
        state.withLock { state in
            state.entries.remove(key)
            state.tombstones.insert(key, now + tombstoneTTL, limit: maximumEntries)
        }
    }

    /// Forgets every tombstone (an operator's purge, `POST /admin/tombstones/purge`); returns how many there were.
    /// Each removal counts as a change, so the next snapshot rewrites `affinity.json` without them.
    public func purgeTombstones() -> Int {
        state.withLock { state in
            let keys = Array(state.tombstones.values.keys)
            for key in keys { _ = state.tombstones.remove(key) }
            return keys.count
        }
    }

    public func isDead(responseID: String, now: Int64) -> Bool {
        let key = key(responseID)
        return state.withLock { state in
            guard let until = state.tombstones[key] else { return false }
            if now < until { return true }
            state.tombstones.remove(key)
            return false
        }
    }
}

/// A dictionary with insertion-order eviction: a FIFO of keys with lazy deletion.
/// Not thread-safe; `AffinityMap` holds it under its lock.
struct AffinityBoundedTable<Value> {
    private(set) var values: [String: (value: Value, serial: UInt64)] = [:]
    private var order: [(key: String, serial: UInt64)] = []
    private var orderStart = 0
    private var nextSerial: UInt64 = 0
    /// Inserts and removals so far: a snapshot is rewritten only when this moved.
    private(set) var changes: UInt64 = 0

    var count: Int { values.count }

    subscript(key: String) -> Value? { values[key]?.value }

    mutating func insert(_ key: String, _ value: Value, limit: Int) {
        changes &+= 1
        nextSerial += 1
        values[key] = (value, nextSerial)
        order.append((key, nextSerial))
        while values.count > limit && orderStart < order.count {
            let oldest = order[orderStart]
            orderStart += 1
            if values[oldest.key]?.serial == oldest.serial { values[oldest.key] = nil }
        }
        // Compact the FIFO when stale slots dominate, so it stays O(live entries).
        if orderStart > 1024 && orderStart * 2 > order.count || order.count > 2 * max(limit, 1024) {
            order = order[orderStart...].filter { values[$0.key]?.serial == $0.serial }
            orderStart = 0
        }
    }

    @discardableResult
    mutating func remove(_ key: String) -> Value? {
        guard let removed = values.removeValue(forKey: key) else { return nil }
        changes &+= 1
        return removed.value
    }

    /// Live entries, oldest first.
    func ordered() -> [(key: String, value: Value)] {
        order[orderStart...].compactMap { slot in
            guard let stored = values[slot.key], stored.serial == slot.serial else { return nil }
            return (slot.key, stored.value)
        }
    }
}
