import Foundation
import XCTest

@testable import CodexSimulator

final class SimulatedFaultTests: XCTestCase {
    private func admin(_ json: String) throws -> SimulatedFault {
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        return try XCTUnwrap(SimulatedFault.fromAdmin(object), json)
    }

    /// A number outside `Int`'s range trapped (`String(Int(d))`) and took the test process with it; now every
    /// number keeps its text.
    func testAdminNumbersKeepTheirText() throws {
        let cases: [(String, String, String)] = [
            (#"{"fault":"usage_limit","resets_at":1e20}"#, "resets_at", "1e+20"),
            (#"{"fault":"usage_limit","resets_at":-1e20}"#, "resets_at", "-1e+20"),
            (#"{"fault":"usage_limit","resets_at":1700000000.5}"#, "resets_at", "1700000000.5"),
            (#"{"fault":"slow","ms":1e19}"#, "ms", "1e+19"),
            (#"{"fault":"slow","ms":2.5}"#, "ms", "2.5"),
            (#"{"fault":"stream_cut","after":3}"#, "after", "3"),
            (#"{"fault":"stream_cut","after":3.0}"#, "after", "3"),
            (#"{"fault":"response_failed","code":"odd"}"#, "code", "odd"),
        ]
        for (json, key, text) in cases {
            XCTAssertEqual(try admin(json).parameters[key], text, json)
        }
    }

    func testIntParameters() {
        let cases: [(String, Int?)] = [
            ("3", 3), ("-7", -7), ("2.5", 2), ("-2.5", -2), ("1e3", 1000), ("soon", nil), ("", nil),
            // Out of range saturates, so each caller's bound applies instead of its default.
            ("1e+19", .max), ("99999999999999999999", .max), ("1e400", .max), ("-99999999999999999999", .min),
        ]
        for (text, value) in cases {
            XCTAssertEqual(SimulatedFault(.slow, ["ms": text]).int("ms"), value, text)
        }
        XCTAssertNil(SimulatedFault(.slow).int("ms"))
    }
}
