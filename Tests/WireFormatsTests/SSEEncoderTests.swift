import XCTest

@testable import WireFormats

final class SSEEncoderTests: XCTestCase {
    func testGoldenBytes() {
        XCTAssertEqual(
            Fixtures.string(SSEEncoder.event(type: "response.failed", json: Fixtures.bytes(#"{"a":1}"#))),
            "event: response.failed\ndata: {\"a\":1}\n\n"
        )
        XCTAssertEqual(Fixtures.string(SSEEncoder.data(json: Fixtures.bytes("{}"))), "data: {}\n\n")
        XCTAssertEqual(Fixtures.string(SSEEncoder.keepalive), ": keepalive\n\n")
        XCTAssertEqual(Fixtures.string(SSEEncoder.comment("ping\nx")), ": pingx\n\n")
    }

    func testMultiLinePayloadRoundTrips() throws {
        let payload = Fixtures.bytes("{\n  \"a\": 1\r\n}")
        let encoded = SSEEncoder.event(type: "t", json: payload)
        XCTAssertEqual(Fixtures.string(encoded), "event: t\ndata: {\ndata:   \"a\": 1\ndata: }\n\n")
        var parser = SSEParser()
        XCTAssertEqual(try parser.feed(encoded), [SSEEvent(event: "t", data: Fixtures.bytes("{\n  \"a\": 1\n}"))])
    }
}
