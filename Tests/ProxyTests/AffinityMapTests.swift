import Foundation
import LogRedaction
import Synchronization
import WireFormats
import XCTest

@testable import Proxy

final class AffinityMapTests: XCTestCase {
    private let pseudonymizer = try! Pseudonymizer(key: Array(0..<32))
    /// The pool's account pseudonyms by index, as `ContinuitySnapshots` passes them.
    private let accounts = (0...10).map { "acct_FAKE\($0)" }

    /// A new directory of its own, and the snapshot path in it; the caller removes the directory.
    private func snapshotPath() throws -> (directory: String, path: String) {
        let directory = NSTemporaryDirectory() + "affinity-\(UUID().uuidString)"
        try AtomicFile.ensureDirectory(directory)
        return (directory, directory + "/" + AffinityMap.snapshotFileName)
    }

    func testHitMissExpiredAndRecordedResults() {
        let results = Mutex<[String]>([])
        let map = AffinityMap(pseudonymizer: pseudonymizer, onLookup: { r in results.withLock { $0.append(r) } })
        let entry = AffinityMap.Entry(accountIndex: 2, upstreamSessionID: "sess-FAKE", createdAt: 1_000)
        map.record(responseID: "resp_abc", entry: entry)
        XCTAssertEqual(map.lookup(responseID: "resp_abc", now: 1_000 + 55 * 60 - 1), .hit(entry))
        XCTAssertEqual(map.lookup(responseID: "resp_other", now: 1_000), .miss)
        XCTAssertEqual(map.lookup(responseID: "resp_abc", now: 1_000 + 55 * 60), .expired(entry))
        XCTAssertEqual(map.lookup(responseID: "resp_abc", now: 1_000 + 55 * 60), .miss, "expired entries are dropped")
        XCTAssertEqual(results.withLock { $0 }, ["hit", "miss", "expired", "miss"])
    }

    func testTombstonesOutliveTheSocketAndForgetTheEntry() {
        let map = AffinityMap(pseudonymizer: pseudonymizer, tombstoneTTL: 60)  // raised to the 1 h minimum
        map.record(responseID: "resp_dead", entry: .init(accountIndex: 0, createdAt: 0))
        map.markDead(responseID: "resp_dead", now: 100)
        XCTAssertEqual(map.lookup(responseID: "resp_dead", now: 100), .miss)
        XCTAssertTrue(map.isDead(responseID: "resp_dead", now: 100 + 3_599))
        XCTAssertFalse(map.isDead(responseID: "resp_dead", now: 100 + 3_600))
        XCTAssertFalse(map.isDead(responseID: "resp_alive", now: 100))
    }

    func testBoundEvictsOldestInsertion() {
        let map = AffinityMap(pseudonymizer: pseudonymizer, maximumEntries: 100)
        for i in 0..<5_000 { map.record(responseID: "resp_\(i)", entry: .init(accountIndex: i % 3, createdAt: 10)) }
        XCTAssertEqual(map.count, 100)
        XCTAssertEqual(map.lookup(responseID: "resp_0", now: 10), .miss)
        XCTAssertEqual(map.lookup(responseID: "resp_4999", now: 10), .hit(.init(accountIndex: 4999 % 3, createdAt: 10)))
        // Re-recording a key refreshes it rather than duplicating it.
        map.record(responseID: "resp_4999", entry: .init(accountIndex: 0, createdAt: 11))
        XCTAssertEqual(map.count, 100)
    }

