import Foundation
import XCTest

/// A quota error inside a 200 stream (`response.failed` with `usage_limit_reached`) cools its account as the
/// same error answered with a 429 does. Until this test, the HTTP path moved the request to another account but
/// left the refusing one active, so later requests went back to it and each paid a failed attempt.
final class InStreamQuotaTests: XCTestCase {
    private var stack: SightlineStack!

    override func setUpWithError() throws { stack = try SightlineStack(label: "in-stream-quota") }
    override func tearDown() { stack?.stop() }

    func testAnInStreamUsageLimitCoolsTheAccount() throws {
        for stream in [true, false] {
            try stack.injectFault(account: nil, "response_failed", params: ["code": "usage_limit_reached"])
            let r = try stack.postHi(stream: stream)
            XCTAssertEqual(r.status, 200, r.bodyText)
            XCTAssertFalse(r.bodyText.contains("usage_limit_reached"), "recovered on another account: \(r.bodyText)")
        }
        XCTAssertEqual(
            try stack.metricSum(prefix: "sightline_account_state{", containing: #"state="cooling""#),
            2,
            "each refusing account cools"
        )
        XCTAssertEqual(try stack.cooldownsUntil().filter { $0 > Date().timeIntervalSince1970 }.count, 2)
    }

    /// The reset an in-stream quota error names (`resets_in_seconds` in the error) is how long its account cools,
    /// not the 30 s guess of a 429 that names none.
    func testAnInStreamUsageLimitCoolsUntilTheResetItNames() throws {
        let params: [String: Any] = ["code": "usage_limit_reached", "resets_in_seconds": 900]
        try stack.injectFault(account: nil, "response_failed", params: params)
        let before = Date().timeIntervalSince1970
        XCTAssertEqual(try stack.postHi(stream: true).status, 200)
        let until = try stack.cooldownsUntil().filter { $0 > 0 }
        XCTAssertEqual(until.count, 1, "\(until)")
        XCTAssertEqual(until.first ?? 0, before + 900, accuracy: 5)
    }

    /// `insufficient_quota` (an API key out of billing) and `usage_not_included` (a plan without Codex) inside the
    /// stream are the account's refusals, fatal for Codex: the request moves to another account, as the same codes
    /// answered with a 429 or 403 do. Until 2026-12-07 they classified as `_OTHER` and were relayed.
    func testAnInStreamAccountRefusalOfAnyKindMovesTheRequest() throws {
        for code in ["insufficient_quota", "usage_not_included"] {
            try stack.injectFault(account: nil, "response_failed", params: ["code": code])
            let r = try stack.postHi(stream: true)
            XCTAssertEqual(r.status, 200, r.bodyText)
            XCTAssertTrue(r.bodyText.contains("event: response.completed"), "\(code): \(r.bodyText)")
            XCTAssertFalse(r.bodyText.contains(code), "recovered on another account: \(r.bodyText)")
        }
        XCTAssertEqual(try stack.decision("pin_reset").succeeded, 2)
        XCTAssertEqual(try stack.coolingAccounts(), 2, "each refusing account cools")
    }
}
