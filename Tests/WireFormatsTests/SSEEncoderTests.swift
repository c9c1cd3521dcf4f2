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

    func testAppendedEventsEqualSingleEventsAndParseInOrder() throws {
        let payloads = ["{}", #"{"a":"b"}"#, "{\n\"a\": 1\r\n}", "", "line\rbreak"].map(Fixtures.bytes)
        var burst: [UInt8] = []
        var expected: [UInt8] = []
        for (i, payload) in payloads.enumerated() {
            SSEEncoder.appendEvent(type: "t\(i)", json: payload, to: &burst)
            expected += SSEEncoder.event(type: "t\(i)", json: payload)
        }
        XCTAssertEqual(burst, expected)
        var parser = SSEParser()
        let events = try parser.feed(burst)
        XCTAssertEqual(events.map(\.event), ["t0", "t1", "t2", "t3", "t4"])
        XCTAssertEqual(events[1].data, Fixtures.bytes(#"{"a":"b"}"#))
        XCTAssertEqual(events[4].data, Fixtures.bytes("line\nbreak"))
    }

    func testMultiLinePayloadRoundTrips() throws {
        let payload = Fixtures.bytes("{\n  \"a\": 1\r\n}")
        let encoded = SSEEncoder.event(type: "t", json: payload)
        XCTAssertEqual(Fixtures.string(encoded), "event: t\ndata: {\ndata:   \"a\": 1\ndata: }\n\n")
        var parser = SSEParser()
        XCTAssertEqual(try parser.feed(encoded), [SSEEvent(event: "t", data: Fixtures.bytes("{\n  \"a\": 1\n}"))])
    }
}
