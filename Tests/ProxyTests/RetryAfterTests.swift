import XCTest

@testable import Proxy

/// `retry-after-ms`, then `retry-after` as seconds or an IMF-fixdate; anything else counts as absent.
final class RetryAfterTests: XCTestCase {
    private let now = 1_800_000_000.0

    private func seconds(_ headers: [(String, String)]) -> Double? { RetryAfter.seconds(headers: headers, now: now) }

    func testSecondsAndMilliseconds() {
        XCTAssertEqual(seconds([("retry-after", "120")]), 120)
        XCTAssertEqual(seconds([("Retry-After", " 7 ")]), 7, "case-insensitive name, blanks around the value")
        XCTAssertEqual(seconds([("retry-after-ms", "1500")]), 1.5)
        XCTAssertEqual(seconds([("retry-after-ms", "250.5")]), 0.2505)
        XCTAssertEqual(seconds([("retry-after", "120"), ("retry-after-ms", "1500")]), 1.5, "ms wins, as in the SDKs")
        XCTAssertNil(seconds([("x-retry-after", "5"), ("retry-after-seconds", "5")]))
        XCTAssertNil(seconds([]))
    }

    func testAnIMFFixdate() {
        // 1_800_000_000 is Fri, 15 Jan 2027 08:00:00 GMT.
        XCTAssertEqual(RetryAfter.date("Fri, 15 Jan 2027 08:00:00 GMT"), now)
        XCTAssertEqual(seconds([("retry-after", "Fri, 15 Jan 2027 08:02:30 GMT")]), 150)
        XCTAssertEqual(seconds([("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT")]), 0, "a date in the past")
    }

    func testMalformedValuesCountAsAbsent() {
        for value in [
            "", " ", "nan", "inf", "-5", "0x10", "1e3", "1.2.3", "5s", "tomorrow", "Fri, 15 Jan 2027 08:00:00 UTC",
            "Fri, 15 Foo 2027 08:00:00 GMT", "Fri, 15 Jan 2027 25:00:00 GMT", "Fri, 5 Jan 2027 08:00:00 GMT",
            "Friday, 15-Jan-27 08:00:00 GMT", "Fri Jan 15 08:00:00 2027",
        ] {
            XCTAssertNil(seconds([("retry-after", value)]), value)
            XCTAssertNil(seconds([("retry-after-ms", value)]), value)
        }
    }
}
