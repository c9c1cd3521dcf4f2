#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The validating skip-scanner every JSON helper in this module is built on.
///
/// It walks bytes, never builds values: strings are skipped with `memchr` for the next quote (then the run of
/// backslashes before it decides whether it is escaped), so the bulk of a Codex body (instructions, message
/// text, encrypted reasoning) is crossed at memory speed, and only the few structural bytes between strings are
/// looked at one by one. Everything outside strings is checked against the JSON grammar (balance, commas,
/// colons, literals, numbers, nesting depth).
///
/// It does not check string contents: raw control characters, unknown escapes and invalid UTF-8 inside strings
/// are accepted here (string *decoding* rejects bad escapes). Positions are offsets from `base`.
/// Concurrency: a transient view over borrowed memory; only valid inside the `withUnsafeBufferPointer` call
/// that created it.
struct JSONByteScanner {
    /// Deeper nesting is rejected, so hostile input cannot exhaust the stack.
    static let maxDepth = 512

    let base: UnsafePointer<UInt8>
    let end: Int
    /// Added to every reported offset so errors and ranges use the caller's (slice) indices.
    let indexOffset: Int
    /// When set, every object walked whose `type` member is `"reasoning"` and whose `encrypted_content` member is
    /// absent or `null` adds one here (see `JSONTopLevel.reasoningWithoutContent`). Matched as raw tokens, so the
    /// count costs two length compares per member, not another pass over the body.
    let reasoningWithoutContent: UnsafeMutablePointer<Int>?

    init(
        _ buffer: UnsafeBufferPointer<UInt8>,
        indexOffset: Int,
        reasoningWithoutContent: UnsafeMutablePointer<Int>? = nil
    ) {
        // An empty buffer may have a nil base; any valid pointer works because `end` is 0.
        self.base = buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!
        self.end = buffer.count
        self.indexOffset = indexOffset
        self.reasoningWithoutContent = reasoningWithoutContent
    }

    func error(_ reason: JSONScanError.Reason, _ at: Int) -> JSONScanError {
        JSONScanError(reason, offset: at + indexOffset)
    }

    @inline(__always)
    func skipWhitespace(_ start: Int) -> Int {
        var i = start
        while i < end {
            let b = base[i]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { break }
            i += 1
        }
        return i
    }

    /// `start` is at the opening quote; returns the index just past the closing quote.
    func skipString(_ start: Int) throws(JSONScanError) -> Int {
        var i = start + 1
        let raw = UnsafeRawPointer(base)
        while i < end {
            guard let hit = memchr(raw + i, 0x22, end - i) else { break }
            let quote = raw.distance(to: UnsafeRawPointer(hit))
            var j = quote - 1
            // The opening quote stops this walk, so it never leaves the string.
            while base[j] == 0x5C { j -= 1 }
            if (quote - 1 - j) % 2 == 0 { return quote + 1 }
            i = quote + 1
        }
        throw error(.unterminatedString, start)
    }

    /// Skips the value starting at `start` (no leading whitespace); returns its end and kind.
    func skipValue(_ start: Int, depth: Int) throws(JSONScanError) -> (end: Int, kind: JSONValueKind) {
        guard start < end else { throw error(.unexpectedEnd, start) }
        switch base[start] {
        case 0x22: return (try skipString(start), .string)
        case 0x7B: return (try scanObject(start, depth: depth + 1) { _, _, _ in }, .object)
        case 0x5B: return (try scanArray(start, depth: depth + 1) { _, _ in }, .array)
        case 0x74: return (try literal(start, "true"), .bool)
        case 0x66: return (try literal(start, "false"), .bool)
        case 0x6E: return (try literal(start, "null"), .null)
        case 0x2D, 0x30...0x39: return (try skipNumber(start), .number)
        default: throw error(.unexpectedByte, start)
        }
    }

