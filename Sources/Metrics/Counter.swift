import Synchronization

/// One counter series: a monotonically increasing `UInt64`.
///
/// Obtained from a `CounterFamily` (created once and cached there); its `name{labels} ` prefix is
/// rendered when the series is created, so a scrape only appends the number. It does not support
/// decrementing or resetting: use a `Gauge` for values that go down.
/// Concurrency: lock-free; `increment` is one relaxed atomic add and may be called from any thread.
public final class Counter: Sendable {
    private let storage = Atomic<UInt64>(0)
    let prefix: String

    init(prefix: String) {
        self.prefix = prefix
    }

    /// Adds `amount` (default 1). Wraps at 2^64, which at a billion per second takes 584 years.
    public func increment(by amount: UInt64 = 1) {
        storage.wrappingAdd(amount, ordering: .relaxed)
    }

    /// The current value, for tests and for computing derived values; not a consistent snapshot across series.
    public var value: UInt64 { storage.load(ordering: .relaxed) }

    func render(into out: inout String) {
        out += prefix
        out += String(value)
        out += "\n"
    }
}
