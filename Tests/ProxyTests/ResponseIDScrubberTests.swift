import XCTest

@testable import Proxy

final class ResponseIDScrubberTests: XCTestCase {
    func testReplacesEveryResponseID() {
        let body = #"{"error":{"message":"Previous response with id 'resp_abc123-XY_z' not found.","param":"resp_9"}}"#
        let out = String(decoding: ResponseIDScrubber.scrub(Array(body.utf8)), as: UTF8.self)
        XCTAssertEqual(
            out,
            #"{"error":{"message":"Previous response with id 'resp_redacted' not found.","param":"resp_redacted"}}"#
        )
    }

    func testLeavesOtherBytesAlone() {
        let body = Array(#"{"a":"response","b":"resp_","c":"presp"}"#.utf8)
        XCTAssertEqual(ResponseIDScrubber.scrub(body), body)
    }
}
