import WireFormats
import XCTest

@testable import Proxy

/// Only reasoning items that carry `encrypted_content` go; every message, call, output and compaction stays.
final class EncryptedReasoningTests: XCTestCase {
    func testStripsSealedReasoningAndNothingElse() throws {
        let body = Array(
            #"{"model":"m","include":["reasoning.encrypted_content"],"input":[{"type":"message","role":"user","content":"hi"},{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"gAAAA-FAKE"},{"type":"function_call","call_id":"c1","name":"exec","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":"ok"},{"type":"reasoning","id":"rs_2","summary":[],"encrypted_content":null},{"type":"compaction","encrypted_content":"gAAAA-FAKE-2"}],"stream":true}"#
                .utf8
        )
        XCTAssertEqual(EncryptedReasoning.kinds(in: body), [.reasoning, .compaction])
        let stripped = try XCTUnwrap(EncryptedReasoning.stripped(body: body, kinds: [.reasoning]))
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

    /// Reasoning goes first; the compaction items (the summary of earlier work) only once reasoning is gone.
    func testTheSecondStepTakesTheCompactionItems() throws {
        XCTAssertEqual(
            EncryptedReasoning.nextStep(present: [.reasoning, .compaction], reasoningStripped: false),
            [.reasoning]
        )
        XCTAssertEqual(
            EncryptedReasoning.nextStep(present: [.compaction], reasoningStripped: true),
            [.reasoning, .compaction]
        )
        XCTAssertEqual(
            EncryptedReasoning.nextStep(present: [.compaction], reasoningStripped: false),
            [.reasoning, .compaction],
            "nothing to strip first: straight to the compaction items"
        )
        let body = Array(
            #"{"input":[{"type":"message","role":"user","content":"hi"},{"type":"compaction","encrypted_content":"gAAAA-FAKE"}]}"#
                .utf8
        )
        XCTAssertNil(EncryptedReasoning.stripped(body: body, kinds: [.reasoning]))
        let stripped = try XCTUnwrap(EncryptedReasoning.stripped(body: body, kinds: [.reasoning, .compaction]))
        XCTAssertEqual(
            String(decoding: stripped, as: UTF8.self),
            #"{"input":[{"type":"message","role":"user","content":"hi"}]}"#
        )
        XCTAssertEqual(EncryptedReasoning.reason([.reasoning]), "invalid_encrypted_content")
        XCTAssertEqual(EncryptedReasoning.reason([.reasoning, .compaction]), "invalid_encrypted_content_compaction")
    }

    /// Only a reasoning item without content is one the upstream must look up by id.
    func testReferenceOnlyItems() throws {
        let cases: [(String, Bool)] = [
            (#"{"type":"reasoning","id":"rs_1","summary":[]}"#, true),
            (#"{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"t"}]}"#, true),
            (#"{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":null}"#, true),
            (#"{"type":"reasoning","summary":[]}"#, true),
            (#"{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"gAAAA-FAKE"}"#, false),
            (#"{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":""}"#, false),
            (#"{"type":"compaction","encrypted_content":null}"#, false),
            (#"{"type":"message","id":"msg_1","role":"assistant","content":"hi"}"#, false),
            (#"{"type":"function_call_output","call_id":"c1","output":"ok"}"#, false),
            (#"{"role":"user","content":"hi"}"#, false),
        ]
        for (item, expected) in cases {
            let object = try JSONTopLevel.scan(Array(item.utf8))
            XCTAssertEqual(EncryptedReasoning.isReferenceOnly(object), expected, item)
        }
    }

    func testNothingToStrip() {
        for body in [
            #"{"input":[{"type":"message","role":"user","content":"hi"}]}"#, #"{"input":"hi"}"#, #"{"model":"m"}"#,
            "not json",
        ] {
            XCTAssertNil(EncryptedReasoning.stripped(body: Array(body.utf8), kinds: [.reasoning, .compaction]), body)
        }
    }

    /// A request to a ChatGPT account goes without the reasoning items that carry no content, wherever they stand, and
    /// with everything else as it came.
    func testReferenceOnlyReasoningIsLeftOut() throws {
        let body = Array(
            #"{"model":"m","input":[{"role":"user","content":"hi"},{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"t"}]},{"type":"message","id":"msg_1","role":"assistant","content":[{"type":"output_text","text":"hello"}]},{"type":"reasoning","id":"rs_2","summary":[],"encrypted_content":"gAAAA-FAKE"},{"type":"reasoning","id":"rs_3","summary":[],"encrypted_content":null},{"role":"user","content":"again"}],"store":false}"#
                .utf8
        )
        let stripped = try XCTUnwrap(EncryptedReasoning.withoutReferenceOnly(body: body))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(stripped)) as? [String: Any])
        let input = try XCTUnwrap(object["input"] as? [[String: Any]])
        XCTAssertEqual(input.map { $0["id"] as? String }, [nil, "msg_1", "rs_2", nil], "only rs_1 and rs_3 go")
        XCTAssertEqual(object["store"] as? Bool, false, "the rest of the body is kept")
        XCTAssertEqual(object["model"] as? String, "m")
    }

    func testNothingReferenceOnlyToLeaveOut() {
        for body in [
            // Codex: every reasoning and compaction item carries its content.
            #"{"input":[{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"gAAAA-FAKE"},{"type":"compaction","encrypted_content":"gAAAA-FAKE-2"}],"reasoning":{"effort":"high"},"include":["reasoning.encrypted_content"]}"#,
            // Counted as an item but carrying nothing to leave out: the parse decides.
            #"{"input":[{"role":"user","content":"why \"reasoning"}],"tools":[{"type":"function","name":"f","parameters":{"enum":["reasoning"]}}]}"#,
            #"{"input":"hi"}"#, #"{"model":"m"}"#,
        ] {
            XCTAssertNil(EncryptedReasoning.withoutReferenceOnly(body: Array(body.utf8)), body)
        }
    }
}
