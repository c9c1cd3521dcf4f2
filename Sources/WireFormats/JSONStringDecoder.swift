#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Decodes one JSON string token (quotes included) into a Swift `String`.
///
/// Handles every escape of RFC 8259, including `\uXXXX` and UTF-16 surrogate pairs; a lone surrogate becomes
/// U+FFFD, as invalid UTF-8 does. Strings without a backslash (the common case) take a fast path that is a single
/// UTF-8 validation. It does not validate the token's boundaries: callers pass a range the scanner produced.
/// Concurrency: stateless.
enum JSONStringDecoder {
    /// Returns nil when an escape is malformed (unknown letter, short or non-hex `\u`).
    static func decode(_ token: ArraySlice<UInt8>) -> String? {
        token.withUnsafeBufferPointer { decode($0) }
    }

    static func decode(_ token: UnsafeBufferPointer<UInt8>) -> String? {
        guard token.count >= 2, let base = token.baseAddress else { return nil }
        let inner = UnsafeBufferPointer(start: base + 1, count: token.count - 2)
        if inner.isEmpty { return "" }
        guard memchr(inner.baseAddress!, 0x5C, inner.count) != nil else {
            return String(decoding: inner, as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(inner.count)
        var i = 0
        while i < inner.count {
            let b = inner[i]
            guard b == 0x5C else {
                out.append(b)
                i += 1
                continue
            }
            guard i + 1 < inner.count else { return nil }
            let e = inner[i + 1]
            i += 2
            switch e {
            case 0x22, 0x5C, 0x2F: out.append(e)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                guard let unit = hex4(inner, i) else { return nil }
                i += 4
                var scalar = UInt32(unit)
                if (0xD800...0xDBFF).contains(unit) {
                    // A high surrogate combines with an immediately following `\uDC00`…`\uDFFF`.
                    if i + 6 <= inner.count, inner[i] == 0x5C, inner[i + 1] == 0x75, let low = hex4(inner, i + 2),
                        (0xDC00...0xDFFF).contains(low)
                    {
                        scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                        i += 6
                    } else {
                        scalar = 0xFFFD
                    }
                } else if (0xDC00...0xDFFF).contains(unit) {
                    scalar = 0xFFFD
                }
                appendUTF8(Unicode.Scalar(scalar) ?? "\u{FFFD}", to: &out)
            default:
                return nil
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hex4(_ buffer: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt16? {
        guard at + 4 <= buffer.count else { return nil }
        var value: UInt16 = 0
        for k in 0..<4 {
            let c = buffer[at + k]
            let digit: UInt8
            switch c {
            case 0x30...0x39: digit = c - 0x30
            case 0x41...0x46: digit = c - 0x41 + 10
            case 0x61...0x66: digit = c - 0x61 + 10
            default: return nil
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    private static func appendUTF8(_ scalar: Unicode.Scalar, to out: inout [UInt8]) {
        UTF8.encode(scalar) { out.append($0) }
    }
}
