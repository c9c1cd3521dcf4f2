import XCTest

@testable import Proxy

final class AccountSelectorTests: XCTestCase {
    func account(
        _ i: Int,
        _ state: AccountSnapshot.State = .active,
        cooldown: Double = 0,
        inFlight: Int = 0,
        cap: Int = 8,
        used: Double? = nil
    ) -> AccountSnapshot {
        AccountSnapshot(
            index: i,
            pseudonym: "acct_\(i)",
            state: state,
            cooldownUntil: cooldown,
            inFlight: inFlight,
            maxConcurrent: cap,
            quotaUsed: used,
            quotaResetAt: nil
        )
    }

    func testPrefersMostRemainingQuota() {
        let s = AccountSelector().select(
            [account(0, used: 0.8), account(1, used: 0.2), account(2, used: 0.5)],
            now: 100,
            sticky: nil,
            excluded: []
        )
        XCTAssertEqual(s, .account(index: 1, sticky: false))
    }

    func testStickyWinsWhileItHasQuotaButIsOnlyAPreference() {
        let pool = [account(0, used: 0.9), account(1, used: 0.1)]
        XCTAssertEqual(
            AccountSelector().select(pool, now: 0, sticky: 0, excluded: []),
            .account(index: 0, sticky: true)
        )
        XCTAssertEqual(
            AccountSelector().select(pool, now: 0, sticky: 0, excluded: [0]),
            .account(index: 1, sticky: false)
        )
        let full = [account(0, used: 0.97), account(1, used: 0.1)]
        XCTAssertEqual(
            AccountSelector().select(full, now: 0, sticky: 0, excluded: []),
            .account(index: 1, sticky: false)
        )
    }

    func testNeverPicksCoolingReauthOrDisabled() {
        let pool = [
            account(0, .cooling, cooldown: 200), account(1, .reauthRequired), account(2, .disabled), account(3),
        ]
        XCTAssertEqual(
            AccountSelector().select(pool, now: 100, sticky: 0, excluded: []),
            .account(index: 3, sticky: false)
        )
    }

    func testCooldownThatPassedIsEligibleAgain() {
        XCTAssertEqual(
            AccountSelector().select([account(0, .cooling, cooldown: 50)], now: 100, sticky: nil, excluded: []),
            .account(index: 0, sticky: false)
        )
    }

    func testExhaustedReportsEarliestReset() {
        let pool = [
            account(0, .cooling, cooldown: 300), account(1, .cooling, cooldown: 200), account(2, .reauthRequired),
        ]
        XCTAssertEqual(
            AccountSelector().select(pool, now: 100, sticky: nil, excluded: []),
            .exhausted(resetsAt: 200, atCapacity: false)
        )
        XCTAssertEqual(
            AccountSelector().select([account(0, .reauthRequired)], now: 100, sticky: nil, excluded: []),
            .exhausted(resetsAt: nil, atCapacity: false)
        )
    }

    func testConcurrencyCapIsLocalCapacityNotQuota() {
        XCTAssertEqual(
            AccountSelector().select([account(0, inFlight: 8, cap: 8)], now: 0, sticky: nil, excluded: []),
            .exhausted(resetsAt: nil, atCapacity: true)
        )
        XCTAssertEqual(
            AccountSelector().select(
                [account(0, inFlight: 8, cap: 8), account(1, inFlight: 1)],
                now: 0,
                sticky: 0,
                excluded: []
            ),
            .account(index: 1, sticky: false)
        )
    }

    func testFewerInFlightBreaksTies() {
        XCTAssertEqual(
            AccountSelector().select(
                [account(0, inFlight: 3), account(1, inFlight: 1)],
                now: 0,
                sticky: nil,
                excluded: []
            ),
            .account(index: 1, sticky: false)
        )
    }

    func testSoftCooldownsNeverEmptyThePool() {
        var a = account(0, .cooling, cooldown: 200)
        a.softCooldown = true
        var b = account(1, .cooling, cooldown: 300)
        b.softCooldown = true
        XCTAssertEqual(
            AccountSelector().select([a, b], now: 100, sticky: nil, excluded: []),
            .account(index: 0, sticky: false)
        )
        // Still lower priority than a healthy account, and a hard cooldown stays hard.
        XCTAssertEqual(
            AccountSelector().select([a, account(2)], now: 100, sticky: 0, excluded: []),
            .account(index: 2, sticky: false)
        )
        XCTAssertEqual(
            AccountSelector().select([account(0, .cooling, cooldown: 200)], now: 100, sticky: nil, excluded: []),
            .exhausted(resetsAt: 200, atCapacity: false)
        )
    }

    /// A 5xx burst is never a quota answer: with the soft-cooling account at its cap too, the pool is at capacity
    /// (503, retry soon), not exhausted (429 `usage_limit_reached`, which Codex shows as a hit limit).
    func testASoftCooldownBesideFullCapsIsCapacityNotExhaustion() {
        var a = account(0, .cooling, cooldown: 105, inFlight: 2, cap: 2)
        a.softCooldown = true
        let b = account(1, inFlight: 2, cap: 2)
        XCTAssertEqual(
            AccountSelector().select([a, b], now: 100, sticky: nil, excluded: []),
            .exhausted(resetsAt: nil, atCapacity: true)
        )
        // Beside a hard cooldown the pool is exhausted until that one's end, not the soft one's.
        let c = account(2, .cooling, cooldown: 400)
        XCTAssertEqual(
            AccountSelector().select([a, c], now: 100, sticky: nil, excluded: []),
            .exhausted(resetsAt: 400, atCapacity: false)
        )
    }
}
