import Foundation
import XCTest

@testable import WireFormats

final class JSONTopLevelTests: XCTestCase {
    func testFindsKeysKindsAndRanges() throws {
        let body = Fixtures.bytes(#" {"a":"x", "b" : 12 ,"c":true,"d":null,"e":{"f":[1,2]},"g":[{}],"h":-1.5e3} "#)
        let top = try JSONTopLevel.scan(body)
        XCTAssertEqual(top.fields.map(\.key), ["a", "b", "c", "d", "e", "g", "h"])
        XCTAssertEqual(top.fields.map(\.kind), [.string, .number, .bool, .null, .object, .array, .number])
        XCTAssertEqual(Fixtures.string(top.rawValue(forKey: "b")!), "12")
        XCTAssertEqual(Fixtures.string(top.rawValue(forKey: "e")!), #"{"f":[1,2]}"#)
        XCTAssertEqual(top.string(forKey: "a"), "x")
        XCTAssertEqual(top.int(forKey: "b"), 12)
        XCTAssertEqual(top.bool(forKey: "c"), true)
        XCTAssertEqual(top.double(forKey: "h"), -1500)
        XCTAssertNil(top.int(forKey: "h"))
        XCTAssertNil(top.string(forKey: "b"), "no coercion")
        XCTAssertTrue(top.hasKey("d"))
        XCTAssertFalse(top.hasKey("z"))
        XCTAssertEqual(top.openBrace, 1)
        XCTAssertEqual(body[top.closeBrace], UInt8(ascii: "}"))
        XCTAssertEqual(try top.object(forKey: "e")?.kind(forKey: "f"), .array)
    }

    func testStringEscapes() throws {
        let cases: [(json: String, expected: String)] = [
            (#""plain""#, "plain"),
            (#""q\"uote""#, "q\"uote"),
            (#""back\\""#, "back\\"),
            (#""back\\\"q""#, "back\\\"q"),
            (#""\/\b\f\n\r\t""#, "/\u{8}\u{C}\n\r\t"),
            (#""\u00e9\u00E9""#, "éé"),
            (#""\ud83d\ude00""#, "😀"),
            (#""lone \ud83d x""#, "lone \u{FFFD} x"),
            (#""low \ude00""#, "low \u{FFFD}"),
            (#""{not} [an] object: \"{\"""#, "{not} [an] object: \"{\""),
            (#""""#, ""),
            (#""ünïcødé 日本""#, "ünïcødé 日本"),
        ]
        for (json, expected) in cases {
            let top = try JSONTopLevel.scan(Fixtures.bytes(#"{"k":\#(json),"after":1}"#))
            XCTAssertEqual(top.string(forKey: "k"), expected, json)
            XCTAssertEqual(top.int(forKey: "after"), 1, json)
        }
    }

    func testMalformedEscapesDecodeToNil() throws {
        for json in [#""\x""#, #""\u12""#, #""\u12G4""#] {
            let top = try JSONTopLevel.scan(Fixtures.bytes(#"{"k":\#(json)}"#))
            XCTAssertNil(top.string(forKey: "k"), json)
        }
    }

    func testEscapedKeysAreDecodedAndLastDuplicateWins() throws {
        let top = try JSONTopLevel.scan(Fixtures.bytes(#"{"store":false,"st\u006fre":true}"#))
        XCTAssertEqual(top.fields.map(\.key), ["store", "store"])
        XCTAssertEqual(top.bool(forKey: "store"), true)
    }

    func testIntegerEdges() throws {
        let top = try JSONTopLevel.scan(
            Fixtures.bytes(#"{"max":9223372036854775807,"min":-9223372036854775808,"over":9223372036854775808,"z":-0}"#)
        )
        XCTAssertEqual(top.int(forKey: "max"), Int.max)
        XCTAssertEqual(top.int(forKey: "min"), Int.min)
        XCTAssertNil(top.int(forKey: "over"))
        XCTAssertEqual(top.int(forKey: "z"), 0)
    }

    func testInvalidDocumentsAreRejectedWithStableReasons() {
        let cases: [(String, JSONScanError.Reason)] = [
            ("", .emptyInput),
            ("   ", .emptyInput),
            ("[1]", .notAnObject),
            (#""s""#, .notAnObject),
            ("{", .unexpectedEnd),
            (#"{"a":1"#, .unexpectedEnd),
            (#"{"a":[1,2}"#, .unexpectedByte),
            (#"{"a":{"b":1}"#, .unexpectedEnd),
            (#"{"a":1}}"#, .trailingGarbage),
            (#"{"a":1} x"#, .trailingGarbage),
            (#"{"a":1}{}"#, .trailingGarbage),
            (#"{"a":tru}"#, .invalidLiteral),
            (#"{"a":nul}"#, .invalidLiteral),
            (#"{"a":True}"#, .unexpectedByte),
            (#"{"a":01}"#, .unexpectedByte),
            (#"{"a":1.}"#, .invalidNumber),
            (#"{"a":-}"#, .invalidNumber),
            (#"{"a":1e}"#, .invalidNumber),
            (#"{"a":"x}"#, .unterminatedString),
            (#"{"a":"x\"}"#, .unterminatedString),
            (#"{"a" 1}"#, .unexpectedByte),
            (#"{a:1}"#, .unexpectedByte),
            (#"{"a":1,}"#, .unexpectedByte),
            (#"{"a":[1,]}"#, .unexpectedByte),
            (#"{"a":1 "b":2}"#, .unexpectedByte),
            (#"{"a":}"#, .unexpectedByte),
            (#"{"\x":1}"#, .invalidEscape),
            (#"{"a":[[[[1]]]]]}"#, .unexpectedByte),
        ]
        for (json, reason) in cases {
            XCTAssertThrowsError(try JSONTopLevel.scan(Fixtures.bytes(json)), json) { error in
                XCTAssertEqual((error as? JSONScanError)?.reason, reason, json)
            }
        }
    }

    func testDeepNestingIsBounded() {
        let deep = #"{"a":"# + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}"
        XCTAssertThrowsError(try JSONTopLevel.scan(Fixtures.bytes(deep))) { error in
            XCTAssertEqual((error as? JSONScanError)?.reason, .tooDeep)
        }
        let ok = #"{"a":"# + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}"
        XCTAssertNoThrow(try JSONTopLevel.scan(Fixtures.bytes(ok)))
    }

    func testErrorOffsetUsesSliceIndices() {
        let bytes = Fixtures.bytes(#"xxxx{"a":tru}"#)
        XCTAssertThrowsError(try JSONTopLevel.scan(object: bytes[4...])) { error in
            XCTAssertEqual(error as? JSONScanError, JSONScanError(.invalidLiteral, offset: 9))
        }
    }

    func testLargeCodexBodyMatchesJSONSerialization() throws {
        let body = Fixtures.codexBody(targetBytes: 1 << 20)
        let top = try JSONTopLevel.scan(body)
        let reference = try Fixtures.parse(body)
        XCTAssertEqual(Set(top.fields.map(\.key)), Set(reference.allKeys.compactMap { $0 as? String }))
        XCTAssertEqual(top.string(forKey: "instructions"), reference["instructions"] as? String)
        XCTAssertEqual(top.string(forKey: "model"), "gpt-5.5")
        XCTAssertEqual(top.bool(forKey: "stream"), true)
        let input = try XCTUnwrap(top.value(forKey: "input"))
        XCTAssertEqual(try JSONArray.elements(of: input.bytes).count, (reference["input"] as? [Any])?.count)
    }

    /// The count the request scan makes on the way: reasoning objects at any depth whose `encrypted_content` is
    /// absent or null, matched as spelled; asked for only, nil otherwise.
    func testCountsReasoningWithoutContentOnlyWhenAsked() throws {
        let cases: [(String, Int)] = [
            (#"{"input":[]}"#, 0),
            (#"{"input":[{"type":"reasoning","id":"rs_1","summary":[]}]}"#, 1),
            (#"{"input":[{"id":"rs_1","summary":[{"type":"summary_text","text":"x"}],"type":"reasoning"}]}"#, 1),
            (#"{"input":[{"type":"reasoning","id":"rs_1","encrypted_content":null}]}"#, 1),
            (#"{"input":[{"type":"reasoning","id":"rs_1","encrypted_content":"gAAAA-FAKE"}]}"#, 0),
            (#"{"input":[{"encrypted_content":"gAAAA-FAKE","type":"reasoning"},{"type":"reasoning"}]}"#, 1),
            (
                #"{"input":[{"type":"compaction","encrypted_content":"FAKE"},{"type":"message","content":"reasoning"}]}"#,
                0
            ),
            (#"{"input":[{"type":"message","content":[{"type":"reasoning"}]}]}"#, 1),
            (
                #"{"reasoning":{"effort":"medium"},"input":[{"type":"function_call_output","output":"\"type\":\"reasoning\""}]}"#,
                0
            ),
            (#"{"input":[{"typ\u0065":"reasoning"}]}"#, 0),
            (#"{"input":[{"type":"reasoning","encrypted_content":"x","encrypted_content":null}]}"#, 1),
            (#"{"input":[{"type":"reasoning","encrypted_content":null,"encrypted_content":"x"}]}"#, 0),
            (#"{"input":[{"type":"reasoning","type":{"k":1}}]}"#, 0),
            (#"{"input":[{"type" : "reasoning" , "encrypted_content" : "x"},{ "type" : "reasoning" }]}"#, 1),
        ]
        for (body, expected) in cases {
            let top = try JSONTopLevel.scan(Array(body.utf8), countingReasoningWithoutContent: true)
            XCTAssertEqual(top.reasoningWithoutContent, expected, body)
            XCTAssertNil(try JSONTopLevel.scan(Array(body.utf8)).reasoningWithoutContent, body)
        }
    }
}
