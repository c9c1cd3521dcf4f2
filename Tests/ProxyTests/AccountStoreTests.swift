import Foundation
import LogRedaction
import Synchronization
import XCTest

@testable import Proxy

final class AccountStoreTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "accountstore-\(UUID().uuidString)"
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func seed(_ name: String, refresh: String) -> AccountStoreSeed {
        AccountStoreSeed(
            name: name,
            accountID: "fake-\(name)",
            accessToken: Secret(FakeJWT.make(exp: 1_000, accountID: "fake-\(name)")),
            refreshToken: Secret(refresh)
        )
    }

    /// `accounts.json` may be edited by hand: a time out of range reads as absent (as a missing one does),
    /// not as `Int64.min`, which the refresh schedule and cooldowns once overflowed on.
    func testTimesOutOfRangeReadAsAbsent() throws {
        let json =
            #"{"version":1,"accounts":[{"name":"a","expires_at":1e30,"last_refresh":-1e30,"#
            + #""cooldown_until":9.3e18,"quota":{"primary_reset_at":1e300,"observed_at":-9.3e18},"#
            + #""refresh_generation":2}]}"#
        let entry = try XCTUnwrap(try AccountStoreCodec.decode(Array(json.utf8)).first)
        XCTAssertNil(entry.expiresAt)
        XCTAssertNil(entry.lastRefresh)
        XCTAssertNil(entry.cooldownUntil)
        XCTAssertNil(entry.quota?.primaryResetAt)
        XCTAssertEqual(entry.quota?.observedAt, 0)
        XCTAssertEqual(entry.refreshGeneration, 2)
    }

    func testRoundTripPreservesEveryField() throws {
        var entry = AccountStoreEntry(name: "a", status: .reauthRequired)
        entry.accountID = "fake-a"
        entry.baseURL = "http://127.0.0.1:9"
        entry.planType = "plus"
        entry.accessToken = Secret("at-FAKE")
        entry.refreshToken = Secret("rt-FAKE")
        entry.idToken = Secret("id-FAKE")
        entry.expiresAt = 100
        entry.lastRefresh = 50
        entry.cooldownUntil = 200
        entry.quota = .init(primaryUsedPercent: 42.5, secondaryUsedPercent: 7, primaryResetAt: 300, observedAt: 60)
        entry.refreshGeneration = 3
        entry.configFingerprint = "0123456789abcdef"
        var apiOnly = AccountStoreEntry(name: "b")
        apiOnly.apiKey = Secret("sk-test-FAKE-0000")
        let bytes = AccountStoreCodec.encode([entry, apiOnly])
        let decoded = try AccountStoreCodec.decode(bytes)
        XCTAssertEqual(decoded.count, 2)
        XCTAssertEqual(AccountStoreCodec.encode(decoded), bytes)
        XCTAssertEqual(decoded[0].status, .reauthRequired)
        XCTAssertEqual(decoded[0].quota?.primaryUsedPercent, 42.5)
        XCTAssertEqual(decoded[0].refreshToken?.reveal(), "rt-FAKE")
        XCTAssertEqual(decoded[1].apiKey?.reveal(), "sk-test-FAKE-0000")
        // Printing an entry never shows a token.
        XCTAssertFalse(String(describing: decoded[0]).contains("FAKE"))
        XCTAssertFalse(String(reflecting: decoded[0]).contains("FAKE"))
    }

    func testCorruptStateIsRefused() {
        XCTAssertThrowsError(try AccountStoreCodec.decode(Array("{\"version\":2}".utf8))) { error in
            XCTAssertEqual((error as? AccountStoreError)?.reason, "corrupt_state")
        }
    }

    /// Two processes writing the file (a proxy and `accounts import`, here two stores on one path): a write that
    /// starts while the other's read-merge-write runs waits for it, then merges its result, so neither change is
    /// lost. The import's entry was written over when it landed between the proxy's read and its write.
    func testAWriterWaitsForAnotherWritersReadMergeWrite() throws {
        let proxy = try AccountStore.open(stateDirectory: directory, seeds: [seed("a", refresh: "rt-config-a")])
        let importer = try AccountStore.open(stateDirectory: directory, seeds: [])
        let importStarted = DispatchSemaphore(value: 0)
        let importDone = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            importStarted.wait()
            var entry = AccountStoreEntry(name: "b")
            entry.accessToken = Secret("at-FAKE-imported")
            try? importer.upsert(entry)
            importDone.signal()
        }
        let doneWhileHeld = Mutex(false)
        try proxy.update("a") { entry in
            entry.status = .reauthRequired
            importStarted.signal()
            // The import must not finish while this read-merge-write holds the file.
            let finished = importDone.wait(timeout: .now() + 1) == .success
            doneWhileHeld.withLock { $0 = finished }
        }
        XCTAssertFalse(doneWhileHeld.withLock { $0 }, "the import wrote in the middle of the proxy's write")
        XCTAssertEqual(importDone.wait(timeout: .now() + 10), .success)
        let names = try AccountStore.open(stateDirectory: directory, seeds: []).entries().map(\.name)
        XCTAssertEqual(Set(names), ["a", "b"], "neither write lost")
    }

    /// A reader (an event loop fetching an account's credentials for a request) never waits for a write in progress:
    /// it sees the state before the write until the file holds the new one. Until 2026-12-07 every write held the
    /// state's lock across its `flock`, read, write and `fsync`, so each request on the loop waited for the disk.
    func testAReaderDoesNotWaitForAWriteInProgress() throws {
        let store = try AccountStore.open(stateDirectory: directory, seeds: [seed("a", refresh: "rt-config-a")])
        let inWrite = DispatchSemaphore(value: 0)
        let finishWrite = DispatchSemaphore(value: 0)
        let written = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            _ = try? store.update("a") { entry in
                entry.refreshToken = Secret("rt-rotated")
                inWrite.signal()
                _ = finishWrite.wait(timeout: .now() + 30)
            }
            written.signal()
        }
        XCTAssertEqual(inWrite.wait(timeout: .now() + 10), .success)
        let read = DispatchSemaphore(value: 0)
        let seen = Mutex<String?>(nil)
        DispatchQueue.global().async {
            let token = store.entry(named: "a")?.refreshToken?.reveal()
            seen.withLock { $0 = token }
            read.signal()
        }
        let readDuringWrite = read.wait(timeout: .now() + 10) == .success
        finishWrite.signal()
        XCTAssertTrue(readDuringWrite, "the read waited for the write")
        XCTAssertEqual(seen.withLock { $0 }, "rt-config-a", "not before the file holds it")
        XCTAssertEqual(written.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(store.entry(named: "a")?.refreshToken?.reveal(), "rt-rotated")
    }

    /// A proxy starting (its `open` merges the configuration in and writes the file) while an import writes: the
    /// open waits for the import's read-merge-write and keeps its entry. Until 2026-12-07 `open` took no lock, and
    /// an import landing between its read and its write was lost without a word.
    func testOpenWaitsForAnotherWritersReadMergeWrite() throws {
        let importer = try AccountStore.open(stateDirectory: directory, seeds: [])
        let openStarted = DispatchSemaphore(value: 0)
        let openDone = DispatchSemaphore(value: 0)
        let (directory, seeds) = (directory, [seed("a", refresh: "rt-config-a")])
        DispatchQueue.global().async {
            openStarted.wait()
            _ = try? AccountStore.open(stateDirectory: directory, seeds: seeds)
            openDone.signal()
        }
        let doneWhileHeld = Mutex(false)
        try importer.upsert(AccountStoreEntry(name: "b"))
        try importer.update("b") { entry in
            entry.accessToken = Secret("at-FAKE-imported")
            openStarted.signal()
            // The proxy's open must not finish while this read-merge-write holds the file.
            let finished = openDone.wait(timeout: .now() + 1) == .success
            doneWhileHeld.withLock { $0 = finished }
        }
        XCTAssertFalse(doneWhileHeld.withLock { $0 }, "the proxy's open wrote in the middle of the import")
        XCTAssertEqual(openDone.wait(timeout: .now() + 10), .success)
        let names = try AccountStore.open(stateDirectory: directory, seeds: []).entries().map(\.name)
        XCTAssertEqual(Set(names), ["a", "b"], "neither write lost")
    }

    func testOpenCreatesPrivateFileAndStateWinsWhileConfigUnchanged() throws {
        let store = try AccountStore.open(stateDirectory: directory, seeds: [seed("a", refresh: "rt-config-a")])
        let path = directory + "/accounts.json"
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        XCTAssertEqual(store.entry(named: "a")?.expiresAt, 1_000, "expiry comes from the JWT exp")

        try store.recordRotation(
            "a",
            tokens: TokenRefreshTokens(accessToken: Secret("at-2"), refreshToken: Secret("rt-2"), expiresIn: 60),
            now: 500
        )
        // Restart with the same configuration: the rotated token from the state file wins.
        let reopened = try AccountStore.open(stateDirectory: directory, seeds: [seed("a", refresh: "rt-config-a")])
        let entry = try XCTUnwrap(reopened.entry(named: "a"))
        XCTAssertEqual(entry.refreshToken?.reveal(), "rt-2")
        XCTAssertEqual(entry.accessToken?.reveal(), "at-2")
        XCTAssertEqual(entry.expiresAt, 560)
        XCTAssertEqual(entry.lastRefresh, 500)
        XCTAssertEqual(entry.refreshGeneration, 1)
    }

    func testConfigWinsWhenOperatorChangesTheToken() throws {
        let store = try AccountStore.open(stateDirectory: directory, seeds: [seed("a", refresh: "rt-config-a")])
        try store.recordRotation(
            "a",
            tokens: TokenRefreshTokens(accessToken: Secret("at-2"), refreshToken: Secret("rt-2")),
            now: 1
        )
        try store.markReauthRequired("a")
        try store.setCooldowns([("a", 900)])
        let reopened = try AccountStore.open(stateDirectory: directory, seeds: [seed("a", refresh: "rt-config-NEW")])
        let entry = try XCTUnwrap(reopened.entry(named: "a"))
        XCTAssertEqual(entry.refreshToken?.reveal(), "rt-config-NEW")
        XCTAssertEqual(entry.status, .active)
        XCTAssertEqual(entry.refreshGeneration, 0)
        XCTAssertEqual(entry.cooldownUntil, 900, "cooldown describes the account, not the token")
    }

    func testStateOnlyAccountsAreKeptAfterConfiguredOnes() throws {
        var imported = AccountStoreEntry(name: "imported")
        imported.accessToken = Secret("at-imported")
        let merged = AccountStoreMerge.merge(
            state: [imported],
            seeds: [seed("a", refresh: "rt-a"), seed("b", refresh: "rt-b")]
        )
        XCTAssertEqual(merged.map(\.name), ["a", "b", "imported"])
    }

    func testSeedWithoutTokensKeepsStateTokens() {
        var state = AccountStoreEntry(name: "a")
        state.refreshToken = Secret("rt-state")
        state.configFingerprint = "whatever"
        let merged = AccountStoreMerge.merge(state: [state], seeds: [AccountStoreSeed(name: "a", baseURL: "http://x")])
        XCTAssertEqual(merged[0].refreshToken?.reveal(), "rt-state")
        XCTAssertEqual(merged[0].baseURL, "http://x")
    }

    func testCooldownNeverShrinksAndUnknownAccountFails() throws {
        let store = AccountStore(path: nil, entries: [AccountStoreEntry(name: "a")])
        try store.setCooldowns([("a", 100)])
        try store.setCooldowns([("a", 50)])
        XCTAssertEqual(store.entry(named: "a")?.cooldownUntil, 100)
        try store.setCooldowns([("a", nil)])
        XCTAssertNil(store.entry(named: "a")?.cooldownUntil)
        XCTAssertThrowsError(try store.markReauthRequired("nope")) { error in
            XCTAssertEqual((error as? AccountStoreError)?.reason, "unknown_account")
        }
    }

    func testOpenRefusesWorldReadableState() throws {
        _ = try AccountStore.open(stateDirectory: directory, seeds: [seed("a", refresh: "rt")])
        XCTAssertEqual(chmod(directory + "/accounts.json", 0o644), 0)
        XCTAssertThrowsError(try AccountStore.open(stateDirectory: directory, seeds: [])) { error in
            XCTAssertEqual((error as? AccountStoreError)?.reason, "insecure_permissions")
        }
    }

    func testConcurrentUpdatesAllPersist() throws {
        let names = (0..<8).map { "acct\($0)" }
        let store = try AccountStore.open(stateDirectory: directory, seeds: names.map { seed($0, refresh: "rt-\($0)") })
        DispatchQueue.concurrentPerform(iterations: 64) { index in
            _ = try? store.update(names[index % names.count]) { $0.refreshGeneration += 1 }
        }
        let reopened = try AccountStore.open(stateDirectory: directory, seeds: [])
        XCTAssertEqual(reopened.entries().map(\.refreshGeneration), Array(repeating: 8, count: 8))
    }

    /// `accounts import` run while `serve` runs: the running proxy's next write (a cooldown here) keeps the new
    /// account and the re-imported tokens instead of writing its own older list over them.
    func testAWriteKeepsWhatAnImportChangedMeanwhile() throws {
        let reported = Mutex<[String]>([])
        let serving = try AccountStore.open(
            stateDirectory: directory,
            seeds: [seed("a", refresh: "rt-a-spent"), seed("b", refresh: "rt-b")],
            onExternalChanges: { names in reported.withLock { $0 += names } }
        )
        try serving.markReauthRequired("a")
        // Another process (the import) updates `a` and adds `c`, through its own store over the same file.
        let importer = try AccountStore.open(stateDirectory: directory, seeds: [])
        var reimported = try XCTUnwrap(importer.entry(named: "a"))
        reimported.refreshToken = Secret("rt-a-new")
        reimported.accessToken = Secret("at-a-new")
        reimported.status = .active
        reimported.refreshGeneration += 1
        try importer.upsert(reimported)
        var added = AccountStoreEntry(name: "c")
        added.refreshToken = Secret("rt-c")
        try importer.upsert(added)

        try serving.setCooldowns([("b", 500)])
        let file = try AccountStore.open(stateDirectory: directory, seeds: [])
        XCTAssertEqual(file.entries().map(\.name), ["a", "b", "c"], "the imported account stays in the file")
        XCTAssertEqual(file.entry(named: "a")?.refreshToken?.reveal(), "rt-a-new", "the re-import is not reverted")
        XCTAssertEqual(file.entry(named: "a")?.status, .active)
        XCTAssertEqual(file.entry(named: "b")?.cooldownUntil, 500)
        XCTAssertEqual(serving.entry(named: "a")?.accessToken?.reveal(), "at-a-new", "the proxy uses it at once")
        XCTAssertEqual(serving.entry(named: "c")?.refreshToken?.reveal(), "rt-c")
        XCTAssertEqual(reported.withLock { $0 }, ["a", "c"], "what it took in is reported once, for the log")

        // The proxy's own newer rotation is not undone by the file's older copy.
        try serving.recordRotation(
            "a",
            tokens: TokenRefreshTokens(accessToken: Secret("at-a-rotated"), refreshToken: Secret("rt-a-rotated")),
            now: 600
        )
        try serving.setCooldowns([("a", 700)])
        XCTAssertEqual(serving.entry(named: "a")?.refreshToken?.reveal(), "rt-a-rotated")
        XCTAssertEqual(
            try AccountStore.open(stateDirectory: directory, seeds: []).entry(named: "a")?.refreshToken?.reveal(),
            "rt-a-rotated"
        )
    }

    /// The import and a rotation by the proxy race on one account: the import's write lands on the rotated file
    /// and is what it wrote (its entry is the operator's intent), and the proxy then takes it in.
    func testAnImportRacingARotationIsWhatTheImportWrote() throws {
        let serving = try AccountStore.open(stateDirectory: directory, seeds: [seed("a", refresh: "rt-a-0")])
        let importer = try AccountStore.open(stateDirectory: directory, seeds: [])
        try serving.recordRotation(
            "a",
            tokens: TokenRefreshTokens(accessToken: Secret("at-a-1"), refreshToken: Secret("rt-a-1")),
            now: 100
        )
        var imported = try XCTUnwrap(importer.entry(named: "a"))  // read before the rotation
        imported.accessToken = Secret("at-a-import")
        imported.refreshToken = Secret("rt-a-import")
        imported.refreshGeneration += 1
        try importer.upsert(imported)
        let file = try AccountStore.open(stateDirectory: directory, seeds: [])
        XCTAssertEqual(file.entry(named: "a")?.refreshToken?.reveal(), "rt-a-import")
        try serving.setCooldowns([("a", 200)])
        XCTAssertEqual(serving.entry(named: "a")?.refreshToken?.reveal(), "rt-a-import")
        XCTAssertEqual(serving.entry(named: "a")?.cooldownUntil, 200)
    }

    /// A refresh of the old login ends after an import replaced it: neither its terminal failure nor its rotation
    /// undoes the import.
    func testARefreshOfAReplacedLoginLeavesTheImportAlone() throws {
        let serving = try AccountStore.open(stateDirectory: directory, seeds: [seed("a", refresh: "rt-old")])
        let importer = try AccountStore.open(stateDirectory: directory, seeds: [])
        var imported = try XCTUnwrap(importer.entry(named: "a"))
        imported.refreshToken = Secret("rt-import")
        imported.refreshGeneration += 1
        try importer.upsert(imported)

        serving.absorbExternalChanges()  // the periodic read, with nothing of its own to write
        XCTAssertEqual(serving.entry(named: "a")?.refreshToken?.reveal(), "rt-import")
        try serving.markReauthRequired("a", spent: Secret("rt-old"))
        XCTAssertEqual(serving.entry(named: "a")?.status, .active, "the old login's failure is not the import's")
        XCTAssertEqual(serving.entry(named: "a")?.refreshToken?.reveal(), "rt-import")
        let entry = try serving.recordRotation(
            "a",
            tokens: TokenRefreshTokens(accessToken: Secret("at-old-rotated"), refreshToken: Secret("rt-old-rotated")),
            now: 100,
            spent: Secret("rt-old")
        )
        XCTAssertEqual(entry.refreshToken?.reveal(), "rt-import", "the import wins over the old login's rotation")
        try serving.markReauthRequired("a", spent: Secret("rt-import"))
        XCTAssertEqual(serving.entry(named: "a")?.status, .reauthRequired, "its own failure still counts")
    }

    func testExternalChangesRule() {
        func entry(_ name: String, refresh: String, generation: Int, cooldown: Int64? = nil) -> AccountStoreEntry {
            var e = AccountStoreEntry(name: name)
            e.refreshToken = Secret(refresh)
            e.refreshGeneration = generation
            e.cooldownUntil = cooldown
            return e
        }
        let memory = [
            entry("a", refresh: "rt-1", generation: 3, cooldown: 900), entry("b", refresh: "rt-b", generation: 1),
        ]
        let merged = AccountStoreExternalChanges.merge(
            memory: memory,
            file: [
                entry("a", refresh: "rt-import", generation: 3, cooldown: 100),  // same generation, other tokens
                entry("b", refresh: "rt-b-old", generation: 0),  // older: the proxy's unwritten rotation wins
                entry("new", refresh: "rt-new", generation: 0),
            ]
        )
        XCTAssertEqual(merged.map(\.name), ["a", "b", "new"])
        XCTAssertEqual(merged[0].refreshToken?.reveal(), "rt-import")
        XCTAssertEqual(merged[0].cooldownUntil, 900, "the later cooldown")
        XCTAssertEqual(merged[1].refreshToken?.reveal(), "rt-b")
        XCTAssertEqual(
            AccountStoreExternalChanges.merge(memory: memory, file: memory).map { $0.refreshToken?.reveal() },
            ["rt-1", "rt-b"],
            "the file the proxy wrote itself changes nothing"
        )
        var reimported = memory[1]  // the same login, re-imported: a newer generation, active again
        reimported.refreshGeneration = 2
        var out = memory[1]
        out.status = .reauthRequired
        XCTAssertEqual(
            AccountStoreExternalChanges.merge(memory: [out], file: [reimported]).map(\.status),
            [.active],
            "the same tokens at a newer generation are an import too"
        )
    }

    /// A write that failed leaves its change in memory only; the store says so until a write carries it, and
    /// `save()` then does (what the continuity timer and shutdown call while it holds).
    func testAFailedWriteIsRememberedUntilAWriteCarriesIt() throws {
        let store = try AccountStore.open(stateDirectory: directory, seeds: [seed("a", refresh: "rt-config-a")])
        XCTAssertFalse(store.hasUnwrittenChanges)
        let moved = directory + ".moved"
        try FileManager.default.moveItem(atPath: directory, toPath: moved)
        defer { try? FileManager.default.removeItem(atPath: moved) }  // left only by a failure midway
        XCTAssertTrue(FileManager.default.createFile(atPath: directory, contents: Data()))  // ENOTDIR: even root fails
        XCTAssertThrowsError(try store.setCooldowns([("a", 4_000_000_000)]))
        XCTAssertTrue(store.hasUnwrittenChanges)
        XCTAssertThrowsError(try store.save())
        XCTAssertTrue(store.hasUnwrittenChanges, "still behind after another failure")
        try FileManager.default.removeItem(atPath: directory)
        try FileManager.default.moveItem(atPath: moved, toPath: directory)
        XCTAssertNil(try AccountStore.open(stateDirectory: directory, seeds: []).entry(named: "a")?.cooldownUntil)
        try store.save()
        XCTAssertFalse(store.hasUnwrittenChanges)
        let reread = try AccountStore.open(stateDirectory: directory, seeds: [])
        XCTAssertEqual(reread.entry(named: "a")?.cooldownUntil, 4_000_000_000)
    }
}
