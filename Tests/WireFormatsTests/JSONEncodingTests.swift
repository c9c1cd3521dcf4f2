import Foundation
import XCTest

@testable import WireFormats

final class JSONEncodingTests: XCTestCase {
    func testStringEscaping() throws {
        let cases: [(String, String)] = [
            ("plain", #""plain""#),
            ("q\"b\\", #""q\"b\\""#),
            ("\n\r\t\u{8}\u{C}", #""\n\r\t\b\f""#),
            ("\u{0}\u{1F}", #""\u0000\u001f""#),
            ("é😀/", "\"é😀/\""),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(Fixtures.string(JSONEncoding.string(input)), expected)
            // And it round-trips through our own decoder.
            let top = try JSONTopLevel.scan(Fixtures.bytes("{\"k\":") + JSONEncoding.string(input) + [0x7D])
            XCTAssertEqual(top.string(forKey: "k"), input)
        }
    }

    func testScalarsAndContainers() throws {
        XCTAssertEqual(Fixtures.string(JSONEncoding.int(-42)), "-42")
        XCTAssertEqual(Fixtures.string(JSONEncoding.double(1.5)), "1.5")
        XCTAssertEqual(Fixtures.string(JSONEncoding.double(3)), "3")
        XCTAssertEqual(Fixtures.string(JSONEncoding.double(.nan)), "null")
        XCTAssertEqual(Fixtures.string(JSONEncoding.bool(false)), "false")
        XCTAssertEqual(Fixtures.string(JSONEncoding.optionalString(nil)), "null")
        let object = JSONEncoding.object([
            ("a", JSONEncoding.int(1)), ("b\"", JSONEncoding.array([JSONEncoding.null, JSONEncoding.string("x")])),
        ])
        XCTAssertEqual(Fixtures.string(object), #"{"a":1,"b\"":[null,"x"]}"#)
        XCTAssertEqual(Fixtures.string(JSONEncoding.array([])), "[]")
        XCTAssertEqual(Fixtures.string(JSONEncoding.object([])), "{}")
        XCTAssertNoThrow(try Fixtures.parse(object))
    }
}
