import Foundation
import Synchronization
import XCTest

@testable import LogRedaction

final class SpanTests: XCTestCase {
    /// A monotonic clock that advances 1.5 ms per reading.
    private final class SteppingClock: Sendable {
        private let readings = Mutex(UInt64(0))
        func now() -> UInt64 {
            readings.withLock { value -> UInt64 in
                defer { value += 1 }
                return 5_000_000_000 + value * 1_500_000
            }
        }
    }

    func testServerSpanRecordGolden() throws {
        let sink = InMemoryLogSink()
        let clock = SteppingClock()
        let logger = Logger(
            sinks: [sink],
            now: { Date(timeIntervalSince1970: 1_787_307_302.123456) },
            monotonic: { clock.now() }
        )
        let context = try XCTUnwrap(
            TraceContext(traceID: "4bf92f3577b34da6a3ce929d0e0e4736", spanID: "b7ad6b7169203331", flags: 1)
        )
        let span = Span(
            kind: .server,
            name: "POST /v1/responses",
            context: context,
            parentSpanID: "00f067aa0ba902b7",
            logger: logger,
            attributes: [LogAttribute("http.request.method", "POST")]
        )
        span.setAttribute("http.response.status_code", 200)
        span.addEvent(
            "sightline.recovery",
            [
                LogAttribute("sightline.recovery.decision", "strip_retry"),
                LogAttribute("sightline.recovery.outcome", "attempted"),
            ]
        )
        span.setAttribute("http.response.status_code", 502)  // replaces, keeps position
        span.end(status: .error)
        span.end(status: .ok)  // second end is ignored
        span.addEvent("late")
        XCTAssertEqual(
            sink.lines,
            [
                #"{"timestamp":"2026-08-21T10:15:02.126456Z","severity_text":"INFO","severity_number":9,"event_name":"sightline.span","body":"span","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"b7ad6b7169203331","trace_flags":"01","parent_span_id":"00f067aa0ba902b7","kind":"server","name":"POST /v1/responses","start_time_unix_nano":"1787307302123456000","end_time_unix_nano":"1787307302126456000","status":"error","attributes":{"http.request.method":"POST","http.response.status_code":502},"events":[{"name":"sightline.recovery","time_unix_nano":"1787307302124956000","attributes":{"sightline.recovery.decision":"strip_retry","sightline.recovery.outcome":"attempted"}}]}"#
            ]
        )
    }

    /// A wall-clock step during a span (NTP, a resumed VM) changes neither its length nor its events' offsets:
    /// an hour forward and an hour back, with 2 ms and 3 ms passing on the monotonic clock.
    func testWallClockStepDoesNotChangeTheSpanLength() throws {
        for step in [3600.0, -3600.0] {
            let sink = InMemoryLogSink()
            let wall = Mutex(LoggerTests.fixedDate)
            let monotonic = Mutex(UInt64(7_000_000_000))
            let logger = Logger(sinks: [sink], now: { wall.withLock { $0 } }, monotonic: { monotonic.withLock { $0 } })
            let span = logger.startSpan(.server, "POST /v1/responses", parent: nil)
            wall.withLock { $0 = $0.addingTimeInterval(step) }
            monotonic.withLock { $0 += 2_000_000 }
            span.addEvent("sightline.recovery")
            monotonic.withLock { $0 += 3_000_000 }
            span.end()
            let record = try XCTUnwrap(sink.records.first)
            let start = try XCTUnwrap(UInt64(record["start_time_unix_nano"] as? String ?? ""))
            let end = try XCTUnwrap(UInt64(record["end_time_unix_nano"] as? String ?? ""))
            let events = try XCTUnwrap(record["events"] as? [[String: Any]])
            let event = try XCTUnwrap(UInt64(events.first?["time_unix_nano"] as? String ?? ""))
            XCTAssertEqual(start, 1_787_307_302_123_456_000, "step \(step)")
            XCTAssertEqual(end - start, 5_000_000, "step \(step)")
            XCTAssertEqual(event - start, 2_000_000, "step \(step)")
            XCTAssertEqual(
                record["timestamp"] as? String,
                "2026-08-21T10:15:02.128456Z",
                "the record is stamped at the end"
            )
        }
    }

    func testRootSpanWithoutParentHasEmptyCollections() throws {
        let sink = InMemoryLogSink()
        let logger = Logger(sinks: [sink], now: { LoggerTests.fixedDate })
        let span = logger.startSpan(.client, "upstream attempt", parent: nil)
        span.end()
        let record = try XCTUnwrap(sink.records.first)
        XCTAssertNil(record["parent_span_id"])
        XCTAssertEqual(record["status"] as? String, "unset")
        XCTAssertEqual(record["kind"] as? String, "client")
        XCTAssertEqual((record["attributes"] as? [String: Any])?.count, 0)
        XCTAssertEqual((record["events"] as? [Any])?.count, 0)
        XCTAssertEqual(record["trace_id"] as? String, span.context.traceID)
    }

    func testClientSpanIsChildOfServerSpanAndScrubsStrings() throws {
        let sink = InMemoryLogSink()
        let logger = Logger(sinks: [sink], now: { LoggerTests.fixedDate })
        let incoming = TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        let server = logger.startSpan(.server, "POST /v1/responses", parent: incoming)
        let client = logger.startSpan(
            .client,
            "POST /responses",
            parent: server.context,
            [LogAttribute("http.request.resend_count", 1)]
        )
        client.addEvent("upstream.error", [LogAttribute("sightline.error.detail", "Bearer FAKEabc")])
        client.setAttribute("error.type", "upstream_timeout")
        client.end(status: .error)
        server.end()
        let records = sink.records
        XCTAssertEqual(records.count, 2)
        XCTAssertEqual(server.parentSpanID, "00f067aa0ba902b7")
        XCTAssertEqual(client.parentSpanID, server.context.spanID)
        XCTAssertEqual(records[0]["parent_span_id"] as? String, server.context.spanID)
        XCTAssertEqual(records[1]["parent_span_id"] as? String, "00f067aa0ba902b7")
        XCTAssertEqual(Set(records.compactMap { $0["trace_id"] as? String }), ["4bf92f3577b34da6a3ce929d0e0e4736"])
        XCTAssertFalse(sink.lines[0].contains("FAKEabc"))
        XCTAssertTrue(sink.lines[0].contains("[REDACTED:bearer_token]"))
        XCTAssertEqual(client.context.traceparent, "00-4bf92f3577b34da6a3ce929d0e0e4736-\(client.context.spanID)-01")
    }

    func testConcurrentUseIsSafe() {
        let sink = InMemoryLogSink()
        let logger = Logger(sinks: [sink], now: { LoggerTests.fixedDate })
        let span = logger.startSpan(.server, "load", parent: nil)
        DispatchQueue.concurrentPerform(iterations: 200) { index in
            span.addEvent("e", [LogAttribute("i", .int(index))])
            span.setAttribute("k\(index % 10)", .int(index))
        }
        span.end()
        let record = sink.records[0]
        XCTAssertEqual((record["events"] as? [Any])?.count, 200)
        XCTAssertEqual((record["attributes"] as? [String: Any])?.count, 10)
    }
}
