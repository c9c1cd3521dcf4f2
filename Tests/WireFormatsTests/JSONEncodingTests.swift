import Foundation
import SightlineTestSupport
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

    func testRandomStringsRoundTripThroughFoundation() throws {
        // Runs without escapes are appended whole; escapes may sit anywhere: first, last, adjacent, alone.
        let alphabet: [Character] = [
            "a", "Z", "0", " ", "\"", "\\", "\n", "\r", "\t", "\u{1}", "\u{1F}", "\u{7F}", "é", "😀", "/",
        ]
        var generator = SeededGenerator(seed: 5)
        for length in [0, 1, 2, 3, 17, 200] {
            for _ in 0..<50 {
                let input = String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
                var out: [UInt8] = [0x5B]
                JSONEncoding.appendString(input, to: &out)
                out.append(0x5D)
                let decoded = try JSONSerialization.jsonObject(with: Data(out)) as? [String]
                XCTAssertEqual(decoded, [input], Fixtures.string(out))
                XCTAssertFalse(out.contains { $0 < 0x20 }, "no raw control byte: \(Fixtures.string(out))")
            }
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
