/// A counter family: one `# HELP`/`# TYPE` and any number of `Counter` series sharing its label names.
///
/// Get one from `MetricRegistry.counter(_:help:labels:)`. A family is labeled or unlabeled, never both:
/// label names are fixed at registration. It does not bound cardinality: only pass values from closed
/// sets (see docs/metrics.md).
/// Concurrency: `Sendable`; `labels(...)` takes a short lock, so cache the returned child on hot paths.
public final class CounterFamily: Sendable {
    public let name: String
    public let help: String
    let store: SeriesStore<Counter>
    /// `# HELP` and `# TYPE`, rendered once.
    let header: String

    init(name: String, help: String, labelNames: [String]) {
        self.name = name
        self.help = help
        self.header = MetricRegistry.header(name, help, "counter")
        self.store = SeriesStore(familyName: name, labelNames: labelNames) {
            Counter(prefix: TextFormat.samplePrefix(name, $0))
        }
    }

    public var labelNames: [String] { store.labelNames }

    /// The series for these values (in registration order), created at 0 on first call and cached.
    public func labels(_ values: String...) -> Counter { store.child(values) }

    public func labels(_ values: [String]) -> Counter { store.child(values) }

    /// The only series of an unlabeled family.
    public var child: Counter { store.child([]) }
}

/// A gauge family: one `# HELP`/`# TYPE` and any number of `Gauge` series sharing its label names.
///
/// Same contract as `CounterFamily`.
public final class GaugeFamily: Sendable {
    public let name: String
    public let help: String
    let store: SeriesStore<Gauge>
    let header: String

    init(name: String, help: String, labelNames: [String]) {
        self.name = name
        self.help = help
        self.header = MetricRegistry.header(name, help, "gauge")
        self.store = SeriesStore(familyName: name, labelNames: labelNames) {
            Gauge(prefix: TextFormat.samplePrefix(name, $0))
        }
    }

    public var labelNames: [String] { store.labelNames }

    public func labels(_ values: String...) -> Gauge { store.child(values) }

    public func labels(_ values: [String]) -> Gauge { store.child(values) }

    public var child: Gauge { store.child([]) }
}

/// A histogram family: fixed bucket bounds shared by every `Histogram` series in it.
///
/// Bounds are validated and their `le` values rendered once, at registration, so every series spells
/// them identically. Same contract as `CounterFamily` otherwise.
public final class HistogramFamily: Sendable {
    public let name: String
    public let help: String
    public let upperBounds: [Double]
    let store: SeriesStore<Histogram>
    let header: String

    init(name: String, help: String, labelNames: [String], upperBounds: [Double]) {
        self.name = name
        self.help = help
        self.header = MetricRegistry.header(name, help, "histogram")
        self.upperBounds = upperBounds
        let renderedBounds = upperBounds.map(TextFormat.formatDouble) + ["+Inf"]
        self.store = SeriesStore(familyName: name, labelNames: labelNames) {
            Histogram(name: name, renderedLabels: $0, upperBounds: upperBounds, renderedBounds: renderedBounds)
        }
    }

    public var labelNames: [String] { store.labelNames }

    public func labels(_ values: String...) -> Histogram { store.child(values) }

    public func labels(_ values: [String]) -> Histogram { store.child(values) }

    public var child: Histogram { store.child([]) }
}
