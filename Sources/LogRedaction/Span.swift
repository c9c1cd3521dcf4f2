import Foundation
import Synchronization

/// One timed operation (a SERVER span per downstream request, a CLIENT span per upstream attempt),
/// recorded as a single log record when it ends.
///
/// `end(status:)` writes one `sightline.span` event record through the `Logger`: the usual header fields
/// (`trace_id`, `span_id` = this span, `trace_flags`), then `parent_span_id` (if any), `kind`, `name`,
/// `start_time_unix_nano`, `end_time_unix_nano` (decimal strings: JSON numbers lose precision past 2^53),
/// `status` (`unset`/`ok`/`error`), `attributes` (always present) and `events` (always present, each
/// `{"name","time_unix_nano","attributes"}`). The start time comes from the logger's wall clock at
/// microsecond precision; the end and event times are the start plus the time elapsed on the logger's monotonic
/// clock, as OpenTelemetry SDKs do, so a wall-clock step during the span does not change its length. It does not export OTLP, sample, or propagate headers (`context.traceparent` gives the
/// header to forward). Ending twice writes nothing the second time; changes after the end are ignored.
/// The record is written at INFO, so a logger whose minimum severity is above INFO drops spans.
/// Concurrency: `Sendable`; all mutable state is behind one `Mutex` (`state`).
public final class Span: Sendable {
    public enum Kind: String, Sendable {
        case server
        case client
    }

    public enum Status: String, Sendable {
        case unset
        case ok
        case error
    }

    private struct Event {
        var name: String
        var timeUnixNano: UInt64
        var attributes: [LogAttribute]
    }

    private struct State {
        var attributes: [LogAttribute]
        var events: [Event] = []
        var status: Status = .unset
        var ended = false
    }

    public let kind: Kind
    public let name: String
    /// This span's position: its trace id and its own span id. Forward `context.traceparent` upstream.
    public let context: TraceContext
    public let parentSpanID: String?
    public let startTimeUnixNano: UInt64
    private let startMonotonic: UInt64
    private let logger: Logger
    private let state: Mutex<State>

    /// Starts a span at `context` (already holding this span's id). Use `Logger.startSpan` normally.
    public init(
        kind: Kind,
        name: String,
        context: TraceContext,
        parentSpanID: String?,
        logger: Logger,
        attributes: [LogAttribute] = []
    ) {
        self.kind = kind
        self.name = name
        self.context = context
        self.parentSpanID = parentSpanID
        self.logger = logger
        self.startTimeUnixNano = Self.unixNanos(logger.now())
        self.startMonotonic = logger.monotonic()
        self.state = Mutex(State(attributes: attributes))
    }

    /// Sets (or replaces) one attribute; keeps first-set order.
    public func setAttribute(_ key: String, _ value: LogValue) {
        state.withLock { state in
            guard !state.ended else { return }
            if let index = state.attributes.firstIndex(where: { $0.key == key }) {
                state.attributes[index].value = value
            } else {
                state.attributes.append(LogAttribute(key, value))
            }
        }
    }

    /// Records a point-in-time event (e.g. `sightline.recovery`) with the logger's current time.
    public func addEvent(_ name: String, _ attributes: [LogAttribute] = []) {
        let time = elapsedTime()
        state.withLock { state in
            guard !state.ended else { return }
            state.events.append(Event(name: name, timeUnixNano: time, attributes: attributes))
        }
    }

    /// Sets the status without ending (e.g. when an error is known before cleanup finishes).
    public func setStatus(_ status: Status) {
        state.withLock { if !$0.ended { $0.status = status } }
    }

    /// Ends the span and writes its record; `status` nil keeps the status set so far.
    public func end(status: Status? = nil) {
        let endTime = elapsedTime()
        let snapshot: State? = state.withLock { state in
            guard !state.ended else { return nil }
            state.ended = true
            if let status { state.status = status }
            return state
        }
        guard let snapshot, logger.isEnabled(.info) else { return }
        let line = LogRecordEncoder.encode(
            timestamp: Date(timeIntervalSince1970: Double(endTime) / 1e9),
            severity: .info,
            body: "span",
            event: "sightline.span",
            trace: context,
            attributes: snapshot.attributes,
            scanner: logger.scanner,
            alwaysWriteAttributes: true,
            middle: { json in
                if let parentSpanID = self.parentSpanID {
                    json.raw(",\"parent_span_id\":")
                    json.string(parentSpanID)
                }
                json.raw(",\"kind\":\"")
                json.bytes(self.kind.rawValue)
                json.raw("\",\"name\":")
                json.string(self.name)
                json.raw(",\"start_time_unix_nano\":\"")
                json.int(self.startTimeUnixNano)
                json.raw("\",\"end_time_unix_nano\":\"")
                json.int(endTime)
                json.raw("\",\"status\":\"")
                json.bytes(snapshot.status.rawValue)
                json.raw("\"")
            },
            trailer: { json in
                json.raw(",\"events\":[")
                for (index, event) in snapshot.events.enumerated() {
                    if index > 0 { json.byte(UInt8(ascii: ",")) }
                    json.raw("{\"name\":")
                    json.string(event.name)
                    json.raw(",\"time_unix_nano\":\"")
                    json.int(event.timeUnixNano)
                    json.raw("\",\"attributes\":")
                    LogRecordEncoder.appendAttributes(event.attributes, scanner: self.logger.scanner, to: &json)
                    json.raw("}")
                }
                json.raw("]")
            }
        )
        logger.write(line)
    }

    /// The start time plus the monotonic time since, at the start time's microsecond precision.
    private func elapsedTime() -> UInt64 {
        let now = logger.monotonic()
        let elapsed = now > startMonotonic ? now - startMonotonic : 0
        return startTimeUnixNano &+ (elapsed / 1000 * 1000)
    }

    /// Microsecond-precision nanoseconds since the epoch (a `Date` carries no more).
    static func unixNanos(_ date: Date) -> UInt64 {
        UInt64(max(0, (date.timeIntervalSince1970 * 1_000_000).rounded())) * 1000
    }
}

extension Logger {
    /// Starts a span. With `parent` (an incoming `traceparent`, or the SERVER span's context) the span
    /// joins that trace as its child (`parent_span_id` = `parent.spanID`); without, it starts a new trace.
    public func startSpan(
        _ kind: Span.Kind,
        _ name: String,
        parent: TraceContext?,
        _ attributes: [LogAttribute] = []
    ) -> Span {
        let context = parent?.child() ?? TraceContext.newRoot()
        return Span(
            kind: kind,
            name: name,
            context: context,
            parentSpanID: parent?.spanID,
            logger: self,
            attributes: attributes
        )
    }
}