    func testSnapshotRoundTripHoldsNoRawIDs() throws {
        let map = AffinityMap(pseudonymizer: pseudonymizer)
        map.record(
            responseID: "resp_SECRETISH_1",
            entry: .init(accountIndex: 1, upstreamSessionID: "ws-FAKE", createdAt: 1_000)
        )
        map.record(responseID: "resp_old", entry: .init(accountIndex: 0, createdAt: 0))
        map.markDead(responseID: "resp_SECRETISH_2", now: 900)
        let now: Int64 = 3_500  // resp_old (created 0) is past the 55 min TTL; resp_SECRETISH_1 is not
        let bytes = map.snapshot(now: now, accounts: accounts)
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertFalse(text.contains("resp_"), text)
        XCTAssertFalse(text.contains("SECRETISH"))
        XCTAssertFalse(text.contains("ws-FAKE"), "session ids do not survive a restart")
        XCTAssertTrue(text.contains(map.key("resp_SECRETISH_1")))

        let restored = AffinityMap(pseudonymizer: pseudonymizer)
        XCTAssertEqual(try restored.restore(bytes, now: now, accounts: accounts), 1)
        XCTAssertEqual(
            restored.lookup(responseID: "resp_SECRETISH_1", now: now),
            .hit(.init(accountIndex: 1, createdAt: 1_000))
        )
        XCTAssertEqual(restored.lookup(responseID: "resp_old", now: now), .miss)
        XCTAssertTrue(restored.isDead(responseID: "resp_SECRETISH_2", now: now))
    }

    func testAnUnchangedMapIsNotWrittenAgain() throws {
        let (directory, path) = try snapshotPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let map = AffinityMap(pseudonymizer: pseudonymizer)
        XCTAssertTrue(try map.save(to: path, now: 0, accounts: accounts), "the first save writes, even an empty map")
        map.record(responseID: "resp_1", entry: .init(accountIndex: 1, createdAt: 10))
        XCTAssertTrue(try map.save(to: path, now: 20, accounts: accounts))
        // Removed behind the map's back: an unchanged map does not notice, and does not write.
        try FileManager.default.removeItem(atPath: path)
        XCTAssertFalse(try map.save(to: path, now: 30, accounts: accounts))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        // Each kind of change writes again: a lookup that finds nothing changes nothing.
        _ = map.lookup(responseID: "resp_absent", now: 30)
        map.forget(responseID: "resp_absent")
        XCTAssertFalse(try map.save(to: path, now: 30, accounts: accounts))
        map.markDead(responseID: "resp_1", now: 40)
        XCTAssertTrue(try map.save(to: path, now: 40, accounts: accounts))
        XCTAssertTrue(map.isDead(responseID: "resp_1", now: 41))
        XCTAssertFalse(try map.save(to: path, now: 41, accounts: accounts))
        map.forget(responseID: "resp_2")
        map.record(responseID: "resp_2", entry: .init(accountIndex: 0, createdAt: 50))
        map.forget(responseID: "resp_2")
        XCTAssertTrue(
            try map.save(to: path, now: 50, accounts: accounts),
            "a record and its removal are still two changes"
        )
        let reloaded = AffinityMap(pseudonymizer: pseudonymizer)
        XCTAssertEqual(try reloaded.load(from: path, now: 50, accounts: accounts), 0)
        XCTAssertTrue(reloaded.isDead(responseID: "resp_1", now: 50))
    }

