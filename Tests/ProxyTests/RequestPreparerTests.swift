import WireFormats
import XCTest

@testable import Proxy

/// Which fields the preparer would set without changing a byte, so a Codex body (which already says `stream:true`,
/// `store:false` and its own `prompt_cache_key`) goes on without a copy of its history.
final class RequestPreparerTests: XCTestCase {
    func testAFieldThatAlreadyHoldsTheValueIsNotRewritten() throws {
        let cases: [(body: String, key: String, value: String, holds: Bool)] = [
            (#"{"stream":true,"input":[]}"#, "stream", "true", true),
            (#"{"stream" :  true ,"input":[]}"#, "stream", "true", true),
            (#"{"stream":false,"input":[]}"#, "stream", "true", false),
            (#"{"input":[]}"#, "stream", "true", false),
            (#"{"store":false,"store":false}"#, "store", "false", true),
            (#"{"store":false,"store":true}"#, "store", "false", false),
            (#"{"store":true,"store":false}"#, "store", "false", false),
            (#"{"prompt_cache_key":"conv-1"}"#, "prompt_cache_key", #""conv-1""#, true),
            (#"{"prompt_cache_key":"conv-1"}"#, "prompt_cache_key", #""conv-2""#, false),
            (#"{"prompt_cache_key":"conv\u002d1"}"#, "prompt_cache_key", #""conv-1""#, false),
            (#"{"nested":{"stream":true}}"#, "stream", "true", false),
        ]
        for c in cases {
            let top = try JSONTopLevel.scan(Array(c.body.utf8))
            XCTAssertEqual(RequestPreparer.holdsAlready(top, c.key, Array(c.value.utf8)), c.holds, c.body)
        }
    }
}
