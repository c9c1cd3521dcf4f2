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

    /// Whether `text` is one JSON number token (RFC 8259: `-`, integer part without leading zeros, optional
    /// fraction and exponent), such as `1e400`, which JSON allows however large.
    static func isNumber(_ text: String) -> Bool {
        var bytes = Substring(text).utf8[...]
        func digits() -> Int {
            let count = bytes.prefix { $0 >= 0x30 && $0 <= 0x39 }.count
            bytes = bytes.dropFirst(count)
            return count
        }
        if bytes.first == 0x2D { bytes = bytes.dropFirst() }  // -
        if bytes.first == 0x30 {
            bytes = bytes.dropFirst()
        } else if digits() == 0 {
            return false
        }
        if bytes.first == 0x2E {  // .
            bytes = bytes.dropFirst()
            guard digits() > 0 else { return false }
        }
        if bytes.first == 0x65 || bytes.first == 0x45 {  // e E
            bytes = bytes.dropFirst()
            if bytes.first == 0x2B || bytes.first == 0x2D { bytes = bytes.dropFirst() }
            guard digits() > 0 else { return false }
        }
        return bytes.isEmpty
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
