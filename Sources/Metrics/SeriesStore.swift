import Synchronization

/// The children of one family: created once per label-value tuple, cached, and kept in render order.
///
/// Label names are fixed at registration; values are escaped and rendered (sorted by label name) once,
/// when a child is created. It does not validate values against closed sets: callers own that.
/// Concurrency: `Sendable`; `state` is a `Mutex` held only to look up or insert a child and to copy the
/// ordered list for a scrape. The children themselves are lock-free.
final class SeriesStore<Child: AnyObject & Sendable>: Sendable {
    let familyName: String
    /// In registration order: the order in which `labels(...)` takes its values.
    let labelNames: [String]
    /// Positions into `labelNames`, sorted by label name, for rendering.
    private let renderOrder: [Int]
    private let make: @Sendable (_ renderedLabels: String) -> Child
    private let state = Mutex(State())

    private struct State: ~Copyable {
        var byValues: [[String]: Child] = [:]
        /// Sorted by rendered labels (byte-wise), so every scrape lists series in the same order.
        var ordered: [(key: String, child: Child)] = []
    }

    init(familyName: String, labelNames: [String], make: @escaping @Sendable (String) -> Child) {
        self.familyName = familyName
        self.labelNames = labelNames
        self.renderOrder = labelNames.indices.sorted { TextFormat.precedes(labelNames[$0], labelNames[$1]) }
        self.make = make
    }

    /// The child for `values` (one per label name, in registration order), created on first use.
    /// A wrong number of values is a programming error and traps.
    func child(_ values: [String]) -> Child {
        precondition(
            values.count == labelNames.count,
            "\(familyName) takes \(labelNames.count) label values, got \(values.count)"
        )
        if let existing = state.withLock({ $0.byValues[values] }) { return existing }
        let rendered = TextFormat.renderLabelPairs(renderOrder.map { (labelNames[$0], values[$0]) })
        // Built outside the lock; if another thread won the race its child is kept and ours dropped.
        let fresh = make(rendered)
        return state.withLock { state in
            if let existing = state.byValues[values] { return existing }
            state.byValues[values] = fresh
            let position = state.ordered.partitioningIndex { !TextFormat.precedes($0.key, rendered) }
            state.ordered.insert((rendered, fresh), at: position)
            return fresh
        }
    }

    /// The children in render order.
    func snapshot() -> [Child] {
        state.withLock { $0.ordered.map(\.child) }
    }

    var count: Int { state.withLock { $0.byValues.count } }
}

extension Array {
    /// The first index whose element satisfies `predicate`, for an array partitioned by it (binary search).
    fileprivate func partitioningIndex(where predicate: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if predicate(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
