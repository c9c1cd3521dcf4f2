/// Nearest-rank percentiles over recorded samples (no interpolation, no synthetic samples).
enum Percentiles {
    /// The p-th percentile (0...100) in milliseconds, or nil when there are no samples.
    static func ms(_ samples: [UInt64], _ p: Double) -> Double? {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return Double(sorted[max(0, min(sorted.count - 1, rank - 1))]) / 1e6
    }
}
