import Foundation

/// Small text checks on PromQL expressions: Grafana variable substitution, the function a series is
/// wrapped in, and range windows. A lexical helper, not a parser: parsing is `promtool`'s job.
///
/// Concurrency: stateless; safe from any thread.
enum PromQL {
    struct Match: Equatable {
        let text: String
        let range: Range<String.Index>
        let groups: [String?]
    }

    static func matches(of pattern: String, in text: String) -> [Match] {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return [] }
        let whole = NSRange(text.startIndex..., in: text)
        return regex.matches(in: text, range: whole).compactMap { result in
            guard let range = Range(result.range, in: text) else { return nil }
            let groups = (0..<result.numberOfRanges).map { index -> String? in
                Range(result.range(at: index), in: text).map { String(text[$0]) }
            }
            return Match(text: String(text[range]), range: range, groups: groups)
        }
    }

    /// Replaces Grafana's built-in interval variables with fixed windows and every other `$var` or
    /// `${var}` with `value`, so the expression can be parsed or run by Prometheus.
    static func substitutingVariables(_ expression: String, otherVariables value: String = "x") -> String {
        var result = expression
        for (variable, window) in [("$__rate_interval", "5m"), ("$__interval", "1m"), ("$__range", "1h")] {
            result = result.replacingOccurrences(of: variable, with: window)
        }
        for pattern in [#"\$\{[A-Za-z_][A-Za-z0-9_]*\}"#, #"\$[A-Za-z_][A-Za-z0-9_]*"#] {
            let regex = try! NSRegularExpression(pattern: pattern)
            result = regex.stringByReplacingMatches(
                in: result,
                range: NSRange(result.startIndex..., in: result),
                withTemplate: NSRegularExpression.escapedTemplate(for: value)
            )
        }
        return result
    }

    /// The name of the function whose argument list encloses `index`, or nil at top level or inside a
    /// bare parenthesis. Aggregation clauses (`by (…)`) count as parentheses of their own.
    static func enclosingFunction(of index: String.Index, in expression: String) -> String? {
        var depth = 0
        var cursor = index
        while cursor > expression.startIndex {
            cursor = expression.index(before: cursor)
            switch expression[cursor] {
            case ")": depth += 1
            case "(" where depth > 0: depth -= 1
            case "(":
                var end = cursor
                while end > expression.startIndex, expression[expression.index(before: end)] == " " {
                    end = expression.index(before: end)
                }
                var start = end
                while start > expression.startIndex,
                    expression[expression.index(before: start)].isLetter
                        || expression[expression.index(before: start)] == "_"
                {
                    start = expression.index(before: start)
                }
                return start == end ? nil : String(expression[start..<end])
            default: continue
            }
        }
        return nil
    }

    /// Counter names (`…_total`) and histogram buckets that are not the direct argument of `rate(` or
    /// `increase(`. Each must be, or the panel plots an ever-growing number.
    static func unwrappedCounters(in expression: String) -> [String] {
        matches(of: #"\b(sightline|process)_[a-z0-9_]+(_total|_bucket)\b"#, in: expression).compactMap { match in
            let function = enclosingFunction(of: match.range.lowerBound, in: expression)
            return function == "rate" || function == "increase" ? nil : match.text
        }
    }

    /// The range windows of every `rate(…[w])` and `increase(…[w])` call.
    static func rateWindows(in expression: String) -> [String] {
        matches(of: #"\b(rate|increase)\s*\([^\[\)]*\[([^\]]+)\]"#, in: expression).compactMap { $0.groups[2] }
    }
}
