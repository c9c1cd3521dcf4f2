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
