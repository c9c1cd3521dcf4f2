import Foundation
import WireFormats

extension AffinityMap {
    /// The snapshot file name in the state directory.
    public static let snapshotFileName = "affinity.json"

    /// Live entries and tombstones as JSON, oldest first:
    /// `{"version":1,"key_id":"…","entries":[{"rid":"rid_…","account":"acct_…","created_at":…}],
    /// "tombstones":[{"rid":"rid_…","until":…}],"owners":[{"rid":"rid_…","principal":"prn_…","until":…}]}`.
    /// Keys are `rid_` pseudonyms and owners `prn_` ones, so the file holds no raw response id or client key
    /// name; a version 1 file without `owners` (written before owners were kept) restores with none.
    /// An entry names its account by pseudonym (`accounts[i]` is the pool's account `i`), not by its place in
    /// the pool, so a restart with accounts added, removed or reordered routes each anchor to the account that
    /// produced it (an entry whose account is gone is dropped). Upstream session ids are not
    /// written: sockets do not survive a restart, so a restored entry has none (the anchor is dead; the
    /// account preference and the tombstones remain useful).
    /// Written straight into one buffer: the map holds up to `maximumEntries` (100 000) anchors, and building
    /// each entry as its own small arrays (`JSONEncoding.object`) was several allocations per entry on every
    /// save, 6% of a busy proxy's user CPU in one probe (docs/benchmarks.md, sixth pass).
    public func snapshot(now: Int64, accounts: [String]) -> [UInt8] {
        let (entries, tombstones, owners) = state.withLock {
            ($0.entries.ordered(), $0.tombstones.ordered(), $0.owners.ordered())
        }
        var out: [UInt8] = []
        out.reserveCapacity(112 + 88 * entries.count + 64 * tombstones.count + 100 * owners.count)
        out.append(contentsOf: #"{"version":1,"key_id":"#.utf8)
        JSONEncoding.appendString(pseudonymizer.keyID, to: &out)
        out.append(contentsOf: #","entries":["#.utf8)
        var first = true
        for item in entries where now - item.value.createdAt < ttl && accounts.indices.contains(item.value.accountIndex)
        {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(contentsOf: #"{"rid":"#.utf8)
            JSONEncoding.appendString(item.key, to: &out)
            out.append(contentsOf: #","account":"#.utf8)
            JSONEncoding.appendString(accounts[item.value.accountIndex], to: &out)
            out.append(contentsOf: #","created_at":"#.utf8)
            out.append(contentsOf: String(item.value.createdAt).utf8)
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: #"],"tombstones":["#.utf8)
        first = true
        for item in tombstones where item.value > now {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(contentsOf: #"{"rid":"#.utf8)
            JSONEncoding.appendString(item.key, to: &out)
            out.append(contentsOf: #","until":"#.utf8)
            out.append(contentsOf: String(item.value).utf8)
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: #"],"owners":["#.utf8)
        first = true
        for item in owners where item.value.until > now {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(contentsOf: #"{"rid":"#.utf8)
            JSONEncoding.appendString(item.key, to: &out)
            out.append(contentsOf: #","principal":"#.utf8)
            JSONEncoding.appendString(item.value.principal, to: &out)
            out.append(contentsOf: #","until":"#.utf8)
            out.append(contentsOf: String(item.value.until).utf8)
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: "]}".utf8)
        return out
    }

    /// Adds the live entries, tombstones and owners of a snapshot (expired ones are skipped); returns how many
    /// entries were restored. Throws `corrupt_snapshot` or `key_mismatch`.
    @discardableResult
    public func restore(_ bytes: [UInt8], now: Int64, accounts: [String]) throws(AffinitySnapshotError) -> Int {
        guard let root = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            (root["version"] as? NSNumber)?.intValue == 1,
            let entries = root["entries"] as? [[String: Any]],
            let tombstones = root["tombstones"] as? [[String: Any]]
        else { throw AffinitySnapshotError(reason: "corrupt_snapshot", detail: "not a version 1 affinity snapshot") }
        guard root["key_id"] as? String == pseudonymizer.keyID else {
            throw AffinitySnapshotError(reason: "key_mismatch", detail: "snapshot was written under another key")
        }
        var indexByAccount: [String: Int] = [:]
        for (i, pseudonym) in accounts.enumerated() { indexByAccount[pseudonym] = i }
        var restored = 0
        state.withLock { state in
            for item in entries {
                // An index (written before 2026-12-07) is skipped with the rest: the pool order it meant is unknown.
                guard let key = item["rid"] as? String, key.hasPrefix("rid_"),
                    let account = (item["account"] as? String).flatMap({ indexByAccount[$0] }),
                    let createdAt = (item["created_at"] as? NSNumber)?.boundedInt64,
                    now - createdAt < ttl
                else { continue }
                state.entries.insert(key, Entry(accountIndex: account, createdAt: createdAt), limit: maximumEntries)
                restored += 1
            }
            for item in tombstones {
                guard let key = item["rid"] as? String, let until = (item["until"] as? NSNumber)?.boundedInt64,
                    until > now
                else { continue }
                state.tombstones.insert(key, until, limit: maximumEntries)
            }
            for item in root["owners"] as? [[String: Any]] ?? [] {
                guard let key = item["rid"] as? String, key.hasPrefix("rid_"),
                    let principal = item["principal"] as? String, principal.hasPrefix("prn_"),
                    let until = (item["until"] as? NSNumber)?.boundedInt64, until > now
                else { continue }
                state.owners.insert(key, Owner(principal: principal, until: until), limit: maximumEntries)
            }
        }
        return restored
    }

    /// Writes `snapshot(now:)` to `path` atomically (0600), unless nothing was recorded, forgotten or tombstoned
    /// since the last write: an idle proxy would otherwise rewrite and fsync up to 6 MB every
    /// `continuitySnapshotSeconds`. Entries that only expired meanwhile stay in the file; `restore` skips them.
    /// Returns whether it wrote. Call periodically and at shutdown, off the event loop.
    @discardableResult
    public func save(to path: String, now: Int64, accounts: [String]) throws(AtomicFileError) -> Bool {
        let (changes, saved) = state.withLock {
            ($0.entries.changes &+ $0.tombstones.changes &+ $0.owners.changes, $0.savedChanges)
        }
        guard saved != changes else { return false }
        try AtomicFile.write(snapshot(now: now, accounts: accounts), to: path)
        // A change made while writing is in the file or not; either way the next save writes again.
        state.withLock { $0.savedChanges = changes }
        return true
    }

    /// Restores from `path`; 0 when the file does not exist.
    @discardableResult
    public func load(from path: String, now: Int64, accounts: [String]) throws(AffinitySnapshotError) -> Int {
        let bytes: [UInt8]?
        do {
            bytes = try AtomicFile.readIfExists(path)
        } catch {
            throw AffinitySnapshotError(reason: error.reason.description, detail: error.detail)
        }
        guard let bytes else { return 0 }
        return try restore(bytes, now: now, accounts: accounts)
    }
}
