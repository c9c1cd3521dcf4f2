/// Spelling rules of the Prometheus text exposition format 0.0.4, shared by every family.
///
/// Pure functions: escaping, number formatting and label rendering. It does not decide what is
/// rendered or in which order; `MetricRegistry` does.
/// Concurrency: stateless, callable from any thread.
enum TextFormat {
    /// `# HELP` text: `\` becomes `\\` and a newline becomes `\n`, so help can never start a new line.
    static func escapeHelp(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\n") }) else {
            return text
        }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for ch in text.unicodeScalars {
            switch ch {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    /// Label values: `\`, `"` and newline are escaped, so a value can never close the label set.
    static func escapeLabelValue(_ text: String) -> String {
        let needsEscape = text.utf8.contains {
            $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n")
        }
        guard needsEscape else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for ch in text.unicodeScalars {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    /// Renders a sample value or bucket bound.
    ///
    /// Swift's `description` spells infinities `inf` and NaN `nan`; the format needs `+Inf`, `-Inf` and
    /// `NaN`. Integral values that a Double holds exactly (|v| < 2^53) are printed without exponent or
    /// `.0` (`1`, `160`, `1048576`), so a bound always renders the same way; everything else uses the
    /// shortest round-tripping form (`0.01`, `1e-05`, `1.5e+16`), which Prometheus parses.
    static func formatDouble(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(.towardZero) && abs(value) < 9_007_199_254_740_992 {
            return String(Int64(value))
        }
        return value.description
    }

    /// `name="value",…` for already sorted pairs whose values are not yet escaped; no braces.
    static func renderLabelPairs(_ pairs: [(name: String, value: String)]) -> String {
        var out = ""
        for (index, pair) in pairs.enumerated() {
            if index > 0 { out += "," }
            out += pair.name
            out += "=\""
            out += escapeLabelValue(pair.value)
            out += "\""
        }
        return out
    }

    /// `name{labels} ` (or `name ` when `labels` is empty): the pre-rendered prefix of a sample line.
    static func samplePrefix(_ name: String, _ renderedLabels: String) -> String {
        renderedLabels.isEmpty ? name + " " : name + "{" + renderedLabels + "} "
    }

    /// Byte-wise order, independent of locale and Unicode normalisation, so output is stable everywhere.
    static func precedes(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }
}
