import Foundation

/// Appends JSON fragments to a byte buffer: the hand-written encoder behind every log line.
///
/// Strings are escaped per RFC 8259: `"` and `\` are backslash-escaped, control characters become
/// `\n`, `\r`, `\t`, `\b`, `\f` or `\u00XX`, everything else (non-ASCII included) is copied as UTF-8.
/// It does not validate structure: callers write objects in a fixed order. No Foundation JSON, no
/// intermediate dictionaries.
/// Concurrency: a value owned by the thread building one line.
struct JSONLineBuilder {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    var line: String { String(decoding: bytes, as: UTF8.self) }

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func byte(_ value: UInt8) { bytes.append(value) }

    mutating func append(contentsOf raw: UnsafeBufferPointer<UInt8>) { bytes.append(contentsOf: raw) }

    /// `"key":` with the key escaped.
    mutating func key(_ key: String) {
        string(key)
        bytes.append(UInt8(ascii: ":"))
    }

    mutating func string(_ text: String) {
        var copy = text
        copy.withUTF8 { escaped($0) }
    }

    mutating func string(_ text: StaticString) {
        text.withUTF8Buffer { escaped($0) }
    }

    mutating func escaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        var runStart = 0
        for index in 0..<utf8.count {
            let char = utf8[index]
            guard char < 0x20 || char == UInt8(ascii: "\"") || char == UInt8(ascii: "\\") else { continue }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
            runStart = index + 1
            bytes.append(UInt8(ascii: "\\"))
            switch char {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(char)
            case 0x0a: bytes.append(UInt8(ascii: "n"))
            case 0x0d: bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "t"))
            case 0x08: bytes.append(UInt8(ascii: "b"))
            case 0x0c: bytes.append(UInt8(ascii: "f"))
            default:
                bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                bytes.append(Self.hexDigits[Int(char >> 4)])
                bytes.append(Self.hexDigits[Int(char & 0x0f)])
            }
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func int(_ value: some BinaryInteger) {
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Finite doubles as Swift prints them (valid JSON numbers); NaN and infinities, which JSON cannot
    /// hold, as the strings `"NaN"`, `"+Inf"`, `"-Inf"` (Prometheus spelling).
    mutating func double(_ value: Double) {
        if value.isNaN {
            string("NaN")
        } else if value.isInfinite {
            string(value > 0 ? "+Inf" : "-Inf")
        } else {
            bytes.append(contentsOf: value.description.utf8)
        }
    }

    mutating func bool(_ value: Bool) {
        raw(value ? "true" : "false")
    }

    /// `"2026-08-21T10:15:02.123456Z"`: RFC 3339, UTC, microseconds, quoted.
    mutating func timestamp(_ date: Date) {
        bytes.append(UInt8(ascii: "\""))
        RFC3339.append(date, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
