/// The pre-initialised children of a family over the cartesian product of closed label-value sets.
///
/// Built once (creating every combination, so each renders 0 from the first scrape); afterwards lookups
/// read an immutable dictionary, with no lock. A tuple outside the sets falls back to the family, which
/// creates (and caches) a new series: that is a caller bug, because it grows cardinality.
/// Concurrency: immutable after init; `Sendable`.
struct LabelTable<Child: AnyObject & Sendable>: Sendable {
    private let children: [[String]: Child]
    private let fallback: @Sendable ([String]) -> Child

    init(_ sets: [[String]], _ child: @escaping @Sendable ([String]) -> Child) {
        var children: [[String]: Child] = [:]
        for values in Self.product(sets) { children[values] = child(values) }
        self.children = children
        self.fallback = child
    }

    subscript(_ values: String...) -> Child {
        children[values] ?? fallback(values)
    }

    /// Every combination, first set varying slowest.
    static func product(_ sets: [[String]]) -> [[String]] {
        sets.reduce([[]]) { partial, set in partial.flatMap { prefix in set.map { prefix + [$0] } } }
    }
}
