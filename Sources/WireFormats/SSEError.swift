/// Why an SSE stream could not be framed.
///
/// `reason` is stable and low-cardinality (an `error.type` / label value).
public struct SSEError: Error, Equatable, Sendable {
    public struct Reason: Hashable, Sendable, CustomStringConvertible {
        public let description: String
        private init(_ value: String) { self.description = value }
        /// One event grew past the framer's `maxEventBytes` without its terminating blank line.
        public static let eventTooLarge = Reason("event_too_large")
    }

    public var reason: Reason
    public init(_ reason: Reason) { self.reason = reason }
}
