import LogRedaction
import XCTest

@testable import Proxy

final class TokenRefreshBackoffTests: XCTestCase {
    static let key = Array(repeating: UInt8(7), count: 32)

    static func login(_ token: String) -> RefreshTokenFingerprint {
        RefreshTokenFingerprint(Secret(token), key: key)
    }

    func testTheWaitDoublesFrom30SecondsTo5Minutes() {
        var backoff = TokenRefreshBackoff(login: Self.login("rt-FAKE-a"), failedAt: 0)
        var delays: [Int64] = []
        for _ in 0..<70 {
            delays.append(backoff.delaySeconds)
            backoff.recordFailure(login: Self.login("rt-FAKE-a"), now: 0)
        }
        XCTAssertEqual(Array(delays.prefix(7)), [30, 60, 120, 240, 300, 300, 300])
        XCTAssertEqual(delays.last, 300, "no overflow however many failures")
    }

    func testAllowsTable() {
        let backoff = TokenRefreshBackoff(login: Self.login("rt-FAKE-a"), failedAt: 1_000)
        let cases: [(login: String, now: Int64, allowed: Bool, why: String)] = [
            ("rt-FAKE-a", 1_000, false, "just failed"),
            ("rt-FAKE-a", 1_029, false, "within 30 s"),
            ("rt-FAKE-a", 1_030, true, "30 s later"),
            ("rt-FAKE-b", 1_001, true, "another login (rotated or imported), whatever its generation"),
            ("rt-FAKE-a", 999, true, "the clock stepped back before the failure"),
        ]
        for c in cases {
            XCTAssertEqual(backoff.allows(login: Self.login(c.login), now: c.now), c.allowed, c.why)
        }
        XCTAssertTrue(
            TokenRefreshBackoff(login: Self.login("rt-FAKE-a"), failedAt: .max).allows(
                login: Self.login("rt-FAKE-a"),
                now: .max
            ),
            "a failure at the end of time does not overflow"
        )
    }

    func testAFailureOfAnotherLoginStartsOver() {
        var backoff = TokenRefreshBackoff(login: Self.login("rt-FAKE-a"), failedAt: 0)
        backoff.recordFailure(login: Self.login("rt-FAKE-a"), now: 10)
        XCTAssertEqual(backoff.delaySeconds, 60)
        backoff.recordFailure(login: Self.login("rt-FAKE-b"), now: 20)
        XCTAssertEqual(backoff.delaySeconds, 30)
        XCTAssertEqual(backoff.login, Self.login("rt-FAKE-b"))
        XCTAssertEqual(backoff.failedAt, 20)
    }

    /// The fingerprint tells tokens apart, depends on the key (so it matches nothing outside the process that drew
    /// it), and never prints a byte of itself or of the token.
    func testTheFingerprintIsKeyedAndNeverPrinted() {
        XCTAssertEqual(Self.login("rt-FAKE-a"), Self.login("rt-FAKE-a"))
        XCTAssertNotEqual(Self.login("rt-FAKE-a"), Self.login("rt-FAKE-b"))
        let otherKey = RefreshTokenFingerprint(Secret("rt-FAKE-a"), key: Array(repeating: 8, count: 32))
        XCTAssertNotEqual(Self.login("rt-FAKE-a"), otherKey)
        XCTAssertNotEqual(RefreshTokenFingerprint.makeKey(), RefreshTokenFingerprint.makeKey())
        for text in [String(describing: Self.login("rt-FAKE-a")), String(reflecting: Self.login("rt-FAKE-a"))] {
            XCTAssertEqual(text, "RefreshTokenFingerprint(REDACTED)")
        }
    }
}
