import Foundation
import XCTest

/// The real OpenAI Python SDK (openai 3.54.0 from .venv) through the proxy to the simulator:
/// `responses.create(stream=True)`, the `responses.stream()` helper and a non-streaming call.
final class OpenAISDKTests: XCTestCase {
    func testStreamingHelperAndNonStreamingCallsSeeTextAndUsage() throws {
        let stack = try SightlineStack(label: "sdk")
        defer { stack.stop() }
        let out = try RealClients.sdkScript(stack, "openai_sdk_turns.py")

        let stream = try XCTUnwrap(out["stream"] as? [String: Any])
        let events = try XCTUnwrap(stream["events"] as? [String])
        XCTAssertEqual(events.first, "response.created")
        XCTAssertEqual(events.last, "response.completed")
        XCTAssertTrue((stream["text"] as? String ?? "").hasPrefix("Hello from the Codex simulator"), "\(stream)")
        let usage1 = try XCTUnwrap(stream["usage"] as? [String: Any])
        XCTAssertGreaterThan(usage1["input_tokens"] as? Int ?? 0, 0)

        let helper = try XCTUnwrap(out["helper"] as? [String: Any])
        XCTAssertTrue((helper["text"] as? String ?? "").contains("Say hello again"), "\(helper)")
        XCTAssertEqual(helper["id_prefix"] as? String, "resp_")

        let nonstream = try XCTUnwrap(out["nonstream"] as? [String: Any])
        XCTAssertEqual(nonstream["type"] as? String, "Response", "the SDK must get a Response object, not raw SSE text")
        XCTAssertEqual(nonstream["status"] as? String, "completed")
        XCTAssertTrue((nonstream["text"] as? String ?? "").contains("Say hello once more"), "\(nonstream)")
        let usage3 = try XCTUnwrap(nonstream["usage"] as? [String: Any])
        XCTAssertGreaterThan(usage3["output_tokens"] as? Int ?? 0, 0)
        XCTAssertNotNil((usage3["input_tokens_details"] as? [String: Any])?["cached_tokens"])
    }
}
