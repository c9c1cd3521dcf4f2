import Synchronization

/// Owns metric families and renders them in the Prometheus text format 0.0.4.
///
/// Registration validates names and refuses duplicates by throwing `MetricRegistryError` (families are
/// declared in code, so a throw is a bug caught by tests; `SightlineMetrics` traps on it). Counters must
/// end in `_total` and nothing else may. Unlabeled families get their single series at registration so
/// it renders 0 from the first scrape. It does not expire series, and it does not push anywhere.
/// Concurrency: `Sendable`; `state` is a `Mutex` held to register and to copy the family list for a
/// scrape, never while a collector runs or a family renders. Recording values never touches it.
public final class MetricRegistry: Sendable {
    struct State: ~Copyable {
        var families: [String: RegisteredFamily] = [:]
        /// Every sample name a registered family emits (`x`, or `x_bucket`, `x_sum`, `x_count`).
        var sampleNames: Set<String> = []
        var collectors: [@Sendable () -> [CollectedFamily]] = []
    }

    let state = Mutex(State())

    public init() {}

    /// Registers a counter family. `name` must end in `_total`; `labels` may be empty.
    public func counter(_ name: String, help: String, labels: [String] = []) throws -> CounterFamily {
        try validate(name, labels, isCounter: true, isHistogram: false)
        let family = CounterFamily(name: name, help: help, labelNames: labels)
        try insert(.counter(family), name: name, sampleNames: [name])
        if labels.isEmpty { _ = family.child }
        return family
    }

    /// Registers a gauge family.
    public func gauge(_ name: String, help: String, labels: [String] = []) throws -> GaugeFamily {
        try validate(name, labels, isCounter: false, isHistogram: false)
        let family = GaugeFamily(name: name, help: help, labelNames: labels)
        try insert(.gauge(family), name: name, sampleNames: [name])
        if labels.isEmpty { _ = family.child }
        return family
    }

    /// Registers a histogram family. `buckets` are finite, strictly increasing upper bounds; a trailing
    /// `+Inf` is accepted and dropped (the `+Inf` bucket is always rendered).
    public func histogram(
        _ name: String,
        help: String,
        labels: [String] = [],
        buckets: [Double]
    ) throws -> HistogramFamily {
        try validate(name, labels, isCounter: false, isHistogram: true)
        var bounds = buckets
        if bounds.last == .infinity { bounds.removeLast() }
        let increasing = zip(bounds, bounds.dropFirst()).allSatisfy { $0 < $1 }
        guard !bounds.isEmpty, increasing, bounds.allSatisfy(\.isFinite) else {
            throw MetricRegistryError(.invalidBuckets, name: name)
        }
        let family = HistogramFamily(name: name, help: help, labelNames: labels, upperBounds: bounds)
        let samples = [name, name + "_bucket", name + "_sum", name + "_count"]
        try insert(.histogram(family), name: name, sampleNames: samples)
        if labels.isEmpty { _ = family.child }
        return family
    }

    /// Adds a function called at every scrape whose families are rendered alongside the registered ones.
    /// It runs on the scraping thread without the registry lock; keep it quick.
    public func addCollector(_ collect: @escaping @Sendable () -> [CollectedFamily]) {
        state.withLock { $0.collectors.append(collect) }
    }

    /// Names of the registered families (not collected ones), sorted.
    public var familyNames: [String] {
        state.withLock { Array($0.families.keys) }.sorted(by: TextFormat.precedes)
    }

    private func validate(_ name: String, _ labels: [String], isCounter: Bool, isHistogram: Bool) throws {
        guard MetricNames.isValidMetricName(name) else { throw MetricRegistryError(.invalidMetricName, name: name) }
        guard name.hasSuffix("_total") == isCounter else { throw MetricRegistryError(.invalidSuffix, name: name) }
        var seen: Set<String> = []
        for label in labels {
            let valid = MetricNames.isValidLabelName(label) && !(isHistogram && label == "le")
            guard valid, seen.insert(label).inserted else { throw MetricRegistryError(.invalidLabelName, name: label) }
        }
    }

    private func insert(_ family: RegisteredFamily, name: String, sampleNames: [String]) throws {
        try state.withLock { state in
            guard state.families[name] == nil, state.sampleNames.isDisjoint(with: sampleNames) else {
                throw MetricRegistryError(.duplicateFamily, name: name)
            }
            state.families[name] = family
            state.sampleNames.formUnion(sampleNames)
        }
    }
}

/// A registered family of any kind, as the renderer sees it.
enum RegisteredFamily: Sendable {
    case counter(CounterFamily)
    case gauge(GaugeFamily)
    case histogram(HistogramFamily)
}
