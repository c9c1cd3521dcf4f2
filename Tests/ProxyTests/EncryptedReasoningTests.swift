import XCTest

@testable import Proxy

/// Only reasoning items that carry `encrypted_content` go; every message, call, output and compaction stays.
final class EncryptedReasoningTests: XCTestCase {
    func testStripsSealedReasoningAndNothingElse() throws {
        let body = Array(
            #"{"model":"m","include":["reasoning.encrypted_content"],"input":[{"type":"message","role":"user","content":"hi"},{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"gAAAA-FAKE"},{"type":"function_call","call_id":"c1","name":"exec","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":"ok"},{"type":"reasoning","id":"rs_2","summary":[],"encrypted_content":null},{"type":"compaction","encrypted_content":"gAAAA-FAKE-2"}],"stream":true}"#
                .utf8
        )
        let stripped = try XCTUnwrap(EncryptedReasoning.stripped(body: body))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(stripped)) as? [String: Any])
        let input = try XCTUnwrap(object["input"] as? [[String: Any]])
        XCTAssertEqual(
            input.map { $0["type"] as? String },
            ["message", "function_call", "function_call_output", "reasoning", "compaction"]
        )
        XCTAssertEqual(input[3]["id"] as? String, "rs_2", "a reasoning item with nothing sealed stays")
        XCTAssertEqual(object["include"] as? [String], ["reasoning.encrypted_content"], "the rest of the body is kept")
        XCTAssertEqual(object["stream"] as? Bool, true)
    }

    func testNothingToStrip() {
        for body in [
            #"{"input":[{"type":"message","role":"user","content":"hi"}]}"#, #"{"input":"hi"}"#, #"{"model":"m"}"#,
            "not json",
        ] {
            XCTAssertNil(EncryptedReasoning.stripped(body: Array(body.utf8)), body)
        }
    }
}