    func testSnapshotBytesAreTheDocumentedLayoutOldestFirst() {
        // The snapshot is written into one buffer rather than through `JSONEncoding.object`; it must still be
        // exactly the documented document: live items only, in insertion order. (Escapes: JSONEncodingTests.)
        let map = AffinityMap(pseudonymizer: pseudonymizer, ttl: 100)
        map.record(responseID: "resp_a", entry: .init(accountIndex: 2, createdAt: 950))
        map.record(responseID: "resp_expired", entry: .init(accountIndex: 1, createdAt: 899))
        map.record(responseID: "resp_b", entry: .init(accountIndex: 10, upstreamSessionID: "ws-FAKE", createdAt: 999))
        map.markDead(responseID: "resp_dead", now: 990)
        map.markDead(responseID: "resp_dead_too", now: 991)
        map.record(responseID: "resp_owned", entry: .init(accountIndex: 0, createdAt: 998), owner: "prn_FAKEa")
        let now: Int64 = 1_000
        func member(_ key: String, _ raw: [UInt8]) -> (key: String, rawJSON: [UInt8]) { (key, raw) }
        let entries = [("resp_a", 2, 950), ("resp_b", 10, 999), ("resp_owned", 0, 998)].map { id, account, created in
            JSONEncoding.object([
                member("rid", JSONEncoding.string(map.key(id))),
                member("account", JSONEncoding.string(accounts[account])),
                member("created_at", JSONEncoding.int(created)),
            ])
        }
        let tombstones = [("resp_dead", 990), ("resp_dead_too", 991)].map { id, at in
            JSONEncoding.object([
                member("rid", JSONEncoding.string(map.key(id))),
                member("until", JSONEncoding.int(at + Int(map.tombstoneTTL))),
            ])
        }
        let owners = [
            JSONEncoding.object([
                member("rid", JSONEncoding.string(map.key("resp_owned"))),
                member("principal", JSONEncoding.string("prn_FAKEa")),
                member("until", JSONEncoding.int(998 + Int(map.ownerTTL))),
            ])
        ]
        let expected = JSONEncoding.object([
            member("version", JSONEncoding.int(1)), member("key_id", JSONEncoding.string(pseudonymizer.keyID)),
            member("entries", JSONEncoding.array(entries)), member("tombstones", JSONEncoding.array(tombstones)),
            member("owners", JSONEncoding.array(owners)),
        ])
        XCTAssertEqual(
            String(decoding: map.snapshot(now: now, accounts: accounts), as: UTF8.self),
            String(decoding: expected, as: UTF8.self)
        )
        let empty = AffinityMap(pseudonymizer: pseudonymizer)
        XCTAssertEqual(
            String(decoding: empty.snapshot(now: 0, accounts: accounts), as: UTF8.self),
            #"{"version":1,"key_id":"# + String(decoding: JSONEncoding.string(pseudonymizer.keyID), as: UTF8.self)
                + #","entries":[],"tombstones":[],"owners":[]}"#
        )
    }

    /// A snapshot is a file anyone with access may edit: numbers out of range and negative account indexes
    /// are skipped, not trapped on (`now - createdAt` overflowed with `1e30` read as `Int64.min`).
    func testRestoreSkipsOutOfRangeNumbers() throws {
        let map = AffinityMap(pseudonymizer: pseudonymizer)
        let key = String(decoding: JSONEncoding.string(pseudonymizer.keyID), as: UTF8.self)
        let good = map.key("resp_good"), odd = map.key("resp_odd")
        let json =
            #"{"version":1,"key_id":"# + key + #","entries":["#
            + #"{"rid":"\#(odd)","account":"acct_FAKE0","created_at":1e30},"#
            + #"{"rid":"\#(odd)","account":"acct_FAKE0","created_at":-1e30},"#
            + #"{"rid":"\#(odd)","account":-1,"created_at":100},"#
            + #"{"rid":"\#(good)","account":"acct_FAKE1","created_at":100}],"#
            + #""tombstones":[{"rid":"\#(odd)","until":1e30},{"rid":"\#(odd)","until":-1e30}]}"#
        XCTAssertEqual(try map.restore(Array(json.utf8), now: 200, accounts: accounts), 1)
        guard case .hit(let entry) = map.lookup(responseID: "resp_good", now: 200) else {
            return XCTFail("the well-formed entry is restored")
        }
        XCTAssertEqual(entry.accountIndex, 1)
        XCTAssertFalse(map.isDead(responseID: "resp_odd", now: 200))
        guard case .miss = map.lookup(responseID: "resp_odd", now: 200) else { return XCTFail("nothing odd restored") }
    }

