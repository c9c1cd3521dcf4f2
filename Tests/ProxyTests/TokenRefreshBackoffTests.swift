import XCTest

@testable import Proxy

final class TokenRefreshBackoffTests: XCTestCase {
    func testTheWaitDoublesFrom30SecondsTo5Minutes() {
        var backoff = TokenRefreshBackoff(generation: 3, failedAt: 0)
        var delays: [Int64] = []
        for _ in 0..<70 {
            delays.append(backoff.delaySeconds)
            backoff.recordFailure(generation: 3, now: 0)
        }
        XCTAssertEqual(Array(delays.prefix(7)), [30, 60, 120, 240, 300, 300, 300])
        XCTAssertEqual(delays.last, 300, "no overflow however many failures")
    }

    func testAllowsTable() {
        let backoff = TokenRefreshBackoff(generation: 3, failedAt: 1_000)
        let cases: [(generation: Int, now: Int64, allowed: Bool, why: String)] = [
            (3, 1_000, false, "just failed"),
            (3, 1_029, false, "within 30 s"),
            (3, 1_030, true, "30 s later"),
            (4, 1_001, true, "another login (rotated or imported)"),
            (3, 999, true, "the clock stepped back before the failure"),
        ]
        for c in cases {
            XCTAssertEqual(backoff.allows(generation: c.generation, now: c.now), c.allowed, c.why)
        }
        XCTAssertTrue(
            TokenRefreshBackoff(generation: 0, failedAt: .max).allows(generation: 0, now: .max),
            "a failure at the end of time does not overflow"
        )
    }

    func testAFailureOfAnotherLoginStartsOver() {
        var backoff = TokenRefreshBackoff(generation: 1, failedAt: 0)
        backoff.recordFailure(generation: 1, now: 10)
        XCTAssertEqual(backoff.delaySeconds, 60)
        backoff.recordFailure(generation: 2, now: 20)
        XCTAssertEqual(backoff.delaySeconds, 30)
        XCTAssertEqual(backoff.generation, 2)
        XCTAssertEqual(backoff.failedAt, 20)
    }
}
