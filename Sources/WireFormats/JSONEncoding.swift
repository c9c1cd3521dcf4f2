/// Builds small JSON values as bytes, for splicing into documents with `JSONTopLevel.rewriting`.
///
/// Output is compact (no whitespace) and always valid JSON. It is meant for short values (a model name, a flag,
/// an error object); it is not a general serializer and does not sort or deduplicate object keys.
/// Concurrency: stateless.
public enum JSONEncoding {
    /// `s` as a quoted JSON string: `"` and `\` escaped, control characters as `\n`, `\t`, … or `\u00XX`;
    /// everything else (non-ASCII included) as UTF-8.
    public static func string(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 2)
        appendString(s, to: &out)
        return out
    }

    /// `string`, appended to `out`. Runs of bytes that need no escape are appended whole: the continuity snapshot
    /// writes 100 000 keys through here, and a byte-at-a-time append was most of its cost.
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(0x22)
        var s = s
        s.withUTF8 { bytes in
            var start = 0
            for i in bytes.indices where bytes[i] < 0x20 || bytes[i] == 0x22 || bytes[i] == 0x5C {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<i]))
                appendEscaped(bytes[i], to: &out)
                start = i + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
        }
        out.append(0x22)
    }

    /// The escape of `"`, `\` or a control character.
    private static func appendEscaped(_ b: UInt8, to out: inout [UInt8]) {
        switch b {
        case 0x22: out.append(contentsOf: [0x5C, 0x22])
        case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
        case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
        case 0x0D: out.append(contentsOf: [0x5C, 0x72])
        case 0x09: out.append(contentsOf: [0x5C, 0x74])
        case 0x08: out.append(contentsOf: [0x5C, 0x62])
        case 0x0C: out.append(contentsOf: [0x5C, 0x66])
        default:
            let hex: [UInt8] = Array("0123456789abcdef".utf8)
            out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
        }
    }

    public static func int(_ value: Int) -> [UInt8] { Array(String(value).utf8) }

    /// A finite double in Swift's shortest round-trip form; NaN and infinities (not JSON) become `null`.
    public static func double(_ value: Double) -> [UInt8] {
        guard value.isFinite else { return null }
        if value == value.rounded(), abs(value) < 1e15 { return Array(String(Int(value)).utf8) }
        return Array(String(value).utf8)
    }

    public static func bool(_ value: Bool) -> [UInt8] { value ? Array("true".utf8) : Array("false".utf8) }

    public static var null: [UInt8] { Array("null".utf8) }

    /// An optional string: the quoted string, or `null`.
    public static func optionalString(_ s: String?) -> [UInt8] { s.map { string($0) } ?? null }

    /// `{"k1":v1,"k2":v2}` from raw value bytes, in the given order.
    public static func object(_ members: [(key: String, rawJSON: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = [0x7B]
        out.reserveCapacity(members.reduce(2) { $0 + $1.key.utf8.count + 4 + $1.rawJSON.count })
        for (index, member) in members.enumerated() {
            if index > 0 { out.append(0x2C) }
            appendString(member.key, to: &out)
            out.append(0x3A)
            out.append(contentsOf: member.rawJSON)
        }
        out.append(0x7D)
        return out
    }

    /// `[e1,e2]` from raw element bytes.
    public static func array(_ elements: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = [0x5B]
        out.reserveCapacity(elements.reduce(2) { $0 + $1.count + 1 })
        for (index, element) in elements.enumerated() {
            if index > 0 { out.append(0x2C) }
            out.append(contentsOf: element)
        }
        out.append(0x5D)
        return out
    }
}