    func testSaveLoadThroughFileAndKeyMismatch() throws {
        let (directory, path) = try snapshotPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let map = AffinityMap(pseudonymizer: pseudonymizer)
        XCTAssertEqual(try map.load(from: path, now: 0, accounts: accounts), 0, "no file yet")
        map.record(responseID: "resp_1", entry: .init(accountIndex: 3, createdAt: 10))
        try map.save(to: path, now: 20, accounts: accounts)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        let reloaded = AffinityMap(pseudonymizer: pseudonymizer)
        XCTAssertEqual(try reloaded.load(from: path, now: 20, accounts: accounts), 1)

        let otherKey = AffinityMap(pseudonymizer: try Pseudonymizer(key: Array(repeating: 7, count: 32)))
        XCTAssertThrowsError(try otherKey.load(from: path, now: 20, accounts: accounts)) { error in
            XCTAssertEqual((error as? AffinitySnapshotError)?.reason, "key_mismatch")
        }
        XCTAssertThrowsError(try reloaded.restore(Array("[]".utf8), now: 0, accounts: accounts)) { error in
            XCTAssertEqual((error as? AffinitySnapshotError)?.reason, "corrupt_snapshot")
        }
    }

    /// Owners outlive the entry (`ttl`) and survive `forget` and `markDead`: another principal must not learn
    /// that a conversation's anchor died or moved. Anonymous records own nothing.
    func testOwnersOutliveEntriesForgetAndTombstones() {
        let map = AffinityMap(pseudonymizer: pseudonymizer, ttl: 100, ownerTTL: 10_000)
        map.record(responseID: "resp_a", entry: .init(accountIndex: 0, createdAt: 1_000), owner: "prn_FAKEa")
        map.record(responseID: "resp_anon", entry: .init(accountIndex: 0, createdAt: 1_000))
        XCTAssertEqual(map.owner(of: "resp_a", now: 1_000), "prn_FAKEa")
        XCTAssertNil(map.owner(of: "resp_anon", now: 1_000))
        XCTAssertNil(map.owner(of: "resp_unknown", now: 1_000))
        map.forget(responseID: "resp_a")
        map.markDead(responseID: "resp_a", now: 1_050)
        XCTAssertEqual(map.lookup(responseID: "resp_a", now: 1_200), .miss)
        XCTAssertEqual(map.owner(of: "resp_a", now: 1_200), "prn_FAKEa", "past the entry's ttl, forgotten and dead")
        XCTAssertEqual(map.owner(of: "resp_a", now: 10_999), "prn_FAKEa")
        XCTAssertNil(map.owner(of: "resp_a", now: 11_000), "remembered for ownerTTL")
        XCTAssertEqual(map.ownerTTL, 10_000)
        XCTAssertEqual(
            AffinityMap(pseudonymizer: pseudonymizer, ttl: 100, ownerTTL: 5).ownerTTL,
            100,
            "never below ttl"
        )
        let farFuture = AffinityMap(pseudonymizer: pseudonymizer)
        farFuture.record(responseID: "resp_z", entry: .init(accountIndex: 0, createdAt: .max - 5), owner: "prn_FAKEz")
        XCTAssertEqual(farFuture.owner(of: "resp_z", now: .max - 5), "prn_FAKEz", "no overflow near Int64.max")
    }

