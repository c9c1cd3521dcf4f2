import WireFormats
import XCTest

@testable import Proxy

final class QuotaSignalTests: XCTestCase {
    func testParsesCodexHeaders() {
        let q = QuotaSignal.parse(headers: [
            ("X-Codex-Primary-Used-Percent", "42"), ("x-codex-primary-reset-at", "1700000000"),
            ("x-codex-secondary-used-percent", "90.5"), ("x-codex-secondary-reset-at", "1700600000"),
            ("x-codex-primary-window-minutes", "300"), ("x-other", "1"),
        ])
        XCTAssertEqual(q.primary.usedRatio!, 0.42, accuracy: 1e-9)
        XCTAssertEqual(q.secondary.usedRatio!, 0.905, accuracy: 1e-9)
        XCTAssertEqual(q.usedRatio!, 0.905, accuracy: 1e-9)
        XCTAssertEqual(q.resetAt, 1_700_600_000)
        XCTAssertEqual(q.primary.windowMinutes, 300)
    }

    /// The WebSocket `codex.rate_limits` event carries the same facts as the headers; `resets_at` is accepted for
    /// `reset_at`, and another limit family is not the account's Codex quota.
    func testParsesTheRateLimitsEvent() throws {
        func parse(_ json: String) throws -> QuotaSignal {
            QuotaSignal.parse(rateLimits: try JSONTopLevel.scan(Array(json.utf8)))
        }
        let q = try parse(
            #"{"type":"codex.rate_limits","plan_type":"plus","rate_limits":{"primary":{"used_percent":42,"window_minutes":300,"reset_at":1700000000},"secondary":{"used_percent":140,"resets_at":1700500000}},"limit_name":"codex"}"#
        )
        XCTAssertEqual(q.primary, QuotaSignal.Window(usedRatio: 0.42, resetAt: 1_700_000_000, windowMinutes: 300))
        XCTAssertEqual(q.secondary, QuotaSignal.Window(usedRatio: 1, resetAt: 1_700_500_000, windowMinutes: nil))
        XCTAssertEqual(
            try parse(#"{"type":"codex.rate_limits","rate_limits":{"primary":{"used_percent":5}}}"#).primary.usedRatio,
            0.05,
            "no family named: the Codex one"
        )
        for other in [
            #"{"type":"codex.rate_limits","rate_limits":{"primary":{"used_percent":5}},"limit_name":"other"}"#,
            #"{"type":"codex.rate_limits","rate_limits":{"primary":{"used_percent":"5","reset_at":null}}}"#,
            #"{"type":"codex.rate_limits","rate_limits":[]}"#, #"{"type":"codex.rate_limits"}"#,
            #"{"type":"codex.rate_limits","rate_limits":{"primary":{"used_percent":1e400}}}"#,
        ] {
            XCTAssertTrue(try parse(other).isEmpty, other)
        }
    }

    /// The headers an HTTP answer would carry for a `codex.rate_limits` event, numbers as written.
    func testRateLimitsEventAsHeaders() throws {
        let event = try JSONTopLevel.scan(
            Array(
                #"{"type":"codex.rate_limits","rate_limits":{"primary":{"used_percent":42.5,"window_minutes":300,"resets_at":1700000000},"secondary":{"used_percent":"7","window_minutes":1e400}}}"#
                    .utf8
            )
        )
        let headers = QuotaSignal.headers(rateLimits: event)
        XCTAssertEqual(
            headers.map(\.0),
            ["x-codex-primary-used-percent", "x-codex-primary-window-minutes", "x-codex-primary-reset-at"]
        )
        XCTAssertEqual(headers.map(\.1), ["42.5", "300", "1700000000"])
        XCTAssertEqual(QuotaSignal.parse(headers: headers), QuotaSignal.parse(rateLimits: event), "the same facts")
    }

    func testGarbageAndAbsenceStayNil() {
        XCTAssertTrue(QuotaSignal.parse(headers: [("content-type", "text/plain")]).isEmpty)
        let q = QuotaSignal.parse(headers: [("x-codex-primary-used-percent", "lots")])
        XCTAssertNil(q.usedRatio)
        XCTAssertEqual(QuotaSignal.parse(headers: [("x-codex-primary-used-percent", "250")]).usedRatio, 1)
    }

    func testNamesFoldCaseAndMustMatchWhole() {
        let q = QuotaSignal.parse(headers: [
            ("X-CODEX-SECONDARY-WINDOW-MINUTES", "10080"), ("x-codex-primary-used-percentage", "50"),
            ("x-codex-primary-used-percen", "60"), ("x-codex-", "1"), ("x-codex-primary-reset-at-x", "5"),
            ("y-codex-primary-used-percent", "70"),
        ])
        XCTAssertEqual(q.secondary.windowMinutes, 10080)
        XCTAssertNil(q.primary.usedRatio, "a longer, shorter or differently prefixed name is another header")
        XCTAssertNil(q.primary.resetAt)
    }

    func testValuesAreFiniteNumbersBetweenBlanks() {
        XCTAssertEqual(
            QuotaSignal.parse(headers: [("x-codex-primary-reset-at", " \t1700000000 ")]).resetAt,
            1_700_000_000
        )
        for bad in ["nan", "inf", "-infinity", "", "  ", "4 2", "42%"] {
            XCTAssertNil(
                QuotaSignal.parse(headers: [("x-codex-primary-used-percent", bad)]).usedRatio,
                "value \(bad.debugDescription)"
            )
        }
    }
}
