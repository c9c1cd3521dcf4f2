extension String {
    /// `lowercased()`, without building a new string when there is nothing to fold.
    ///
    /// For header names and tokens, folded on every request: upstreams (HTTP/2 always, the simulator too) and
    /// most clients send them lowercase already, and `lowercased()` allocates a copy of any name over 15 bytes
    /// (`x-codex-primary-used-percent`) even then. Anything outside lowercase ASCII goes through `lowercased()`,
    /// so the result is always the same as its.
    var foldedForHeaders: String {
        utf8.contains(where: { $0 >= 0x80 || ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z")) })
            ? lowercased() : self
    }

    /// Whether this `content-type` value's media type is `text/event-stream` (ASCII case-insensitive;
    /// parameters such as `; charset=utf-8` ignored). Byte work: Foundation's `contains` goes through
    /// `NSString`.
    var isEventStreamMediaType: Bool {
        utf8.prefix { $0 != UInt8(ascii: ";") }.trimmingBlanks.equalsFolded("text/event-stream".utf8)
    }

    /// RFC 9110 token characters only, and not empty: a header name that cannot smuggle a separator or a line.
    var isHTTPToken: Bool {
        !isEmpty
            && utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"):
                    return true
                default:
                    return "!#$%&'*+-.^_`|~".utf8.contains(byte)
                }
            }
    }

    /// No CR, LF or NUL: a header value that cannot end its line (bytes, not Characters: "\r\n" is one Character
    /// and would slip past a Character test).
    var isSafeHeaderValue: Bool { !utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) }
}

extension Substring.UTF8View {
    /// Without leading and trailing spaces and tabs (HTTP's optional whitespace around a value).
    var trimmingBlanks: Substring.UTF8View {
        var bytes = self
        while let f = bytes.first, f == UInt8(ascii: " ") || f == UInt8(ascii: "\t") { bytes = bytes.dropFirst() }
        while let l = bytes.last, l == UInt8(ascii: " ") || l == UInt8(ascii: "\t") { bytes = bytes.dropLast() }
        return bytes
    }
}

extension Collection<UInt8> {
    /// Whether these bytes spell `lowercase` (lowercase ASCII), ASCII letters compared case-insensitively.
    /// Byte work, for header names and tokens: nothing is lowercased into a new string.
    func equalsFolded(_ lowercase: some Collection<UInt8>) -> Bool {
        count == lowercase.count
            && zip(self, lowercase).allSatisfy { b, t in
                (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b | 0x20 : b) == t
            }
    }
}
