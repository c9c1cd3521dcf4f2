/// Why `MetricRegistry` refused a registration.
///
/// `reason` is stable and low-cardinality; `name` is the offending metric or label name. Registrations
/// are declared in code (`SightlineMetrics.swift`), so an error here is a programming mistake that a
/// unit test catches; the registry throws instead of trapping so that tests can assert on it.
public struct MetricRegistryError: Error, Equatable, Sendable, CustomStringConvertible {
    public struct Reason: Hashable, Sendable, CustomStringConvertible {
        public let description: String
        private init(_ value: String) { self.description = value }
        /// The metric name does not match `[a-zA-Z_:][a-zA-Z0-9_:]*`.
        public static let invalidMetricName = Reason("invalid_metric_name")
        /// A counter not ending in `_total`, or a gauge or histogram that does.
        public static let invalidSuffix = Reason("invalid_suffix")
        /// A label name is malformed, starts with `__`, repeats, or is `le` on a histogram.
        public static let invalidLabelName = Reason("invalid_label_name")
        /// A family with this name (or one whose samples would share a name) is already registered.
        public static let duplicateFamily = Reason("duplicate_family")
        /// Histogram bounds are empty, not finite or not strictly increasing.
        public static let invalidBuckets = Reason("invalid_buckets")
    }

    public let reason: Reason
    public let name: String

    public init(_ reason: Reason, name: String) {
        self.reason = reason
        self.name = name
    }

    public var description: String { "MetricRegistryError(\(reason): \(name))" }
}
