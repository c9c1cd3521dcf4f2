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
}
