import XCTest

@testable import WireFormats

final class JSONArrayTests: XCTestCase {
    func testElementRanges() throws {
        let bytes = Fixtures.bytes(#" [ 1 , "a,]" ,{"b":[2,3]}, [], null ] "#)
        let ranges = try JSONArray.elements(of: bytes[...])
        XCTAssertEqual(ranges.map { Fixtures.string(bytes[$0]) }, ["1", #""a,]""#, #"{"b":[2,3]}"#, "[]", "null"])
        XCTAssertEqual(try JSONArray.values(of: bytes[...]).map(\.kind), [.number, .string, .object, .array, .null])
        XCTAssertEqual(try JSONArray.elements(of: Fixtures.bytes("[]")[...]), [])
    }

    func testElementsOfANestedSliceUseDocumentIndices() throws {
        let doc = Fixtures.bytes(#"{"input":[{"type":"message"},{"type":"function_call"}]}"#)
        let input = try XCTUnwrap(JSONTopLevel.scan(doc).value(forKey: "input"))
        let ranges = try JSONArray.elements(of: input.bytes)
        XCTAssertEqual(ranges.count, 2)
        XCTAssertEqual(Fixtures.string(doc[ranges[1]]), #"{"type":"function_call"}"#)
        XCTAssertEqual(try input.elements()?.count, 2)
    }

    func testInvalidArrays() {
        let cases: [(String, JSONScanError.Reason)] = [
            ("{}", .notAnArray), ("[1,]", .unexpectedByte), ("[1", .unexpectedEnd), ("[1] 2", .trailingGarbage),
            ("", .emptyInput),
        ]
        for (json, reason) in cases {
            XCTAssertThrowsError(try JSONArray.elements(of: Fixtures.bytes(json)[...]), json) {
                XCTAssertEqual(($0 as? JSONScanError)?.reason, reason, json)
            }
        }
    }

    func testConcatenate() throws {
        let joined = try JSONArray.concatenate([
            Fixtures.bytes(#"[{"a":1}, 2]"#), Fixtures.bytes(" [ ] "), Fixtures.bytes("[\n3\n]"), Fixtures.bytes("[]"),
        ])
        XCTAssertEqual(Fixtures.string(joined), #"[{"a":1}, 2,3]"#)
        XCTAssertEqual(try JSONArray.elements(of: joined[...]).count, 3)
        XCTAssertEqual(Fixtures.string(try JSONArray.concatenate([[UInt8]]())), "[]")
        XCTAssertThrowsError(try JSONArray.concatenate([Fixtures.bytes("{}")]))
    }
}
