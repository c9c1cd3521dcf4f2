import WireFormats
import XCTest

@testable import Proxy

/// Codex's incremental rule as the bridge applies it to HTTP requests that resend the whole history.
final class BridgeContinuationTests: XCTestCase {
    let user1 = Array(#"{"role":"user","content":"one"}"#.utf8)
    let answer1 = Array(
        #"{"type":"message","id":"msg_1","role":"assistant","content":[{"type":"output_text","text":"a"}]}"#.utf8
    )
    let user2 = Array(#"{"role":"user","content":"two"}"#.utf8)
    let fingerprint: [String: [UInt8]] = ["model": Array(#""gpt-5.5""#.utf8)]

    var previous: BridgeContinuation.Turn {
        BridgeContinuation.Turn(fingerprint: fingerprint, input: [user1], output: [answer1], responseID: "resp_1")
    }

    func testContinuationSendsOnlyTheNewItems() {
        let delta = BridgeContinuation().delta(
            previous: previous,
            fingerprint: fingerprint,
            input: [user1, answer1, user2]
        )
        XCTAssertEqual(delta, [user2])
    }

    func testResentOutputMatchesByIDEvenWhenReserialised() {
        let resent = Array(
            #"{"id":"msg_1","type":"message","role":"assistant","status":"completed","content":[]}"#.utf8
        )
        let spaced = Array(#"{ "content": "one", "role": "user" }"#.utf8)
        XCTAssertEqual(
            BridgeContinuation().delta(previous: previous, fingerprint: fingerprint, input: [spaced, resent, user2]),
            [user2]
        )
    }

    func testChangedFieldsEditedHistoryOrNoNewItemsSendInFull() {
        let c = BridgeContinuation()
        XCTAssertNil(
            c.delta(
                previous: previous,
                fingerprint: ["model": Array(#""other""#.utf8)],
                input: [user1, answer1, user2]
            )
        )
        XCTAssertNil(c.delta(previous: previous, fingerprint: fingerprint, input: [user2, answer1, user2]))
        XCTAssertNil(c.delta(previous: previous, fingerprint: fingerprint, input: [user1, answer1]))
        XCTAssertNil(c.delta(previous: previous, fingerprint: fingerprint, input: [user1, user2, user2]))
    }

    func testFingerprintAndItemsComeFromTheBody() throws {
        let top = try JSONTopLevel.scan(
            Array(#"{"model":"gpt-5.5","input":[{"role":"user","content":"one"}],"stream":true}"#.utf8)
        )
        XCTAssertEqual(BridgeContinuation.fingerprint(top), fingerprint)
        XCTAssertEqual(BridgeContinuation.items(top)?.count, 1)
        XCTAssertNil(BridgeContinuation.items(try JSONTopLevel.scan(Array(#"{"input":"text"}"#.utf8))))
    }
}
