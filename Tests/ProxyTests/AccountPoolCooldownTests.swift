import Foundation
import LogRedaction
import Metrics
import XCTest

@testable import Proxy

/// Cooldowns from resets no clock reaches (a unit mix-up, `1e20`, `1e400`): bounded by
/// `AccountPool.maximumCooldownSeconds`, persisted as whole seconds, and answered as a well-formed 429. Each
/// of these once trapped converting the time to an integer (docs/accounts.md, "Cooldowns").
final class AccountPoolCooldownTests: XCTestCase {
    private let now = 1_800_000_000.0
    private var limit: Double { now + AccountPool.maximumCooldownSeconds }

    private func pool(
        stored: [AccountStoreEntry] = [AccountStoreEntry(name: "a"), AccountStoreEntry(name: "b")]
    ) throws -> AccountPool {
        AccountPoolFixture.make(["a", "b"], stored: stored, now: now).pool
    }

    private func usageLimit(_ pool: AccountPool, resetsAt: Double?, headers: [(String, String)] = []) {
        pool.applyConsequences(
            0,
            status: 429,
            error: .usageLimitReached,
            resetsAt: resetsAt,
            quota: QuotaSignal.parse(headers: headers),
            now: now
        )
    }

    func testAResetBeyondTheLongestWindowCoolsForTheLongestCooldown() throws {
        for reset in [1e20, 1e300, Double(Int64.max), now + AccountPool.maximumCooldownSeconds + 1] {
            let p = try pool()
            usageLimit(p, resetsAt: reset)
            XCTAssertEqual(p.snapshot(0).state, .cooling, "\(reset)")
            XCTAssertEqual(p.snapshot(0).cooldownUntil, limit, "\(reset)")
            XCTAssertTrue(p.stateWriter.flush(timeout: 10))
            XCTAssertEqual(p.store.entry(named: "a")?.cooldownUntil, Int64(limit), "persisted, \(reset)")
            XCTAssertEqual(p.earliestAvailability(now: now), limit)
        }
    }

    func testAnOrdinaryResetIsKeptAsItIs() throws {
        let p = try pool()
        usageLimit(p, resetsAt: now + 600)
        XCTAssertEqual(p.snapshot(0).cooldownUntil, now + 600)
        XCTAssertTrue(p.stateWriter.flush(timeout: 10))
        XCTAssertEqual(p.store.entry(named: "a")?.cooldownUntil, Int64(now + 600))
    }

    func testAResetThatIsNotATimeIsABareRateLimit() throws {
        for reset in [Double.infinity, -Double.infinity, Double.nan, -1e20] {
            let p = try pool()
            usageLimit(p, resetsAt: reset)
            XCTAssertEqual(p.snapshot(0).cooldownUntil, now + 30, "the 30 s backoff of a 429 without a reset, \(reset)")
        }
    }

    func testAQuotaHeaderResetFarAheadIsBoundedToo() throws {
        let p = try pool()
        usageLimit(
            p,
            resetsAt: nil,
            headers: [("x-codex-primary-used-percent", "100"), ("x-codex-primary-reset-at", "1e300")]
        )
        XCTAssertEqual(p.snapshot(0).cooldownUntil, limit)
    }

    func testARestoredCooldownIsBounded() throws {
        var far = AccountStoreEntry(name: "a")
        far.cooldownUntil = 9_000_000_000_000_000_000
        var near = AccountStoreEntry(name: "b")
        near.cooldownUntil = Int64(now) + 60
        let p = try pool(stored: [far, near])
        XCTAssertEqual(p.snapshot(0).cooldownUntil, limit)
        XCTAssertEqual(p.snapshot(1).cooldownUntil, now + 60)
    }

    func testTheExhaustedAnswerOmitsAResetNoIntegerHolds() {
        for reset in [Double.infinity, Double.nan, 1e300, 9.3e18, -9.3e18] {
            let e = ProxyErrorResponse.usageLimitReached(resetsAt: reset, now: now)
            XCTAssertEqual(e.status, 429)
            XCTAssertTrue(e.extra.isEmpty, "\(reset)")
            XCTAssertFalse(e.headers.contains { $0.0 == "retry-after" }, "\(reset)")
            XCTAssertNotNil(try? JSONSerialization.jsonObject(with: Data(e.body)), "\(reset)")
        }
        let e = ProxyErrorResponse.usageLimitReached(resetsAt: now + 90.5, now: now)
        XCTAssertEqual(e.extra.map(\.0), ["resets_at", "resets_in_seconds"])
        XCTAssertEqual(e.extra.map(\.1), [String(Int(now) + 91), "91"])
        XCTAssertTrue(e.headers.contains { $0 == ("retry-after", "91") })
    }

    /// A soft cooldown (a 401 refresh did not cure) on an account a quota cooled keeps the quota's hard cooldown
    /// and its reset; a quota on a soft-cooling account ends at its own reset. Until 2026-12-07 the soft flag
    /// followed the latest reason and the end the latest maximum: the limited account could be picked again and
    /// its reset left the pool's 429, or a 30 s reset read as the 5-minute unauthorized end.
    func testSoftAndHardCooldownsKeepTheirOwnMeaning() throws {
        let p = try pool()
        usageLimit(p, resetsAt: now + 60)
        p.coolUnauthorized(0, now: now)
        XCTAssertFalse(p.snapshot(0).softCooldown, "the quota's cooldown stays hard")
        XCTAssertEqual(p.snapshot(0).cooldownUntil, now + 60)
        XCTAssertFalse(p.isInRotation(0, now: now + 1))
        XCTAssertEqual(p.earliestAvailability(now: now + 1), now + 60)

        let q = try pool()
        q.coolUnauthorized(0, now: now)
        usageLimit(q, resetsAt: now + 30)
        XCTAssertFalse(q.snapshot(0).softCooldown)
        XCTAssertEqual(q.snapshot(0).cooldownUntil, now + 30, "the quota's own reset, not the soft end")
        XCTAssertTrue(q.stateWriter.flush(timeout: 10))
        XCTAssertEqual(q.store.entry(named: "a")?.cooldownUntil, Int64(now) + 30)
    }
}
