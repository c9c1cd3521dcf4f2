import Foundation

/// The recording and alerting rules of one Prometheus rules file, read with a line scanner that knows
/// the layout of `alerts/sightline.rules.yml` (`expr:` on one line or as a `|` block scalar), the same
/// layout `scripts/dashboard-exprs.sh --rules` reads.
///
/// Not a YAML parser: `promtool check rules` validates the file. Concurrency: an immutable value.
struct RuleFile: Sendable {
    struct Rule: Sendable, Equatable {
        enum Kind: String, Sendable { case record, alert }
        let kind: Kind
        let name: String
        let expression: String
    }

    let rules: [Rule]

    var alertNames: [String] { rules.filter { $0.kind == .alert }.map(\.name) }

    init(yaml: String) {
        var rules: [Rule] = []
        var kind: Rule.Kind?
        var name = ""
        var block: [String]?
        var blockIndent = 0
        func finishBlock() {
            if let lines = block, let kind, !lines.isEmpty {
                rules.append(Rule(kind: kind, name: name, expression: lines.joined(separator: " ")))
            }
            block = nil
        }
        for rawLine in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(rawLine)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            let indent = line.prefix { $0 == " " }.count
            if block != nil {
                if trimmed.isEmpty { continue }
                if indent > blockIndent {
                    block?.append(trimmed)
                    continue
                }
                finishBlock()
            }
            for candidate in [Rule.Kind.record, .alert] where trimmed.hasPrefix("- \(candidate.rawValue):") {
                kind = candidate
                name = trimmed.dropFirst(candidate.rawValue.count + 3).trimmingCharacters(in: .whitespaces)
            }
            if trimmed.hasPrefix("expr:") {
                let rest = trimmed.dropFirst(5).trimmingCharacters(in: .whitespaces)
                if rest.hasPrefix("|") || rest.hasPrefix(">") {
                    block = []
                    blockIndent = indent
                } else if let kind {
                    rules.append(Rule(kind: kind, name: name, expression: rest))
                }
            }
        }
        finishBlock()
        self.rules = rules
    }

    static func load(_ relativePath: String = "alerts/sightline.rules.yml") throws -> RuleFile {
        RuleFile(yaml: try Repository.text(relativePath))
    }
}
