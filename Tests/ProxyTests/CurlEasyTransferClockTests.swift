import XCTest

@testable import Proxy

/// The coarse stamp of body chunks must share `now()`'s clock: transfer deadlines mix the two.
final class CurlEasyTransferClockTests: XCTestCase {
    func testCoarseNowIsTheSameClockWithinATick() {
        for _ in 0..<100 {
            let coarse = CurlEasyTransfer.coarseNow()
            let precise = CurlEasyTransfer.now()
            XCTAssertLessThanOrEqual(coarse, precise &+ 1_000_000)
            XCTAssertLessThan(precise &- coarse, 50_000_000, "more than 50 ms apart: not the same clock")
        }
    }
}
