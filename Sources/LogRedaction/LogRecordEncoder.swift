import Foundation

/// Renders one record as a JSON line in the fixed key order of the observability conventions (§8):
/// `timestamp`, `severity_text`, `severity_number`, `event_name`?, `body`, `trace_id`?, `span_id`?,
/// `trace_flags`?, then record-specific fields (span fields), `attributes`, then trailing fields.
///
/// Absent values are omitted; an empty attribute list is omitted unless `alwaysWriteAttributes`.
/// Every `.string` attribute value goes through the scanner here, the one place lines are built.
/// Concurrency: stateless; the scanner it is given must be safe to call from any thread.
enum LogRecordEncoder {
    static func encode(
        timestamp: Date,
        severity: LogSeverity,
        body: StaticString,
        event: String?,
        trace: TraceContext?,
        attributes: [LogAttribute],
        scanner: SecretScanner,
        alwaysWriteAttributes: Bool = false,
        middle: (inout JSONLineBuilder) -> Void = { _ in },
        trailer: (inout JSONLineBuilder) -> Void = { _ in }
    ) -> String {
        var json = JSONLineBuilder(capacity: 256 + attributes.count * 48)
        json.raw("{\"timestamp\":")
        json.timestamp(timestamp)
        json.raw(",\"severity_text\":\"")
        json.bytes(severity.text)
        json.raw("\",\"severity_number\":")
        json.int(severity.rawValue)
        if let event {
            json.raw(",\"event_name\":")
            json.string(event)
        }
        json.raw(",\"body\":")
        json.string(body)
        if let trace {
            json.raw(",\"trace_id\":\"")
            json.bytes(trace.traceID)
            json.raw("\",\"span_id\":\"")
            json.bytes(trace.spanID)
            json.raw("\",\"trace_flags\":\"")
            json.bytes(trace.flagsHex)
            json.raw("\"")
        }
        middle(&json)
        if alwaysWriteAttributes || !attributes.isEmpty {
            json.raw(",\"attributes\":")
            appendAttributes(attributes, scanner: scanner, to: &json)
        }
        trailer(&json)
        json.raw("}")
        return json.line
    }

    /// `{"key":value,…}` in the given order.
    static func appendAttributes(_ attributes: [LogAttribute], scanner: SecretScanner, to json: inout JSONLineBuilder) {
        json.byte(UInt8(ascii: "{"))
        for (index, attribute) in attributes.enumerated() {
            if index > 0 { json.byte(UInt8(ascii: ",")) }
            json.key(attribute.key)
            switch attribute.value {
            case .string(let text): json.string(scanner.scrub(text).text)
            case .pseudonym(let pseudonym): json.string(pseudonym)
            case .int(let value): json.int(value)
            case .double(let value): json.double(value)
            case .bool(let value): json.bool(value)
            }
        }
        json.byte(UInt8(ascii: "}"))
    }
}

extension JSONLineBuilder {
    /// Appends text known to need no escaping (hex ids, severity names).
    mutating func bytes(_ text: String) {
        var copy = text
        copy.withUTF8 { append(contentsOf: $0) }
    }
}
