import XCTest

@testable import Proxy

/// What an account can read is remembered only for conversations it refused sealed content in.
final class SealedContentMemoryTests: XCTestCase {
    func blob(_ text: String) -> ArraySlice<UInt8> { Array(text.utf8)[...] }

    func testOnlyRefusedConversationsAreRemembered() {
        let memory = SealedContentMemory()
        XCTAssertFalse(memory.isUsed)
        memory.produced(session: "sess_a", account: 1, blobs: [blob("gAAAA-FAKE-1")])
        XCTAssertNil(memory.readable(session: "sess_a", account: 1), "nothing refused yet: nothing kept")
        memory.refused(session: "sess_a", account: 1)
        XCTAssertTrue(memory.isUsed)
        XCTAssertEqual(memory.readable(session: "sess_a", account: 1), [])
        memory.produced(session: "sess_a", account: 1, blobs: [blob("gAAAA-FAKE-2")])
        XCTAssertEqual(
            memory.readable(session: "sess_a", account: 1),
            [SealedContentMemory.digest(blob("gAAAA-FAKE-2"))]
        )
        XCTAssertNil(memory.readable(session: "sess_a", account: 2), "per account")
        XCTAssertNil(memory.readable(session: "sess_b", account: 1), "per conversation")
        memory.produced(session: "sess_b", account: 1, blobs: [blob("gAAAA-FAKE-3")])
        XCTAssertNil(memory.readable(session: "sess_b", account: 1))
    }

    func testDigestsAreBounded() {
        let memory = SealedContentMemory()
        memory.refused(session: "sess_a", account: 0)
        let blobs = (0..<(SealedContentMemory.maximumDigests + 10)).map { blob("gAAAA-FAKE-\($0)") }
        memory.produced(session: "sess_a", account: 0, blobs: blobs)
        let readable = memory.readable(session: "sess_a", account: 0) ?? []
        XCTAssertEqual(readable.count, SealedContentMemory.maximumDigests)
        XCTAssertFalse(readable.contains(SealedContentMemory.digest(blobs[0])), "the oldest go first")
        XCTAssertTrue(readable.contains(SealedContentMemory.digest(blobs.last!)))
    }

    /// Ahead of a refusal, only reasoning the account did not produce goes; the rest of the input stays.
    func testStripKeepsWhatTheAccountCanRead() throws {
        let body = Array(
            #"{"input":[{"type":"reasoning","encrypted_content":"gAAAA-FAKE-old"},{"type":"message","role":"user","content":"hi"},{"type":"reasoning","encrypted_content":"gAAAA-FAKE-own"},{"type":"compaction","encrypted_content":"gAAAA-FAKE-c"}]}"#
                .utf8
        )
        let own = SealedContentMemory.digest(blob("gAAAA-FAKE-own"))
        let stripped = try XCTUnwrap(EncryptedReasoning.stripped(body: body, keepingReadable: [own]))
        XCTAssertEqual(
            String(decoding: stripped, as: UTF8.self),
            #"{"input":[{"type":"message","role":"user","content":"hi"},{"type":"reasoning","encrypted_content":"gAAAA-FAKE-own"},{"type":"compaction","encrypted_content":"gAAAA-FAKE-c"}]}"#
        )
        XCTAssertNil(
            EncryptedReasoning.stripped(body: stripped, keepingReadable: [own]),
            "nothing foreign left"
        )
    }
}
