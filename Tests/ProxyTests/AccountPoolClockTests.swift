import Foundation
import LogRedaction
import Metrics
import XCTest

@testable import Proxy

/// The pool's view of its accounts follows the clock, not only the traffic: a quota window whose reset has
/// passed reads 0 used (for the selector and the gauges), and `catchUpWithClock` ends cooldowns that are over
/// (docs/accounts.md). Each used to wait for a request to reach the account.
final class AccountPoolClockTests: XCTestCase {
    private let now = 1_800_000_000.0

    private func pool() throws -> (AccountPool, SightlineMetrics) {
        AccountPoolFixture.make(["a", "b"], now: now)
    }

    private func quota(used percent: Int, resetAt: Double) -> QuotaSignal {
        QuotaSignal.parse(headers: [
            ("x-codex-primary-used-percent", String(percent)), ("x-codex-primary-reset-at", String(Int(resetAt))),
        ])
    }

    func testAWindowPastItsResetReadsEmpty() {
        let q = quota(used: 100, resetAt: now)
        XCTAssertEqual(q.asOf(now - 1).usedRatio, 1)
        XCTAssertEqual(q.asOf(now).usedRatio, 0)
        XCTAssertEqual(q.asOf(now).primary.resetAt, now, "the reset time stays: when the window emptied")
        XCTAssertNil(QuotaSignal().asOf(now).usedRatio, "unknown stays unknown")
    }

