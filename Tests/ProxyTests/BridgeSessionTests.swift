import WireFormats
import XCTest

@testable import Proxy

/// How a bridged request's `x-codex-turn-state` header goes into its frame: merged into the body's
/// `client_metadata`, whose other members (Codex sends ids there) pass byte for byte.
final class BridgeSessionTests: XCTestCase {
    func testTheTurnStateIsMergedIntoClientMetadata() throws {
        let cases: [(body: String, expected: String)] = [
            (#"{"input":[]}"#, #"{"x-codex-turn-state":"ts_1"}"#),
            (#"{"client_metadata":{"session_id":"s"}}"#, #"{"session_id":"s","x-codex-turn-state":"ts_1"}"#),
            (#"{"client_metadata":{"x-codex-turn-state":"old","a":1}}"#, #"{"x-codex-turn-state":"ts_1","a":1}"#),
            (#"{"client_metadata":null}"#, #"{"x-codex-turn-state":"ts_1"}"#),
        ]
        for (body, expected) in cases {
            let top = try JSONTopLevel.scan(Array(body.utf8))
            let merged = BridgeSession.clientMetadata(top, turnState: "ts_1")
            XCTAssertEqual(String(decoding: merged, as: UTF8.self), expected, body)
        }
    }
}
