#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A count, over a JSON body's raw bytes, of the items that may carry sealed content and of the contents they
/// carry: the strings `"reasoning"` and `"compaction"` as values (each such item names its `type` with one), and
/// the keys `"encrypted_content"` whose value is a string.
///
/// It gates `EncryptedReasoning.withoutReferenceOnly`, which runs on every request sent to a ChatGPT account: a
/// reasoning item without content (`EncryptedReasoning.isReferenceOnly`) leaves fewer contents than items. Codex asks
/// for the content on every turn, so its bodies hold none, and they pay this walk (`memchr` from quote to quote,
/// about one `JSONTopLevel` scan: ≈ 0.1 ms for a 1 MB history) instead of a parse of every input item (three scans).
///
/// It errs towards "may lack" (the parse then finds nothing): a tool schema or a message may name `"reasoning"` as a
/// value. It could err the other way only on an `encrypted_content` string key outside a reasoning or compaction
/// item, or on a type spelled with escapes (`"reason\u0069ng"`), which no client sends. It does not check that
/// `bytes` is JSON: the proxy only sends bodies it has scanned.
/// Pure; a value.
struct SealedItemTally: Sendable {
    /// `"reasoning"` and `"compaction"` string values.
    var items = 0
    /// `"encrypted_content"` keys with a string value.
    var contents = 0

    /// Whether some reasoning or compaction item may come without its content.
    var someItemMayLackContent: Bool { items > contents }

    private static let reasoning = Array(#""reasoning""#.utf8)
    private static let compaction = Array(#""compaction""#.utf8)
    private static let encryptedContent = Array(#""encrypted_content""#.utf8)

    init(_ bytes: [UInt8]) {
        var items = 0
        var contents = 0
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let end = buffer.count
            var i = 0
            while i < end, let hit = memchr(base + i, 0x22, end - i) {
                let quote = UnsafeRawPointer(hit) - UnsafeRawPointer(base)
                i = quote + 1
                // One byte after the quote tells the three names apart; most quotes are rejected right there.
                guard i < end else { break }
                switch base[i] {
                case UInt8(ascii: "r"), UInt8(ascii: "c"):
                    let name = base[i] == UInt8(ascii: "r") ? Self.reasoning : Self.compaction
                    guard let after = Self.match(name, buffer, at: quote) else { continue }
                    if after >= end || base[after] != UInt8(ascii: ":") { items += 1 }
                case UInt8(ascii: "e"):
                    guard var after = Self.match(Self.encryptedContent, buffer, at: quote), after < end,
                        base[after] == UInt8(ascii: ":")
                    else { continue }
                    after = Self.skipWhitespace(buffer, from: after + 1)
                    if after < end, base[after] == 0x22 { contents += 1 }
                default:
                    continue
                }
            }
        }
        self.items = items
        self.contents = contents
    }

    /// Where the next non-whitespace byte stands after `name` when `name` (quotes included) is a whole JSON string
    /// at `quote`; nil otherwise. An opening quote behind an odd run of backslashes is an escaped one inside a
    /// string (`\"reasoning"` ends a message's text); the closing one is preceded by a letter, so never escaped.
    private static func match(_ name: [UInt8], _ buffer: UnsafeBufferPointer<UInt8>, at quote: Int) -> Int? {
        // The closing quote first: it turns away `"content"`, `"role"` and `"call_id"` without a compare.
        guard quote + name.count <= buffer.count, buffer[quote + name.count - 1] == 0x22,
            name.withUnsafeBufferPointer({ memcmp(buffer.baseAddress! + quote, $0.baseAddress!, name.count) == 0 })
        else { return nil }
        var j = quote - 1
        while j >= 0, buffer[j] == 0x5C { j -= 1 }
        guard (quote - 1 - j) % 2 == 0 else { return nil }
        return skipWhitespace(buffer, from: quote + name.count)
    }

    private static func skipWhitespace(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var i = start
        while i < buffer.count {
            switch buffer[i] {
            case 0x20, 0x0A, 0x0D, 0x09: i += 1
            default: return i
            }
        }
        return i
    }
}
