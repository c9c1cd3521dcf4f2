import Foundation
import XCTest

@testable import WireFormats

final class JSONTopLevelRewritingTests: XCTestCase {
    private func rewrite(
        _ json: String,
        set: [(key: String, rawJSON: [UInt8])] = [],
        remove: [String] = []
    ) throws
        -> String
    {
        Fixtures.string(try JSONTopLevel.scan(Fixtures.bytes(json)).rewriting(set: set, remove: remove))
    }

    func testTable() throws {
        let t = JSONEncoding.bool(true)
        let cases: [(input: String, set: [(key: String, rawJSON: [UInt8])], remove: [String], expected: String)] = [
            (#"{"a":1,"b":2}"#, [("a", t)], [], #"{"a":true,"b":2}"#),
            (#"{ "a" : 1 , "b":2 }"#, [("a", t)], [], #"{ "a" : true , "b":2 }"#),
            (#"{"a":1,"b":2}"#, [("c", t)], [], #"{"a":1,"b":2,"c":true}"#),
            (#"{"a":1,"b":2}"#, [], ["a"], #"{"b":2}"#),
            (#"{"a":1,"b":2}"#, [], ["b"], #"{"a":1}"#),
            (#"{"a":1,"b":2,"c":3}"#, [], ["b"], #"{"a":1,"c":3}"#),
            (#"{"a":1,"b":2}"#, [], ["a", "b"], #"{}"#),
            (#"{ "a":1 }"#, [], ["a"], #"{  }"#),
            (#"{}"#, [("x", t)], [], #"{"x":true}"#),
            (#" { } "#, [("x", t)], [], #" {"x":true } "#),
            (#"{"a":1}"#, [("a", t)], ["a"], #"{"a":true}"#),
            (#"{"a":1,"b":2}"#, [("b", t)], ["a"], #"{"b":true}"#),
            (#"{"a":1,"b":2}"#, [("z", t)], ["a", "b"], #"{"z":true}"#),
            (#"{"a":1,"a":2}"#, [("a", t)], [], #"{"a":true,"a":true}"#),
            (#"{"a":1,"x":0,"a":2}"#, [], ["a"], #"{"x":0}"#),
            (#"{"a":1}"#, [("a", t), ("a", JSONEncoding.int(5))], [], #"{"a":5}"#),
            (#"{"a":1}"#, [("n", JSONEncoding.int(5)), ("m", JSONEncoding.null)], [], #"{"a":1,"n":5,"m":null}"#),
            (#"{"s\u0074ore":true}"#, [("store", JSONEncoding.bool(false))], [], #"{"s\u0074ore":false}"#),
            (#"{"a":"}{\",","b":[{"c":"]"}]}"#, [], ["a"], #"{"b":[{"c":"]"}]}"#),
        ]
        for c in cases {
            XCTAssertEqual(try rewrite(c.input, set: c.set, remove: c.remove), c.expected, c.input)
        }
    }

    func testLocatedValueIsWhereARescanFindsIt() throws {
        let t = JSONEncoding.bool(true)
        let documents = [
            #"{"a":1,"input":[{"x":"]"}],"b":2}"#, #"{ "input" : [ ] , "a":"}{" }"#, #"{"input":[1],"input":[2,3]}"#,
            #"{"a":1}"#, #"{}"#, #"{"b":{"input":[9]},"input":"text"}"#,
        ]
        let edits: [(set: [(key: String, rawJSON: [UInt8])], remove: [String])] = [
            ([], []), ([("a", JSONEncoding.int(12345))], []), ([("b", t), ("zz", t)], ["a"]),
            ([("input", Fixtures.bytes("[4,5,6]"))], []), ([], ["input"]), ([("a", t)], ["b", "input"]),
        ]
        for document in documents {
            for edit in edits {
                let top = try JSONTopLevel.scan(Fixtures.bytes(document))
                let result = top.rewriting(set: edit.set, remove: edit.remove, locating: "input")
                XCTAssertEqual(result.bytes, top.rewriting(set: edit.set, remove: edit.remove), document)
                let rescanned = try JSONTopLevel.scan(result.bytes).field(forKey: "input")?.valueRange
                XCTAssertEqual(result.located, rescanned, "\(document) \(edit.set.map(\.key)) -\(edit.remove)")
            }
        }
    }

    func testRewritesInsideASliceKeepOnlyTheSlice() throws {
        let doc = Fixtures.bytes(#"{"response":{"id":"r","output":[]},"x":1}"#)
        let response = try XCTUnwrap(JSONTopLevel.scan(doc).value(forKey: "response"))
        let object = try XCTUnwrap(response.object())
        let out = object.rewriting(set: [("output", Fixtures.bytes("[1]"))])
        XCTAssertEqual(Fixtures.string(out), #"{"id":"r","output":[1]}"#)
    }

    /// Everything but the touched members must survive byte for byte, and the result must parse to the expected
    /// document.
    func testLargeBodyRoundTripPreservesUntouchedBytes() throws {
        let body = Fixtures.codexBody(targetBytes: 1 << 20)
        let top = try JSONTopLevel.scan(body)
        let out = top.rewriting(
            set: [
                ("store", JSONEncoding.bool(false)),
                ("prompt_cache_key", JSONEncoding.string("pck-\"rewritten\"")),
                ("stream", JSONEncoding.bool(true)),
                ("service_tier", JSONEncoding.string("flex")),
            ],
            remove: ["client_metadata", "max_output_tokens", "instructions"]
        )

        var expected = try XCTUnwrap(try Fixtures.parse(body) as? [String: Any])
        expected["prompt_cache_key"] = "pck-\"rewritten\""
        expected["service_tier"] = "flex"
        expected["client_metadata"] = nil
        expected["instructions"] = nil
        XCTAssertTrue(try Fixtures.parse(out).isEqual(to: expected))

        // The `input` array (the bulk of the body) is copied verbatim.
        let rescanned = try JSONTopLevel.scan(out)
        XCTAssertEqual(
            rescanned.rawValue(forKey: "input").map(Array.init),
            top.rawValue(forKey: "input").map(Array.init)
        )
        XCTAssertEqual(rescanned.fields.map(\.key).suffix(1), ["service_tier"])
        XCTAssertEqual(rescanned.fields.first?.key, "model")
    }

    func testUntouchedDocumentIsIdentical() throws {
        let body = Fixtures.bytes(" {\n  \"a\" : [1, {\"b\": \"c\"}],\n  \"d\":\"\\u00e9\"\n}\n")
        XCTAssertEqual(try JSONTopLevel.scan(body).rewriting(set: [], remove: ["nope"]), body)
    }
}