    /// Walks the object whose `{` is at `start`, reporting each member's key range (quotes included), value range
    /// and kind in order. Returns the index just past the `}`.
    func scanObject(
        _ start: Int,
        depth: Int,
        _ onField: (Range<Int>, Range<Int>, JSONValueKind) throws(JSONScanError) -> Void
    ) throws(JSONScanError) -> Int {
        guard depth <= Self.maxDepth else { throw error(.tooDeep, start) }
        var i = skipWhitespace(start + 1)
        if i < end && base[i] == 0x7D { return i + 1 }
        var isReasoning = false
        var hasContent = false
        while true {
            guard i < end else { throw error(.unexpectedEnd, i) }
            guard base[i] == 0x22 else { throw error(.unexpectedByte, i) }
            let keyEnd = try skipString(i)
            let keyStart = i
            i = skipWhitespace(keyEnd)
            guard i < end else { throw error(.unexpectedEnd, i) }
            guard base[i] == 0x3A else { throw error(.unexpectedByte, i) }
            i = skipWhitespace(i + 1)
            let valueStart = i
            let (valueEnd, kind) = try skipValue(i, depth: depth)
            try onField(keyStart..<keyEnd, valueStart..<valueEnd, kind)
            if reasoningWithoutContent != nil {
                // The last of duplicate members decides, as readers (`JSONTopLevel.value(forKey:)`) pick it.
                if matches(keyStart, keyEnd, Self.typeKey) {
                    isReasoning = kind == .string && matches(valueStart, valueEnd, Self.reasoningValue)
                } else if matches(keyStart, keyEnd, Self.encryptedContentKey) {
                    hasContent = kind != .null
                }
            }
            i = skipWhitespace(valueEnd)
            guard i < end else { throw error(.unexpectedEnd, i) }
            switch base[i] {
            case 0x2C: i = skipWhitespace(i + 1)
            case 0x7D:
                if isReasoning && !hasContent, let count = reasoningWithoutContent { count.pointee += 1 }
                return i + 1
            default: throw error(.unexpectedByte, i)
            }
        }
    }

    private static let typeKey: StaticString = #""type""#
    private static let reasoningValue: StaticString = #""reasoning""#
    private static let encryptedContentKey: StaticString = #""encrypted_content""#

    /// Whether the token at `start..<tokenEnd` is `token`, byte for byte (an escaped spelling is not matched).
    @inline(__always)
    private func matches(_ start: Int, _ tokenEnd: Int, _ token: StaticString) -> Bool {
        tokenEnd - start == token.utf8CodeUnitCount && memcmp(base + start, token.utf8Start, tokenEnd - start) == 0
    }

    /// Walks the array whose `[` is at `start`, reporting each element's range and kind. Returns the index just
    /// past the `]`.
    func scanArray(
        _ start: Int,
        depth: Int,
        _ onElement: (Range<Int>, JSONValueKind) -> Void
    ) throws(JSONScanError) -> Int {
        guard depth <= Self.maxDepth else { throw error(.tooDeep, start) }
        var i = skipWhitespace(start + 1)
        if i < end && base[i] == 0x5D { return i + 1 }
        while true {
            let (valueEnd, kind) = try skipValue(i, depth: depth)
            onElement(i..<valueEnd, kind)
            i = skipWhitespace(valueEnd)
            guard i < end else { throw error(.unexpectedEnd, i) }
            switch base[i] {
            case 0x2C: i = skipWhitespace(i + 1)
            case 0x5D: return i + 1
            default: throw error(.unexpectedByte, i)
            }
        }
    }

    private func literal(_ start: Int, _ word: StaticString) throws(JSONScanError) -> Int {
        let count = word.utf8CodeUnitCount
        guard start + count <= end else { throw error(.invalidLiteral, start) }
        let wordBytes = word.utf8Start
        for k in 0..<count where base[start + k] != wordBytes[k] { throw error(.invalidLiteral, start) }
        return start + count
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private func skipNumber(_ start: Int) throws(JSONScanError) -> Int {
        var i = start
        if base[i] == 0x2D { i += 1 }
        guard i < end, isDigit(base[i]) else { throw error(.invalidNumber, start) }
        if base[i] == 0x30 {
            i += 1
        } else {
            while i < end && isDigit(base[i]) { i += 1 }
        }
        if i < end && base[i] == 0x2E {
            i += 1
            guard i < end, isDigit(base[i]) else { throw error(.invalidNumber, start) }
            while i < end && isDigit(base[i]) { i += 1 }
        }
        if i < end && (base[i] == 0x65 || base[i] == 0x45) {
            i += 1
            if i < end && (base[i] == 0x2B || base[i] == 0x2D) { i += 1 }
            guard i < end, isDigit(base[i]) else { throw error(.invalidNumber, start) }
            while i < end && isDigit(base[i]) { i += 1 }
        }
        return i
    }

    @inline(__always)
    private func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }
}
