import Foundation

/// Label names and values per metric family, read from a fully pre-initialised scrape
/// (`Tests/MetricsTests/Golden/scrape.prom`), and the check that a selector's matchers could match it.
///
/// Only `job` and `instance` (added by Prometheus) are allowed beyond the scraped labels. Families absent
/// from the scrape (the `process_*` ones, read from /proc at run time) are not checked. `account` values
/// are open (pseudonyms), so only its name is checked. Concurrency: an immutable value.
struct ScrapeLabels: Sendable {
    private static let targetLabels: Set<String> = ["job", "instance"]
    private static let openValueLabels: Set<String> = ["account", "job", "instance"]

    /// family → label name → values seen.
    let families: [String: [String: Set<String>]]

    init(exposition: String) {
        var families: [String: [String: Set<String>]] = [:]
        for line in exposition.split(separator: "\n") where !line.hasPrefix("#") {
            let text = String(line)
            guard let nameEnd = text.firstIndex(where: { $0 == "{" || $0 == " " }) else { continue }
            var name = String(text[..<nameEnd])
            for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
                // Histogram series share their family's labels (plus `le` on buckets).
                if exposition.contains("# TYPE \(name.dropLast(suffix.count)) histogram") {
                    name = String(name.dropLast(suffix.count))
                }
            }
            var labels = families[name] ?? [:]
            for match in PromQL.matches(of: #"([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)""#, in: text) {
                guard let label = match.groups[1], let value = match.groups[2] else { continue }
                labels[label, default: []].insert(value)
            }
            families[name] = labels
        }
        self.families = families
    }

    /// Human-readable problems with the label matchers of every `metric{…}` selector in `expression`.
    /// `recorded` maps recording-rule names (`sightline:…`) to the family they are computed from, so
    /// their selectors are checked against that family's labels too.
    func problems(in expression: String, catalog: MetricCatalog, recorded: [String: String] = [:]) -> [String] {
        var problems: [String] = []
        let selectors = PromQL.matches(
            of: #"(?<![a-z0-9_:])((?:sightline|process)_[a-z0-9_]+|sightline:[a-z0-9_:]+)\{([^}]*)\}"#,
            in: expression
        )
        for selector in selectors {
            guard let name = selector.groups[1], let family = recorded[name] ?? catalog.family(of: name),
                let known = families[family]
            else { continue }
            let matchers = PromQL.matches(
                of: #"([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)""#,
                in: selector.groups[2] ?? ""
            )
            for matcher in matchers {
                guard let label = matcher.groups[1], let op = matcher.groups[2], let value = matcher.groups[3]
                else { continue }
                if Self.targetLabels.contains(label) { continue }
                guard let values = known[label] else {
                    problems.append("\(family) has no label \(label)")
                    continue
                }
                if Self.openValueLabels.contains(label) { continue }
                // Literal values and plain alternations must name values the family really has.
                let literal = value.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "|" || $0 == "+" }
                guard literal else { continue }
                let alternatives = op.hasSuffix("~") ? value.split(separator: "|").map(String.init) : [value]
                for alternative in alternatives where !values.contains(alternative) {
                    problems.append("\(family){\(label)} has no value \(alternative)")
                }
            }
        }
        return problems
    }
}
