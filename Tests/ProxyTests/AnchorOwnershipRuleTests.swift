import XCTest

@testable import Proxy

final class AnchorOwnershipRuleTests: XCTestCase {
    func testOnlyAnotherNamedPrincipalIsForeign() {
        let cases: [(owner: String?, requester: String?, foreign: Bool)] = [
            ("prn_FAKEa", "prn_FAKEb", true),
            ("prn_FAKEa", "prn_FAKEa", false),
            (nil, "prn_FAKEb", false),  // produced anonymously, or the owner is no longer remembered: fail open
            ("prn_FAKEa", nil, false),  // no client keys configured now: every request is anonymous
            (nil, nil, false),
        ]
        for c in cases {
            XCTAssertEqual(AnchorOwnership.isForeign(owner: c.owner, requester: c.requester), c.foreign, "\(c)")
        }
    }

    func testTheAnswerIsTheAPIsNotFoundError() {
        let body = String(decoding: ProxyErrorResponse.previousResponseNotFound.body, as: UTF8.self)
        XCTAssertEqual(
            body,
            #"{"error":{"message":"Previous response not found.","type":"invalid_request_error","#
                + #""param":"previous_response_id","code":"previous_response_not_found"}}"#
        )
        XCTAssertEqual(ProxyErrorResponse.previousResponseNotFound.status, 400)
        XCTAssertTrue(
            String(decoding: ProxyErrorResponse.streamIncomplete.body, as: UTF8.self).contains(#""param":null"#)
        )
    }
}
