import WireFormats

/// Tiny helpers to write compact JSON by string concatenation on the hot path.
///
/// The simulator answers every request with JSON it builds itself, because `JSONSerialization` costs
/// milliseconds per large body and the simulator is the upstream in benchmarks. Does not parse JSON.
/// Concurrency: stateless; `Sendable`.
enum JSONText {
    /// `value` as a quoted JSON string literal, escaping quotes, backslashes and control characters.
    static func quote(_ value: String) -> String {
        var out = "\""
        out.reserveCapacity(value.utf8.count + 2)
        var needsEscape = false
        for byte in value.utf8 where byte < 0x20 || byte == 0x22 || byte == 0x5C {
            needsEscape = true
            break
        }
        if !needsEscape {
            out += value
            out += "\""
            return out
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u00"
                out += hex(UInt64(scalar.value), digits: 2)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
        return out
    }

    /// `value` or `null`.
    static func quoteOrNull(_ value: String?) -> String { value.map(quote) ?? "null" }

    /// Whether `text` is exactly one JSON number token, such as `1e400`, which JSON allows however large: by
    /// the validating scanner the proxy itself parses with, so both agree on what a number is.
    static func isNumber(_ text: String) -> Bool {
        guard let top = try? JSONTopLevel.scan(Array("{\"n\":\(text)}".utf8)), top.fields.count == 1,
            let value = top.value(forKey: "n")
        else { return false }
        return value.kind == .number && value.bytes.count == text.utf8.count
    }

    /// Lower-case hex of `value`, zero-padded to `digits`.
    static func hex(_ value: UInt64, digits: Int) -> String {
        let alphabet = Array("0123456789abcdef".utf8)
        var bytes = [UInt8](repeating: 0x30, count: digits)
        var v = value
        var i = digits - 1
        while i >= 0 {
            bytes[i] = alphabet[Int(v & 0xF)]
            v >>= 4
            i -= 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `{"k":v,…}` from already-encoded JSON values, in the given order.
    static func object(_ fields: [(String, String)]) -> String {
        var out = "{"
        for (i, field) in fields.enumerated() {
            if i > 0 { out += "," }
            out += quote(field.0)
            out += ":"
            out += field.1
        }
        out += "}"
        return out
    }
}
