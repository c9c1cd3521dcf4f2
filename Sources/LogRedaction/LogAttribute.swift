/// One structured field of a log record or span: a dotted key chosen in code and a typed value.
///
/// Keys follow OpenTelemetry where a name exists (`error.type`, `http.response.status_code`,
/// `http.request.resend_count`, `url.path`, `gen_ai.request.model`), else `sightline.*`. Keys are code
/// constants, never built from request data (they are escaped, not scanned). Values carry identifiers only
/// as pseudonyms; `.string` values always pass through the `SecretScanner` before they are written.
public struct LogAttribute: Sendable, Equatable {
    public let key: String
    public var value: LogValue

    public init(_ key: String, _ value: LogValue) {
        self.key = key
        self.value = value
    }
}

/// A typed attribute value. `.string` is scrubbed by the scanner when written; `.pseudonym` holds an
/// already keyed pseudonym (`acct_…`) and is written as a string without scanning.
public enum LogValue: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral
{
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case pseudonym(String)

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}
