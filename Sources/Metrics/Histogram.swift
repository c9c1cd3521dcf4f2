import Synchronization

/// One histogram series: cumulative buckets over fixed upper bounds, a sum and a count.
///
/// Obtained from a `HistogramFamily`; all its sample prefixes (one per bucket, `_sum`, `_count`) are
/// rendered once at creation. Each bucket holds its own (non-cumulative) atomic count; `_count` is
/// rendered as the sum of those counts, so `le="+Inf"` always equals `_count` even while observations
/// race with a scrape. `_sum` is a Double updated by compare-and-swap on its bit pattern and may lag
/// the buckets by the observations in flight.
/// It ignores NaN observations entirely (they would poison `_sum` forever) and does not compute quantiles.
/// Concurrency: lock-free; `observe` may be called from any thread.
public final class Histogram: Sendable {
    /// Finite, strictly increasing upper bounds; the `+Inf` bucket is implicit.
    public let upperBounds: [Double]
    private let counts: [BucketCount]
    private let sumBits = Atomic<UInt64>(Double(0).bitPattern)
    private let bucketPrefixes: [String]
    private let sumPrefix: String
    private let countPrefix: String

    /// `renderedBounds` are the family's `le` values (finite bounds then `+Inf`), rendered once per family.
    init(name: String, renderedLabels: String, upperBounds: [Double], renderedBounds: [String]) {
        self.upperBounds = upperBounds
        self.counts = (0...upperBounds.count).map { _ in BucketCount() }
        let separator = renderedLabels.isEmpty ? "" : ","
        self.bucketPrefixes = renderedBounds.map {
            name + "_bucket{" + renderedLabels + separator + "le=\"" + $0 + "\"} "
        }
        self.sumPrefix = TextFormat.samplePrefix(name + "_sum", renderedLabels)
        self.countPrefix = TextFormat.samplePrefix(name + "_count", renderedLabels)
    }

    public func observe(_ value: Double) {
        if value.isNaN { return }
        counts[bucketIndex(value)].value.wrappingAdd(1, ordering: .relaxed)
        var current = sumBits.load(ordering: .relaxed)
        while true {
            let next = (Double(bitPattern: current) + value).bitPattern
            let (exchanged, original) = sumBits.compareExchange(
                expected: current,
                desired: next,
                ordering: .relaxed
            )
            if exchanged { return }
            current = original
        }
    }

    /// Number of observations (NaN excluded).
    public var count: UInt64 { counts.reduce(0) { $0 &+ $1.value.load(ordering: .relaxed) } }

    public var sum: Double { Double(bitPattern: sumBits.load(ordering: .relaxed)) }

    /// Cumulative counts per bound, the last one being `+Inf` (== `count`).
    public var cumulativeCounts: [UInt64] {
        var running: UInt64 = 0
        return counts.map {
            running &+= $0.value.load(ordering: .relaxed)
            return running
        }
    }

    /// Index of the first bound >= value (`le` is inclusive), or the `+Inf` bucket.
    private func bucketIndex(_ value: Double) -> Int {
        var low = 0
        var high = upperBounds.count
        while low < high {
            let mid = (low + high) / 2
            if value <= upperBounds[mid] { high = mid } else { low = mid + 1 }
        }
        return low
    }

    func render(into out: inout String) {
        let cumulative = cumulativeCounts
        for (prefix, count) in zip(bucketPrefixes, cumulative) {
            out += prefix
            out += String(count)
            out += "\n"
        }
        out += sumPrefix
        out += TextFormat.formatDouble(sum)
        out += "\n"
        out += countPrefix
        out += String(cumulative.last ?? 0)
        out += "\n"
    }
}

/// A heap cell for one bucket's count: `Atomic` is not copyable, so an array needs one box per element.
private final class BucketCount: Sendable {
    let value = Atomic<UInt64>(0)
}
