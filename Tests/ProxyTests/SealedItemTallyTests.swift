import XCTest

@testable import Proxy

/// The byte count that spares a request the item-by-item parse: it may say "some item lacks its content" when none
/// does (the parse then finds nothing), never the reverse for what clients send.
final class SealedItemTallyTests: XCTestCase {
    func testCountsTypesAndStringContents() {
        let cases: [(body: String, items: Int, contents: Int, line: UInt)] = [
            (#"{"input":[{"type":"reasoning","id":"rs_1","summary":[]}]}"#, 1, 0, #line),
            (#"{"input":[{"type":"reasoning","summary":[],"encrypted_content":"gAAAA-FAKE"}]}"#, 1, 1, #line),
            (#"{"input":[{"type":"reasoning","summary":[],"encrypted_content":null}]}"#, 1, 0, #line),
            (#"{"input":[{"type":"compaction","encrypted_content":"gAAAA-FAKE"}]}"#, 1, 1, #line),
            // The Python SDK's separators: `", "` and `": "`.
            (#"{"input": [{"type": "reasoning", "id": "rs_1", "encrypted_content": "gAAAA-FAKE"}]}"#, 1, 1, #line),
            (#"{"input": [{"type" : "reasoning" , "encrypted_content" :"x"}]}"#, 1, 1, #line),
            // Keys are not items: the `reasoning` parameter, a `compaction` setting.
            (#"{"reasoning":{"effort":"high"},"compaction" : {},"input":[]}"#, 0, 0, #line),
            // Other strings: the include entry, a longer type, a name ending in the word, an escaped quote.
            (#"{"include":["reasoning.encrypted_content"],"input":[{"type":"reasoning_text"}]}"#, 0, 0, #line),
            (
                #"{"input":[{"role":"user","content":"say \"reasoning\" and \"encrypted_content\": \"x\""}]}"#, 0, 0,
                #line
            ),
            // An escaped quote opens no name, even where the string ends right after the word.
            (#"{"input":[{"role":"user","content":"say \"reasoning"}]}"#, 0, 0, #line),
            // The word as a value elsewhere counts as an item: this errs towards the parse, which finds nothing.
            (#"{"tools":[{"parameters":{"enum":["reasoning"]}}],"input":[]}"#, 1, 0, #line),
            (#"{"input":[{"type":"reasoning","encrypted_content":{"nested":"x"}}]}"#, 1, 0, #line),
            ("", 0, 0, #line), (#"""#, 0, 0, #line), (#""reasoning"#, 0, 0, #line), (#""reasoning""#, 1, 0, #line),
        ]
        for c in cases {
            let tally = SealedItemTally(Array(c.body.utf8))
            XCTAssertEqual([tally.items, tally.contents], [c.items, c.contents], c.body, line: c.line)
        }
    }

    func testSomeItemMayLackContent() {
        let withContent = #"{"type":"reasoning","encrypted_content":"a"}"#
        let withoutContent = #"{"type":"reasoning","id":"rs_1"}"#
        let compaction = #"{"type":"compaction","encrypted_content":"b"}"#
        let cases: [(items: [String], lacks: Bool, line: UInt)] = [
            ([], false, #line),
            ([withContent, withContent, compaction], false, #line),
            ([withContent, withoutContent], true, #line),
            // A compaction item's content does not make up for a reasoning item's missing one.
            ([withoutContent, compaction], true, #line),
            ([withoutContent], true, #line),
        ]
        for c in cases {
            let body = #"{"reasoning":{"effort":"high"},"input":["# + c.items.joined(separator: ",") + "]}"
            XCTAssertEqual(SealedItemTally(Array(body.utf8)).someItemMayLackContent, c.lacks, body, line: c.line)
        }
    }
}
