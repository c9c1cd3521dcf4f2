import Foundation
import Synchronization
import XCTest

@testable import LogRedaction

final class LoggerTests: XCTestCase {
    static let fixedDate = Date(timeIntervalSince1970: 1_787_307_302.123456)
    private let trace = TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")!

    private func makeLogger(_ sink: InMemoryLogSink, minimum: LogSeverity = .info) -> Logger {
        Logger(sinks: [sink], minimumSeverity: minimum, now: { LoggerTests.fixedDate })
    }

    func testConventionExampleIsReproducedByteForByte() {
        let sink = InMemoryLogSink()
        makeLogger(sink).info(
            "recovery decision",
            event: "sightline.recovery",
            trace: trace,
            [
                LogAttribute("sightline.recovery.decision", "strip_retry"),
                LogAttribute("sightline.recovery.outcome", "attempted"),
                LogAttribute("error.type", "previous_response_not_found"),
                LogAttribute("http.request.resend_count", 2),
                LogAttribute("sightline.account", .pseudonym("acct_5214f4a56a0984dd")),
            ]
        )
        XCTAssertEqual(
            sink.lines,
            [
                #"{"timestamp":"2026-08-21T10:15:02.123456Z","severity_text":"INFO","severity_number":9,"event_name":"sightline.recovery","body":"recovery decision","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","trace_flags":"01","attributes":{"sightline.recovery.decision":"strip_retry","sightline.recovery.outcome":"attempted","error.type":"previous_response_not_found","http.request.resend_count":2,"sightline.account":"acct_5214f4a56a0984dd"}}"#
            ]
        )
    }

    func testAbsentFieldsAreOmittedAndTypesEncoded() {
        let sink = InMemoryLogSink()
        let logger = makeLogger(sink)
        logger.warn("no extras")
        logger.error(
            "typed",
            [
                LogAttribute("a.double", 0.25), LogAttribute("a.bool", true), LogAttribute("a.neg", -3),
                LogAttribute("a.nan", .double(.nan)), LogAttribute("a.inf", .double(-.infinity)),
            ]
        )
        XCTAssertEqual(
            sink.lines,
            [
                #"{"timestamp":"2026-08-21T10:15:02.123456Z","severity_text":"WARN","severity_number":13,"body":"no extras"}"#,
                #"{"timestamp":"2026-08-21T10:15:02.123456Z","severity_text":"ERROR","severity_number":17,"body":"typed","attributes":{"a.double":0.25,"a.bool":true,"a.neg":-3,"a.nan":"NaN","a.inf":"-Inf"}}"#,
            ]
        )
    }

    func testStringValuesAreEscapedAndScrubbed() {
        let sink = InMemoryLogSink()
        makeLogger(sink).info(
            "upstream error",
            [
                LogAttribute("sightline.error.detail", .string("bad \"key\" \\ Bearer FAKEtok\n\t\u{01} ünï ✓")),
                LogAttribute("sightline.account", .pseudonym("acct_5214f4a56a0984dd")),
            ]
        )
        XCTAssertEqual(
            sink.lines,
            [
                #"{"timestamp":"2026-08-21T10:15:02.123456Z","severity_text":"INFO","severity_number":9,"body":"upstream error","attributes":{"sightline.error.detail":"bad \"key\" \\ [REDACTED:bearer_token]\n\t\u0001 ünï ✓","sightline.account":"acct_5214f4a56a0984dd"}}"#
            ]
        )
        let record = sink.records[0]
        XCTAssertEqual(
            (record["attributes"] as? [String: Any])?["sightline.error.detail"] as? String,
            "bad \"key\" \\ [REDACTED:bearer_token]\n\t\u{01} ünï ✓"
        )
    }

    func testScannerHookSeesRedactionsFromLogging() {
        let sink = InMemoryLogSink()
        let seen = LockedStrings()
        let logger = Logger(
            sinks: [sink],
            scanner: SecretScanner { seen.append($0) },
            now: { LoggerTests.fixedDate }
        )
        logger.info("x", [LogAttribute("d", "key sk-test-FAKE0123456789abcdefXYZ")])
        XCTAssertEqual(seen.values, ["openai_api_key"])
        XCTAssertFalse(sink.lines[0].contains("FAKE0123"))
    }

    func testMinimumSeverityFilters() {
        let sink = InMemoryLogSink()
        let logger = makeLogger(sink, minimum: .warn)
        logger.debug("dropped")
        logger.info("dropped")
        logger.warn("kept")
        logger.log(.fatal, "kept too")
        XCTAssertEqual(sink.records.map { $0["body"] as? String }, ["kept", "kept too"])
        XCTAssertEqual(sink.records.map { $0["severity_number"] as? Int }, [13, 21])
        XCTAssertFalse(Logger.discarding.isEnabled(.fatal))
    }

    func testDictionaryLiteralAttributesKeepTheirOrder() {
        let sink = InMemoryLogSink()
        let logger = makeLogger(sink)
        logger.info(
            "recovery decision",
            ["sightline.recovery.decision": "strip_retry", "http.request.resend_count": 2]
        )
        logger.info("no attributes")
        logger.info("empty", [])
        XCTAssertEqual(
            sink.lines[0],
            #"{"timestamp":"2026-08-21T10:15:02.123456Z","severity_text":"INFO","severity_number":9,"body":"recovery decision","attributes":{"sightline.recovery.decision":"strip_retry","http.request.resend_count":2}}"#
        )
        XCTAssertEqual(sink.lines.count, 3)
    }

    func testTeeWritesToEverySink() {
        let first = InMemoryLogSink()
        let second = InMemoryLogSink()
        Logger(sinks: [TeeLogSink([first, second])], now: { LoggerTests.fixedDate }).info("both")
        XCTAssertEqual(first.lines.count, 1)
        XCTAssertEqual(first.lines, second.lines)
    }

    func testRFC3339Formatting() {
        let cases: [(Double, String)] = [
            (0, "1970-01-01T00:00:00.000000Z"),
            (951_782_400.5, "2000-02-29T00:00:00.500000Z"),
            (1_709_164_800, "2024-02-29T00:00:00.000000Z"),
            (4_107_542_399.999999, "2100-02-28T23:59:59.999999Z"),
            (1_787_307_302.123456, "2026-08-21T10:15:02.123456Z"),
            (-0.5, "1969-12-31T23:59:59.500000Z"),
        ]
        for (seconds, expected) in cases {
            XCTAssertEqual(RFC3339.string(Date(timeIntervalSince1970: seconds)), expected)
        }
    }
}

/// A thread-safe list for capturing callback arguments in tests.
final class LockedStrings: Sendable {
    private let storage = Mutex<[String]>([])
    func append(_ value: String) { storage.withLock { $0.append(value) } }
    var values: [String] { storage.withLock { $0 } }
}
