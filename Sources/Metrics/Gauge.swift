import Synchronization

/// One gauge series: a `Double` that may go up and down.
///
/// Obtained from a `GaugeFamily`; its prefix is rendered once at creation. The value is stored as its
/// IEEE-754 bit pattern in an `Atomic<UInt64>`, so `set` is one store and `add` a compare-and-swap loop.
/// It does not reject NaN: a NaN gauge renders as `NaN`, which the format allows.
/// Concurrency: lock-free; every method may be called from any thread.
public final class Gauge: Sendable {
    private let bits = Atomic<UInt64>(Double(0).bitPattern)
    let prefix: String

    init(prefix: String) {
        self.prefix = prefix
    }

    public func set(_ value: Double) {
        bits.store(value.bitPattern, ordering: .relaxed)
    }

    public func add(_ delta: Double) {
        var current = bits.load(ordering: .relaxed)
        while true {
            let next = (Double(bitPattern: current) + delta).bitPattern
            let (exchanged, original) = bits.compareExchange(
                expected: current,
                desired: next,
                ordering: .relaxed
            )
            if exchanged { return }
            current = original
        }
    }

    public func inc() { add(1) }

    public func dec() { add(-1) }

    public var value: Double { Double(bitPattern: bits.load(ordering: .relaxed)) }

    func render(into out: inout String) {
        out += prefix
        out += TextFormat.formatDouble(value)
        out += "\n"
    }
}
