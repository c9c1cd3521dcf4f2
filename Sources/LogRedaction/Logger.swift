import Foundation

/// Writes structured JSON-line records (OpenTelemetry log data model) to its sinks.
///
/// The only way Sightline writes a log line. The body is a `StaticString`, so it is always a constant
/// message from code (✅ `logger.info("recovery decision", [...])`, ❌ interpolated values); data goes in
/// attributes, whose `.string` values always pass through the `SecretScanner`. Not global: each component
/// is handed a `Logger`, tests build their own with an `InMemoryLogSink` and a fixed `now`.
/// It does not buffer, batch or sample; records below `minimumSeverity` are dropped before encoding.
/// Emits: one line per call, in the format documented in `docs/logs.md`.
/// Concurrency: immutable and `Sendable`; call from any thread. Ordering across threads is whatever the
/// sinks' locks produce.
public struct Logger: Sendable {
    public let minimumSeverity: LogSeverity
    let scanner: SecretScanner
    let now: @Sendable () -> Date
    /// Nanoseconds on a clock that no wall-clock step moves: a span's end and events are its start plus this
    /// clock's elapsed time, so a step during a span cannot stretch it or end it before it began.
    let monotonic: @Sendable () -> UInt64
    private let sinks: [any LogSink]

    /// - Parameters:
    ///   - sinks: where lines go; each gets every line. Empty means a logger that writes nothing.
    ///   - scanner: scrubs `.string` attribute values (wire its `onDetection` to the redaction counter).
    ///   - now: the clock for `timestamp` and span start times; fixed in golden tests.
    ///   - monotonic: the clock for span lengths (`MonotonicClock.now` unless a golden test steps it).
    public init(
        sinks: [any LogSink],
        scanner: SecretScanner = SecretScanner(),
        minimumSeverity: LogSeverity = .info,
        now: @escaping @Sendable () -> Date = { Date() },
        monotonic: @escaping @Sendable () -> UInt64 = { MonotonicClock.now() }
    ) {
        self.sinks = sinks
        self.scanner = scanner
        self.minimumSeverity = minimumSeverity
        self.now = now
        self.monotonic = monotonic
    }

    /// A logger that drops everything (for tools and tests that do not look at logs).
    public static let discarding = Logger(sinks: [])

    public func isEnabled(_ severity: LogSeverity) -> Bool { !sinks.isEmpty && severity >= minimumSeverity }

    /// Writes one record. `event` makes it an OpenTelemetry Event (`sightline.recovery`, …); `trace`
    /// adds `trace_id`, `span_id`, `trace_flags`; attributes are written in the given order.
    public func log(
        _ severity: LogSeverity,
        _ body: StaticString,
        event: String? = nil,
        trace: TraceContext? = nil,
        _ attributes: [LogAttribute] = []
    ) {
        guard isEnabled(severity) else { return }
        let line = LogRecordEncoder.encode(
            timestamp: now(),
            severity: severity,
            body: body,
            event: event,
            trace: trace,
            attributes: attributes,
            scanner: scanner
        )
        write(line)
    }

    public func trace(
        _ body: StaticString,
        event: String? = nil,
        trace: TraceContext? = nil,
        _ attributes: [LogAttribute] = []
    ) {
        log(.trace, body, event: event, trace: trace, attributes)
    }

    public func debug(
        _ body: StaticString,
        event: String? = nil,
        trace: TraceContext? = nil,
        _ attributes: [LogAttribute] = []
    ) {
        log(.debug, body, event: event, trace: trace, attributes)
    }

    public func info(
        _ body: StaticString,
        event: String? = nil,
        trace: TraceContext? = nil,
        _ attributes: [LogAttribute] = []
    ) {
        log(.info, body, event: event, trace: trace, attributes)
    }

    public func warn(
        _ body: StaticString,
        event: String? = nil,
        trace: TraceContext? = nil,
        _ attributes: [LogAttribute] = []
    ) {
        log(.warn, body, event: event, trace: trace, attributes)
    }

    public func error(
        _ body: StaticString,
        event: String? = nil,
        trace: TraceContext? = nil,
        _ attributes: [LogAttribute] = []
    ) {
        log(.error, body, event: event, trace: trace, attributes)
    }

    /// Hands a finished line to every sink.
    func write(_ line: String) {
        for sink in sinks { sink.write(line) }
    }
}