    /// `a` used its whole window, which has since reset; `b` has used 30 %. The selector prefers the most
    /// remaining quota: that is `a` now, not `b`.
    func testTheSelectorRanksAnAccountByItsCurrentWindow() throws {
        let (p, metrics) = try pool()
        p.updateQuota(0, quota(used: 100, resetAt: now + 60))
        p.updateQuota(1, quota(used: 30, resetAt: now + 3600))
        guard
            case .account(let before, _) = p.acquire(
                session: nil,
                preferred: nil,
                excluded: [],
                now: now
            )
        else { return XCTFail("an account") }
        XCTAssertEqual(before, 1, "before the reset, b has more left")
        p.release(before)
        guard
            case .account(let after, _) = p.acquire(
                session: nil,
                preferred: nil,
                excluded: [],
                now: now + 61
            )
        else { return XCTFail("an account") }
        XCTAssertEqual(after, 0, "after it, a's window is empty")
        let scrape = metrics.registry.render()
        let a = p.pseudonyms[0]
        XCTAssertTrue(
            scrape.contains(#"sightline_account_quota_used_ratio{account="\#(a)",window="primary"} 0"#),
            scrape
        )
    }

    func testCatchingUpEndsCooldownsThatAreOver() throws {
        let (p, metrics) = try pool()
        p.coolDown(0, until: now + 5, reason: "usage_limit", now: now)
        p.catchUpWithClock(now: now + 4)
        XCTAssertEqual(p.snapshot(0).state, .cooling)
        XCTAssertEqual(metrics.poolAvailableAccounts.value, 1)
        p.catchUpWithClock(now: now + 5)
        XCTAssertEqual(p.snapshot(0).state, .active)
        XCTAssertEqual(metrics.poolAvailableAccounts.value, 2)
        XCTAssertTrue(
            metrics.registry.render().contains(
                #"sightline_account_cooldown_until_timestamp_seconds{account="\#(p.pseudonyms[0])"} 0"#
            )
        )
    }

    /// A 5xx cooldown is soft: the selector still sends requests to the account when nothing better is left, so
    /// the available-accounts gauge, which the pool-exhaustion alert reads, keeps counting it. A quota cooldown
    /// takes it out. Until 2026-12-07 a 5xx burst on every account read as an empty pool.
    func testASoftCooldownLeavesTheAccountAvailable() throws {
        let (p, metrics) = try pool()
        for index in [0, 1] {
            p.applyConsequences(
                index,
                status: 503,
                error: .overloaded,
                resetsAt: nil,
                quota: QuotaSignal.parse(headers: []),
                now: now
            )
        }
        XCTAssertEqual(p.snapshot(0).state, .cooling, "still shown as cooling in the state gauge")
        XCTAssertEqual(metrics.poolAvailableAccounts.value, 2)
        XCTAssertNil(p.earliestAvailability(now: now), "and never the reset of an exhausted pool")
        p.coolDown(1, until: now + 600, reason: "usage_limit", now: now)
        XCTAssertEqual(metrics.poolAvailableAccounts.value, 1)
    }

    /// An account out as `reauth_required` comes back once its stored login is usable again (an import the store
    /// took in), and not before.
    func testAReauthenticatedAccountIsReadmitted() throws {
        var a = AccountStoreEntry(name: "a", status: .reauthRequired)
        a.accessToken = Secret("at-FAKE-spent")
        var b = AccountStoreEntry(name: "b")
        b.accessToken = Secret("at-FAKE-b")
        let (p, metrics) = AccountPoolFixture.make(["a", "b"], stored: [a, b], now: now)
        XCTAssertEqual(p.snapshot(0).state, .reauthRequired, "restored from the store")
        p.readmitReauthenticated(now: now)
        XCTAssertEqual(p.snapshot(0).state, .reauthRequired, "still spent: stays out")
        a.status = .active
        a.accessToken = Secret("at-FAKE-imported")
        try p.store.upsert(a)
        p.readmitReauthenticated(now: now)
        XCTAssertEqual(p.snapshot(0).state, .active)
        XCTAssertEqual(metrics.poolAvailableAccounts.value, 2)
    }

    /// A quota cooldown still running when the login failed survives the re-import: the account comes back
    /// cooling until the reset, not into the same limit (it came back `active`, with the gauge at 0).
    func testAReadmittedAccountKeepsItsRunningCooldown() throws {
        var a = AccountStoreEntry(name: "a")
        a.accessToken = Secret("at-FAKE-a")
        let (p, _) = AccountPoolFixture.make(["a", "b"], stored: [a], now: now)
        p.coolDown(0, until: now + 3 * 3600, reason: "usage_limit", now: now)
        p.markReauthRequired(0, reason: "refresh_token_reused")
        XCTAssertEqual(p.snapshot(0).state, .reauthRequired)
        a.accessToken = Secret("at-FAKE-imported")
        try p.store.upsert(a)
        p.readmitReauthenticated(now: now + 60)
        XCTAssertEqual(p.snapshot(0).state, .cooling)
        XCTAssertEqual(p.snapshot(0).cooldownUntil, now + 3 * 3600)
        XCTAssertFalse(p.isInRotation(0, now: now + 60))
        p.readmitReauthenticated(now: now + 4 * 3600)
        XCTAssertTrue(p.isInRotation(0, now: now + 4 * 3600), "and back once the reset has passed")
    }

    /// A stored cooldown beyond the 8-day cap (a hand edit, a file from before the reset fixes) is capped once and
    /// for good: the capped end is written back, so a restart 9 days on finds the account back in rotation. The
    /// cap was kept in memory only and started over at every restart.
    func testACappedCooldownIsWrittenBackAndEnds() throws {
        var a = AccountStoreEntry(name: "a")
        a.accessToken = Secret("at-FAKE-a")
        a.cooldownUntil = Int64(now) + 10_000_000_000
        let first = AccountPoolFixture.make(["a"], stored: [a], now: now).pool
        XCTAssertEqual(first.snapshot(0).state, .cooling)
        let cap = now + AccountPool.maximumCooldownSeconds
        XCTAssertEqual(first.snapshot(0).cooldownUntil, cap)
        XCTAssertEqual(first.store.entry(named: "a")?.cooldownUntil, Int64(cap), "the cap is stored")
        let restarted = AccountPoolFixture.make(["a"], stored: first.store.entries(), now: now + 9 * 86_400).pool
        XCTAssertTrue(restarted.isInRotation(0, now: now + 9 * 86_400))
    }

    /// The same across a restart: a `reauth_required` account's stored cooldown is restored with it, so the
    /// re-import still brings it back cooling (it came back `active` after a restart).
    func testAReadmittedAccountKeepsItsCooldownAcrossARestart() throws {
        var a = AccountStoreEntry(name: "a", status: .reauthRequired)
        a.accessToken = Secret("at-FAKE-spent")
        a.cooldownUntil = Int64(now) + 3 * 3600
        let (p, _) = AccountPoolFixture.make(["a", "b"], stored: [a], now: now)
        XCTAssertEqual(p.snapshot(0).state, .reauthRequired)
        a.status = .active
        a.accessToken = Secret("at-FAKE-imported")
        try p.store.upsert(a)
        p.readmitReauthenticated(now: now + 60)
        XCTAssertEqual(p.snapshot(0).state, .cooling)
        XCTAssertFalse(p.isInRotation(0, now: now + 60))
    }
}
