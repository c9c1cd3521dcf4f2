import SightlineTestSupport
import XCTest

@testable import LogRedaction

final class TraceContextTests: XCTestCase {
    private let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
    private let spanID = "00f067aa0ba902b7"

    func testValidHeaderParsesAndFormatsBack() throws {
        let header = "00-\(traceID)-\(spanID)-01"
        let context = try XCTUnwrap(TraceContext(traceparent: header, tracestate: "vendor=opaque,x=1"))
        XCTAssertEqual(context.traceID, traceID)
        XCTAssertEqual(context.spanID, spanID)
        XCTAssertEqual(context.flags, 1)
        XCTAssertTrue(context.isSampled)
        XCTAssertEqual(context.tracestate, "vendor=opaque,x=1")
        XCTAssertEqual(context.traceparent, header)
        XCTAssertEqual(TraceContext(traceparent: "  \(header)\t")?.traceparent, header)
    }

    func testInvalidHeadersAreRejected() {
        let invalid = [
            "00-\(traceID.uppercased())-\(spanID)-01",  // uppercase
            "00-\(traceID)-\(spanID.uppercased())-01",
            "00-\(traceID)-\(spanID)-0A",
            "ff-\(traceID)-\(spanID)-01",  // version ff
            "00-00000000000000000000000000000000-\(spanID)-01",  // zero trace id
            "00-\(traceID)-0000000000000000-01",  // zero parent id
            "00-\(traceID)-\(spanID)-01-extra",  // version 00 must be exactly 55 chars
            "00-\(traceID)-\(spanID)-1",
            "00-\(traceID)-\(spanID)",
            "00_\(traceID)_\(spanID)_01",
            "0g-\(traceID)-\(spanID)-01",
            "01-\(traceID)-\(spanID)-01x",  // future version: char 56 must be '-'
            "00-\(traceID.dropLast())g-\(spanID)-01",
            "",
        ]
        for header in invalid {
            XCTAssertNil(TraceContext(traceparent: header), header)
        }
    }

    func testFutureVersionsParseTheirFirst55Characters() throws {
        let extended = try XCTUnwrap(TraceContext(traceparent: "cc-\(traceID)-\(spanID)-01-what-the-future-holds"))
        XCTAssertEqual(extended.traceID, traceID)
        XCTAssertEqual(extended.spanID, spanID)
        XCTAssertEqual(extended.traceparent, "00-\(traceID)-\(spanID)-01", "we always emit version 00")
        XCTAssertNotNil(TraceContext(traceparent: "01-\(traceID)-\(spanID)-03"))
    }

    func testNewRootAndChild() {
        let root = TraceContext.newRoot()
        XCTAssertEqual(root.traceID.count, 32)
        XCTAssertEqual(root.spanID.count, 16)
        XCTAssertEqual(root.flags, 0x03)
        XCTAssertNotNil(TraceContext(traceparent: root.traceparent), "a new root is itself a valid header")
        let parsed = TraceContext(traceparent: "00-\(traceID)-\(spanID)-00", tracestate: "a=b")!
        let child = parsed.child()
        XCTAssertEqual(child.traceID, traceID)
        XCTAssertNotEqual(child.spanID, spanID)
        XCTAssertEqual(child.flags, 0)
        XCTAssertEqual(child.tracestate, "a=b")
        XCTAssertNotEqual(TraceContext.newRoot().traceID, root.traceID)
    }

    func testSeededGenerationIsDeterministic() {
        var first = SeededGenerator(seed: 7)
        var second = SeededGenerator(seed: 7)
        XCTAssertEqual(TraceContext.newRoot(using: &first), TraceContext.newRoot(using: &second))
    }

    func testValidatingInitializer() {
        XCTAssertNotNil(TraceContext(traceID: traceID, spanID: spanID, flags: 1))
        XCTAssertNil(TraceContext(traceID: "abc", spanID: spanID, flags: 1))
        XCTAssertNil(TraceContext(traceID: traceID, spanID: "0000000000000000", flags: 1))
    }
}
