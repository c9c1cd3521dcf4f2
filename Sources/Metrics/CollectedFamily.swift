/// A family produced at scrape time by a collector (see `MetricRegistry.addCollector(_:)`), such as the
/// `process_*` metrics read from /proc.
///
/// A plain value: rendered and escaped per scrape, unlike registered families. Only counters and gauges;
/// the registry drops a collected family whose name or label names are invalid or already taken.
public struct CollectedFamily: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case counter
        case gauge
    }

    public var name: String
    public var help: String
    public var kind: Kind
    public var samples: [CollectedSample]

    public init(name: String, help: String, kind: Kind, samples: [CollectedSample]) {
        self.name = name
        self.help = help
        self.kind = kind
        self.samples = samples
    }
}

/// One sample of a `CollectedFamily`. Labels are sorted by name when rendered.
public struct CollectedSample: Sendable, Equatable {
    public var labels: [String: String]
    public var value: Double

    public init(labels: [String: String] = [:], value: Double) {
        self.labels = labels
        self.value = value
    }
}
