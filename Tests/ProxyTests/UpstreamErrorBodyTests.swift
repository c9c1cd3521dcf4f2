import XCTest

@testable import Proxy

final class UpstreamErrorBodyTests: XCTestCase {
    private func body(_ error: String) -> UpstreamErrorBody {
        UpstreamErrorBody(bytes: Array(#"{"error":\#(error)}"#.utf8))
    }

    func testReadsCodeTypeAndResets() {
        let b = body(
            #"{"type":"usage_limit_reached","code":"usage_limit_reached","resets_at":1800000600,"resets_in_seconds":600}"#
        )
        XCTAssertEqual(b.type, "usage_limit_reached")
        XCTAssertEqual(b.code, "usage_limit_reached")
        XCTAssertEqual(b.resetsAt, 1_800_000_600)
        XCTAssertEqual(b.resetsInSeconds, 600)
        XCTAssertEqual(UpstreamErrorBody(bytes: Array(#"{"error":"invalid_grant"}"#.utf8)).code, "invalid_grant")
        XCTAssertEqual(UpstreamErrorBody(bytes: Array("not json".utf8)), UpstreamErrorBody(bytes: []))
    }

    /// JSON allows `1e400`, which reads as infinity; a cooldown until then trapped converting it to seconds.
    func testAResetThatIsNotAFiniteTimeIsAbsent() {
        let b = body(#"{"type":"usage_limit_reached","resets_at":1e400,"resets_in_seconds":-1e400}"#)
        XCTAssertEqual(b.type, "usage_limit_reached")
        XCTAssertNil(b.resetsAt)
        XCTAssertNil(b.resetsInSeconds)
        XCTAssertNil(body(#"{"resets_in_seconds":-5}"#).resetsInSeconds, "a reset in the past is no reset")
        XCTAssertEqual(body(#"{"resets_at":1e20}"#).resetsAt, 1e20, "finite: the pool bounds it")
    }
}
