/// The pre-initialised children of a family over the cartesian product of closed label-value sets.
///
/// Built once (creating every combination, so each renders 0 from the first scrape); afterwards lookups
/// read immutable tables, with no lock. A tuple outside the sets falls back to the family, which
/// creates (and caches) a new series: that is a caller bug, because it grows cardinality.
/// Lookups of one, two or three values allocate nothing: each value is found in its own set's position
/// table and the child sits in a flat array. The request path makes a few dozen of them per request, and
/// the variadic form alone allocated an array for each (docs/benchmarks.md, sixth pass).
/// Concurrency: immutable after init; `Sendable`.
struct LabelTable<Child: AnyObject & Sendable>: Sendable {
    /// For each label, its values' positions in its set.
    private let positions: [[String: Int]]
    /// Each set's length: the radix of its position in `children`.
    private let sizes: [Int]
    /// Every combination's child, in `product` order (first set varying slowest).
    private let children: [Child]
    private let fallback: @Sendable ([String]) -> Child

    init(_ sets: [[String]], _ child: @escaping @Sendable ([String]) -> Child) {
        positions = sets.map { set in
            Dictionary(set.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        }
        sizes = sets.map(\.count)
        children = Self.product(sets).map(child)
        fallback = child
    }

    subscript(_ value: String) -> Child {
        guard positions.count == 1, let i = positions[0][value] else { return fallback([value]) }
        return children[i]
    }

    subscript(_ a: String, _ b: String) -> Child {
        guard positions.count == 2, let i = positions[0][a], let j = positions[1][b] else { return fallback([a, b]) }
        return children[i * sizes[1] + j]
    }

    subscript(_ a: String, _ b: String, _ c: String) -> Child {
        guard positions.count == 3, let i = positions[0][a], let j = positions[1][b], let k = positions[2][c] else {
            return fallback([a, b, c])
        }
        return children[(i * sizes[1] + j) * sizes[2] + k]
    }

    subscript(_ values: String...) -> Child {
        guard values.count == positions.count else { return fallback(values) }
        var index = 0
        for (n, value) in values.enumerated() {
            guard let i = positions[n][value] else { return fallback(values) }
            index = index * sizes[n] + i
        }
        return children[index]
    }

    /// Every combination, first set varying slowest.
    static func product(_ sets: [[String]]) -> [[String]] {
        sets.reduce([[]]) { partial, set in partial.flatMap { prefix in set.map { prefix + [$0] } } }
    }
}
