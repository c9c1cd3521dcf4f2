import XCTest

@testable import Proxy

final class UpstreamSilenceTests: XCTestCase {
    func testTheLimitInForceAndItsReason() {
        let d = UpstreamSilence.deadline
        XCTAssertEqual(d(100, nil, 2, 30), 102, "before the first frame: the first-frame limit from the send")
        XCTAssertEqual(d(100, 101, 2, 30), 131, "after it: the idle limit from the last frame")
        XCTAssertEqual(d(100, nil, 0, 30), .infinity, "0 is off")
        XCTAssertEqual(d(100, 101, 2, 0), .infinity)
        XCTAssertEqual(UpstreamSilence.reason(lastFrameAt: nil), "first_byte_timeout")
        XCTAssertEqual(UpstreamSilence.reason(lastFrameAt: 1), "idle_timeout")
    }
}
