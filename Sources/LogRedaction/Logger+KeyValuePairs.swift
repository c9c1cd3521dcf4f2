/// Dictionary-literal spelling of attributes, in the order written, as the house style shows:
/// `logger.info("recovery decision", ["sightline.recovery.decision": "strip_retry", "http.request.resend_count": 2])`.
///
/// `KeyValuePairs` keeps literal order (a `Dictionary` would not), so records stay byte-stable.
extension Logger {
    public func log(
        _ severity: LogSeverity,
        _ body: StaticString,
        event: String? = nil,
        trace: TraceContext? = nil,
        _ attributes: KeyValuePairs<String, LogValue>
    ) {
        guard isEnabled(severity) else { return }
        log(severity, body, event: event, trace: trace, attributes.map { LogAttribute($0.key, $0.value) })
    }

    public func debug(
        _ body: StaticString,
        event: String? = nil,
        trace: TraceContext? = nil,
        _ attributes: KeyValuePairs<String, LogValue>
    ) {
        log(.debug, body, event: event, trace: trace, attributes)
    }

    public func info(
        _ body: StaticString,
        event: String? = nil,
        trace: TraceContext? = nil,
        _ attributes: KeyValuePairs<String, LogValue>
    ) {
        log(.info, body, event: event, trace: trace, attributes)
    }

    public func warn(
        _ body: StaticString,
        event: String? = nil,
        trace: TraceContext? = nil,
        _ attributes: KeyValuePairs<String, LogValue>
    ) {
        log(.warn, body, event: event, trace: trace, attributes)
    }

    public func error(
        _ body: StaticString,
        event: String? = nil,
        trace: TraceContext? = nil,
        _ attributes: KeyValuePairs<String, LogValue>
    ) {
        log(.error, body, event: event, trace: trace, attributes)
    }
}
