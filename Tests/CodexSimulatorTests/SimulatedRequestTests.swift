import HTTPServer
import XCTest

@testable import CodexSimulator

final class SimulatedRequestTests: XCTestCase {
    func testStringInput() throws {
        let r = try SimulatedRequest.parse(body: Requests.body(input: "Say hello"), headers: [:], path: "/v1/responses")
        XCTAssertEqual(r.model, "gpt-test")
        XCTAssertEqual(r.stream, true)
        XCTAssertEqual(r.store, false)
        XCTAssertEqual(r.promptCacheKey, "pck-1")
        XCTAssertEqual(r.inputItemCount, 1)
        XCTAssertEqual(r.lastUserText, "Say hello")
        XCTAssertNil(r.previousResponseId)
    }

    func testItemsAndCanonicalPrefixStability() throws {
        let a = [Requests.message("developer", "rules"), Requests.message("user", "one")]
        let b = a + [Requests.message("assistant", "reply"), Requests.message("user", "two")]
        let ra = try SimulatedRequest.parse(
            body: Requests.body(input: a, extra: ["instructions": "I"]),
            headers: [:],
            path: "/"
        )
        let rb = try SimulatedRequest.parse(
            body: Requests.body(input: b, extra: ["instructions": "I"]),
            headers: [:],
            path: "/"
        )
        XCTAssertEqual(rb.inputItemCount, 4)
        XCTAssertEqual(rb.lastUserText, "two")
        // The earlier request's canonical input is a prefix of the later one: what makes caching work.
        XCTAssertEqual(Array(rb.canonicalInput.prefix(ra.canonicalInput.count)), ra.canonicalInput)
    }

    /// The tools' digest does not depend on key order or spacing, and changes with any tool.
    func testToolsDigestIsOfTheToolsAsAValue() throws {
        func digest(_ tools: String) throws -> UInt64 {
            let body = #"{"model":"m","input":"x","tools":\#(tools)}"#
            return try SimulatedRequest.parse(body: Array(body.utf8), headers: [:], path: "/").toolsDigest
        }
        let tool = #"[{"type":"function","name":"exec_command","parameters":{"type":"object"}}]"#
        let reordered = #"[ {"name":"exec_command", "parameters":{"type":"object"}, "type":"function"} ]"#
        let other = #"[{"type":"function","name":"apply_patch","parameters":{"type":"object"}}]"#
        XCTAssertEqual(try digest(tool), try digest(reordered))
        XCTAssertNotEqual(try digest(tool), try digest(other))
        XCTAssertNotEqual(try digest(tool), 0)
        XCTAssertEqual(try digest("[]"), 0, "an empty array is no tools")
        XCTAssertNotEqual(try digest(#"["not an object"]"#), 0, "an odd array is still digested")
        XCTAssertEqual(
            try SimulatedRequest.parse(body: Array(#"{"input":"x"}"#.utf8), headers: [:], path: "/").toolsDigest,
            0
        )
    }

    func testRejectsBadBodies() {
        XCTAssertThrowsError(try SimulatedRequest.parse(body: Array("{nope".utf8), headers: [:], path: "/")) {
            XCTAssertEqual(($0 as? SimulatorRequestError)?.reason, "invalid_json")
        }
        XCTAssertThrowsError(try SimulatedRequest.parse(body: Array(#"{"input":5}"#.utf8), headers: [:], path: "/")) {
            XCTAssertEqual(($0 as? SimulatorRequestError)?.reason, "invalid_input")
        }
    }
}
