import LogRedaction
import XCTest

@testable import Proxy

/// The last quota seen per account survives a restart (`accounts.json`, docs/accounts.md): written on the
/// continuity timer when it changed, read back when the pool is built. Until 2026-12-07 it was neither: the file
/// kept `"quota": null`, and after a restart every account ranked as half used until it answered again, so a
/// nearly exhausted sticky account kept its conversations.
final class AccountPoolQuotaPersistenceTests: XCTestCase {
    let now = 1_800_000_000.0

    func testTheLastQuotaIsWrittenAndRestored() throws {
        var a = AccountStoreEntry(name: "a")
        a.accessToken = Secret("at-FAKE-a")
        let (p, _) = AccountPoolFixture.make(["a", "b"], stored: [a], now: now)
        var signal = QuotaSignal()
        signal.primary.usedRatio = 0.97
        signal.primary.resetAt = now + 3600
        signal.secondary.usedRatio = 0.4
        signal.secondary.resetAt = now + 86_400
        p.updateQuota(0, signal)
        p.persistQuotas(now: now)
        let stored = try XCTUnwrap(p.store.entry(named: "a")?.quota)
        XCTAssertEqual(stored.primaryUsedPercent ?? -1, 97, accuracy: 1e-9)
        XCTAssertEqual(stored.secondaryResetAt, Int64(now + 86_400))
        XCTAssertNil(p.store.entry(named: "b")?.quota, "nothing seen, nothing written")

        // A new pool on the same entries (a restart): the account ranks by what it last reported.
        let restarted = AccountPoolFixture.make(["a", "b"], stored: p.store.entries(), now: now + 60).pool
        XCTAssertEqual(restarted.snapshot(0).quota.usedRatio ?? -1, 0.97, accuracy: 1e-9)
        // And the primary window that reset before the restart reads empty.
        let later = AccountPoolFixture.make(["a", "b"], stored: p.store.entries(), now: now + 7200).pool
        XCTAssertEqual(later.snapshot(0).quota.primary.usedRatio, 0)
        XCTAssertEqual(later.snapshot(0).quota.usedRatio ?? -1, 0.4, accuracy: 1e-9)
    }

    /// Only a change is written: an unchanged quota costs no rewrite of the file.
    func testAnUnchangedQuotaIsNotWrittenAgain() throws {
        var a = AccountStoreEntry(name: "a")
        a.accessToken = Secret("at-FAKE-a")
        let (p, _) = AccountPoolFixture.make(["a"], stored: [a], now: now)
        var signal = QuotaSignal()
        signal.primary.usedRatio = 0.5
        p.updateQuota(0, signal)
        p.persistQuotas(now: now)
        XCTAssertEqual(p.store.entry(named: "a")?.quota?.observedAt, Int64(now))
        p.persistQuotas(now: now + 15)
        XCTAssertEqual(p.store.entry(named: "a")?.quota?.observedAt, Int64(now), "not rewritten")
        p.updateQuota(0, signal)
        p.persistQuotas(now: now + 30)
        XCTAssertEqual(p.store.entry(named: "a")?.quota?.observedAt, Int64(now), "the same report changes nothing")
    }
}
