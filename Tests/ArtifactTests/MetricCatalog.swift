import Foundation

/// The metric names documented in `docs/metrics.md`, and the check that an expression names only those.
///
/// Does not know label sets (see `ScrapeLabels`) or metric types beyond the histogram suffix rule.
/// Concurrency: an immutable value; `Sendable`.
struct MetricCatalog: Sendable {
    let names: Set<String>

    /// Prometheus' own metrics that Sightline's rules may use without declaring them.
    static let prometheusOwn: Set<String> = ["up"]

    private static let histogramSuffixes = ["_bucket", "_sum", "_count"]

    init(names: Set<String>) { self.names = names }

    /// Reads the first cell of every table row of a metrics catalog written like `docs/metrics.md`.
    init(markdown: String) {
        var found: Set<String> = []
        for line in markdown.split(separator: "\n") where line.hasPrefix("|") {
            let firstCell = line.split(separator: "|", omittingEmptySubsequences: true).first ?? ""
            let name = firstCell.trimmingCharacters(in: .whitespaces)
                .trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            if name.hasPrefix("sightline_") || name.hasPrefix("process_") { found.insert(name) }
        }
        names = found
    }

    static func load() throws -> MetricCatalog { MetricCatalog(markdown: try Repository.text("docs/metrics.md")) }

    /// Every `sightline_*` / `process_*` name in a PromQL expression, in order of appearance.
    static func referencedNames(in expression: String) -> [String] {
        PromQL.matches(of: #"\b(sightline|process)_[a-z0-9_]+"#, in: expression).map(\.text)
    }

    /// The family a referenced name belongs to, or nil when the catalog has no such family. A histogram's
    /// `_bucket`, `_sum` and `_count` series belong to the histogram family.
    func family(of name: String) -> String? {
        if names.contains(name) { return name }
        for suffix in Self.histogramSuffixes where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if names.contains(base) { return base }
        }
        return nil
    }

    /// Names in `expression` that are not in the catalog (empty when the expression is clean).
    func unknownNames(in expression: String) -> [String] {
        Self.referencedNames(in: expression).filter { family(of: $0) == nil }
    }
}