    func testOwnersRoundTripAndOldSnapshotsRestoreWithout() throws {
        let map = AffinityMap(pseudonymizer: pseudonymizer)
        map.record(responseID: "resp_a", entry: .init(accountIndex: 1, createdAt: 100), owner: "prn_FAKEa")
        map.markDead(responseID: "resp_a", now: 150)
        let bytes = map.snapshot(now: 200, accounts: accounts)
        XCTAssertFalse(String(decoding: bytes, as: UTF8.self).contains("resp_a"))
        let reloaded = AffinityMap(pseudonymizer: pseudonymizer)
        try reloaded.restore(bytes, now: 200, accounts: accounts)
        XCTAssertEqual(reloaded.owner(of: "resp_a", now: 200), "prn_FAKEa")
        XCTAssertTrue(reloaded.isDead(responseID: "resp_a", now: 200))

        let key = String(decoding: JSONEncoding.string(pseudonymizer.keyID), as: UTF8.self)
        let rid = map.key("resp_a")
        let old =
            #"{"version":1,"key_id":"# + key
            + #","entries":[{"rid":"\#(rid)","account":"acct_FAKE1","created_at":100}],"#
            + #""tombstones":[]}"#
        let fromOld = AffinityMap(pseudonymizer: pseudonymizer)
        XCTAssertEqual(
            try fromOld.restore(Array(old.utf8), now: 200, accounts: accounts),
            1,
            "a file written before owners were kept"
        )
        XCTAssertNil(fromOld.owner(of: "resp_a", now: 200))

        let odd =
            #"{"version":1,"key_id":"# + key + #","entries":[],"tombstones":[],"owners":["#
            + #"{"rid":"\#(rid)","principal":"team-a","until":1000},"#
            + #"{"rid":"\#(rid)","principal":"prn_FAKEa","until":1e30},"#
            + #"{"rid":"\#(rid)","principal":"prn_FAKEa","until":150}]}"#
        let fromOdd = AffinityMap(pseudonymizer: pseudonymizer)
        try fromOdd.restore(Array(odd.utf8), now: 200, accounts: accounts)
        XCTAssertNil(fromOdd.owner(of: "resp_a", now: 200), "no raw name, no odd number, nothing expired")
    }
    /// Entries name their account by pseudonym: a restart with the pool reordered or shrunk routes each anchor
    /// to the account that produced it, or drops it; an index written by an earlier version is skipped.
    func testEntriesFollowTheirAccountAcrossAChangedPool() throws {
        let map = AffinityMap(pseudonymizer: pseudonymizer)
        map.record(responseID: "resp_a", entry: .init(accountIndex: 0, createdAt: 100))
        map.record(responseID: "resp_b", entry: .init(accountIndex: 1, createdAt: 100))
        map.record(responseID: "resp_gone", entry: .init(accountIndex: 5, createdAt: 100))
        let bytes = map.snapshot(now: 200, accounts: ["acct_FAKEa", "acct_FAKEb"])
        XCTAssertFalse(String(decoding: bytes, as: UTF8.self).contains(map.key("resp_gone")), "no account, no entry")

        let reordered = AffinityMap(pseudonymizer: pseudonymizer)
        XCTAssertEqual(try reordered.restore(bytes, now: 200, accounts: ["acct_FAKEc", "acct_FAKEb", "acct_FAKEa"]), 2)
        XCTAssertEqual(reordered.lookup(responseID: "resp_a", now: 200), .hit(.init(accountIndex: 2, createdAt: 100)))
        XCTAssertEqual(reordered.lookup(responseID: "resp_b", now: 200), .hit(.init(accountIndex: 1, createdAt: 100)))

        let shrunk = AffinityMap(pseudonymizer: pseudonymizer)
        XCTAssertEqual(try shrunk.restore(bytes, now: 200, accounts: ["acct_FAKEb"]), 1)
        XCTAssertEqual(shrunk.lookup(responseID: "resp_a", now: 200), .miss, "its account left the pool")
        XCTAssertEqual(shrunk.lookup(responseID: "resp_b", now: 200), .hit(.init(accountIndex: 0, createdAt: 100)))

        let key = String(decoding: JSONEncoding.string(pseudonymizer.keyID), as: UTF8.self)
        let byIndex =
            #"{"version":1,"key_id":"# + key + #","entries":[{"rid":"\#(map.key("resp_a"))","account":0,"#
            + #""created_at":100}],"tombstones":[]}"#
        let old = AffinityMap(pseudonymizer: pseudonymizer)
        XCTAssertEqual(try old.restore(Array(byIndex.utf8), now: 200, accounts: ["acct_FAKEa"]), 0)
    }
}
