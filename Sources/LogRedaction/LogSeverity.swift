/// Severity of a log record, with the OpenTelemetry `severity_number` as raw value.
///
/// Comparable by number, so `minimumSeverity` filtering is `severity >= minimum`.
public enum LogSeverity: Int, Sendable, Comparable, CaseIterable {
    case trace = 1
    case debug = 5
    case info = 9
    case warn = 13
    case error = 17
    case fatal = 21

    /// `severity_text` as written to records.
    public var text: String {
        switch self {
        case .trace: "TRACE"
        case .debug: "DEBUG"
        case .info: "INFO"
        case .warn: "WARN"
        case .error: "ERROR"
        case .fatal: "FATAL"
        }
    }

    public static func < (lhs: LogSeverity, rhs: LogSeverity) -> Bool { lhs.rawValue < rhs.rawValue }
}
