import XCTest

@testable import WireFormats

final class ResponseFailureStatusTests: XCTestCase {
    func testTableMatchesTheDocumentedMapping() {
        XCTAssertEqual(ResponseFailureStatus.status(forCode: "rate_limit_exceeded"), 429)
        XCTAssertEqual(ResponseFailureStatus.status(forCode: "usage_limit_reached"), 429, "a quota error, as over HTTP")
        XCTAssertEqual(ResponseFailureStatus.status(forCode: "context_length_exceeded"), 400)
        XCTAssertEqual(ResponseFailureStatus.status(forCode: "server_error"), 502)
        XCTAssertEqual(ResponseFailureStatus.status(forCode: "Rate_Limit_Exceeded"), 502, "codes are exact")
        XCTAssertEqual(ResponseFailureStatus.status(forCode: nil), 502)
        XCTAssertEqual(Set(ResponseFailureStatus.table.values), [400, 403, 429, 502, 503])
    }
}
