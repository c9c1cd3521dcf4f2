import HTTPServer
import XCTest

@testable import Proxy

final class ContinuityKeyTests: XCTestCase {
    let pseudonym: (String) -> String = { "sess_" + String($0.utf8.count) }

    func testPrecedence() {
        let headers: HTTPHeaders = ["session-id": "s-1", "thread-id": "t-1"]
        XCTAssertEqual(
            ContinuityKey.resolve(
                bodyPromptCacheKey: "pck",
                headers: headers,
                principal: "ci",
                model: "m",
                pseudonym: pseudonym
            ),
            ContinuityKey(value: "pck", source: .body)
        )
        XCTAssertEqual(
            ContinuityKey.resolve(
                bodyPromptCacheKey: nil,
                headers: headers,
                principal: "ci",
                model: "m",
                pseudonym: pseudonym
            ),
            ContinuityKey(value: "s-1", source: .header)
        )
        XCTAssertEqual(
            ContinuityKey.resolve(
                bodyPromptCacheKey: "",
                headers: ["thread-id": "t-1"],
                principal: nil,
                model: nil,
                pseudonym: pseudonym
            ),
            ContinuityKey(value: "t-1", source: .header)
        )
        XCTAssertEqual(
            ContinuityKey.resolve(
                bodyPromptCacheKey: nil,
                headers: ["session_id": "legacy"],
                principal: nil,
                model: nil,
                pseudonym: pseudonym
            )?.value,
            "legacy"
        )
    }

    func testPrincipalKeyIsAPseudonymNeverTheRawPrincipal() {
        let k = ContinuityKey.resolve(
            bodyPromptCacheKey: nil,
            headers: HTTPHeaders(),
            principal: "team-key",
            model: "gpt",
            pseudonym: pseudonym
        )
        XCTAssertEqual(k?.source, .principal)
        XCTAssertFalse(k!.value.contains("team-key"))
        XCTAssertNil(
            ContinuityKey.resolve(
                bodyPromptCacheKey: nil,
                headers: HTTPHeaders(),
                principal: "anonymous",
                model: nil,
                pseudonym: pseudonym
            )
        )
    }
}
