import XCTest

@testable import WireFormats

final class JSONObjectScanTests: XCTestCase {
    private let event = Fixtures.bytes(
        #"{"type":"response.completed","response":{"id":"resp_1","output":[{"usage":{"input_tokens":1}}],"usage":{"input_tokens":123,"input_tokens_details":{"cached_tokens":100}}}}"#
    )

    func testPaths() throws {
        XCTAssertEqual(try JSONObjectScan.int(forPath: ["response", "usage", "input_tokens"], in: event[...]), 123)
        XCTAssertEqual(
            try JSONObjectScan.int(
                forPath: ["response", "usage", "input_tokens_details", "cached_tokens"],
                in: event[...]
            ),
            100
        )
        XCTAssertEqual(try JSONObjectScan.string(forPath: ["response", "id"], in: event[...]), "resp_1")
        XCTAssertEqual(try JSONObjectScan.value(forPath: ["response", "output"], in: event)?.kind, .array)
        XCTAssertNil(try JSONObjectScan.value(forPath: ["response", "missing", "x"], in: event))
        XCTAssertNil(try JSONObjectScan.value(forPath: ["type", "x"], in: event), "strings have no members")
        XCTAssertNil(try JSONObjectScan.value(forPath: [], in: event))
    }

    func testMalformedLevelThrows() {
        XCTAssertThrowsError(try JSONObjectScan.value(forPath: ["a", "b"], in: Fixtures.bytes(#"{"a":{"b":1,}}"#)))
    }
}
