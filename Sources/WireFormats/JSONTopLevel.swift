/// The members of one JSON object, found without parsing the values.
///
/// `scan` walks the object once with `JSONByteScanner`: every member's key is decoded (so an escaped key such as
/// `"mod\u0065l"` is found as `model`) and every value is skipped — validated, but not built — and recorded as a
/// byte range and kind. Readers then convert only the members asked for. Used on every request body, so a 1 MB
/// body costs one memchr-speed pass, not a `JSONSerialization` tree.
///
/// Works on any object: a whole document (`scan(_:)`, whitespace around it allowed, nothing else) or an object
/// slice of a larger document (`scan(object:)`, e.g. a `JSONValue.bytes`); ranges always use the underlying
/// array's indices. Duplicate keys are kept in `fields`; readers return the **last** one, as most JSON parsers
/// (and so the upstream) do. It does not check string contents (see `JSONByteScanner`).
/// Concurrency: an immutable value; `Sendable`.
public struct JSONTopLevel: Sendable {
    /// One member of the object.
    public struct Field: Sendable, Equatable {
        /// The decoded key.
        public let key: String
        /// The key token, quotes included.
        public let keyRange: Range<Int>
        /// The value's bytes, without surrounding whitespace.
        public let valueRange: Range<Int>
        public let kind: JSONValueKind
    }

    /// The scanned bytes (the whole input, surrounding whitespace included).
    public let bytes: ArraySlice<UInt8>
    /// Members in document order, duplicates included.
    public let fields: [Field]
    /// Index of the opening `{`.
    public let openBrace: Int
    /// Index of the closing `}`.
    public let closeBrace: Int
    /// When the scan was asked to count them (`scan(_:countingReasoningWithoutContent:)`), the objects at any depth
    /// whose `type` is `"reasoning"` and whose `encrypted_content` is absent or `null`, keys and value matched as
    /// they are spelled (an escaped spelling is not counted); nil otherwise. A request body whose count is 0 holds
    /// no reasoning item the upstream could only look up by id, learnt from the one pass every body gets.
    public let reasoningWithoutContent: Int?

    /// Scans a whole document that must be one JSON object.
    public static func scan(_ bytes: [UInt8]) throws(JSONScanError) -> JSONTopLevel {
        try scan(object: bytes[...])
    }

    /// Scans a whole document that must be one JSON object, counting `reasoningWithoutContent` on the way.
    public static func scan(
        _ bytes: [UInt8],
        countingReasoningWithoutContent: Bool
    ) throws(JSONScanError) -> JSONTopLevel {
        try scan(object: bytes[...], countingReasoningWithoutContent: countingReasoningWithoutContent)
    }

    /// Scans an object held in a slice; only whitespace may surround it.
    public static func scan(
        object bytes: ArraySlice<UInt8>,
        countingReasoningWithoutContent: Bool = false
    ) throws(JSONScanError) -> JSONTopLevel {
        let offset = bytes.startIndex
        var count = 0
        let result: Result<(fields: [Field], open: Int, close: Int), JSONScanError> = bytes.withUnsafeBufferPointer {
            buffer in
            withUnsafeMutablePointer(to: &count) { counter in
                scanFields(buffer, offset, countingReasoningWithoutContent ? counter : nil)
            }
        }
        let scanned = try result.get()
        return JSONTopLevel(
            bytes: bytes,
            fields: scanned.fields,
            openBrace: scanned.open,
            closeBrace: scanned.close,
            reasoningWithoutContent: countingReasoningWithoutContent ? count : nil
        )
    }

    private static func scanFields(
        _ buffer: UnsafeBufferPointer<UInt8>,
        _ offset: Int,
        _ counter: UnsafeMutablePointer<Int>?
    ) -> Result<(fields: [Field], open: Int, close: Int), JSONScanError> {
        let scanner = JSONByteScanner(buffer, indexOffset: offset, reasoningWithoutContent: counter)
        do throws(JSONScanError) {
            let open = scanner.skipWhitespace(0)
            guard open < scanner.end else { throw scanner.error(.emptyInput, open) }
            guard buffer[open] == 0x7B else { throw scanner.error(.notAnObject, open) }
            var fields: [Field] = []
            // One allocation for most objects instead of one per doubling (events have up to ~25 members).
            fields.reserveCapacity(16)
            let end = try scanner.scanObject(open, depth: 1) { (key, value, kind) throws(JSONScanError) in
                let token = UnsafeBufferPointer(rebasing: buffer[key])
                guard let name = JSONStringDecoder.decode(token) else {
                    throw scanner.error(.invalidEscape, key.lowerBound)
                }
                fields.append(
                    Field(
                        key: name,
                        keyRange: (key.lowerBound + offset)..<(key.upperBound + offset),
                        valueRange: (value.lowerBound + offset)..<(value.upperBound + offset),
                        kind: kind
                    )
                )
            }
            let rest = scanner.skipWhitespace(end)
            guard rest == scanner.end else { throw scanner.error(.trailingGarbage, rest) }
            return .success((fields, open + offset, end - 1 + offset))
        } catch {
            return .failure(error)
        }
    }

    /// The last member with this key.
    public func field(forKey key: String) -> Field? {
        fields.last { $0.key == key }
    }

    public func hasKey(_ key: String) -> Bool { field(forKey: key) != nil }

    /// The value of the last member with this key.
    public func value(forKey key: String) -> JSONValue? {
        guard let field = field(forKey: key) else { return nil }
        return JSONValue(bytes: bytes[field.valueRange], kind: field.kind)
    }

    /// The raw bytes of the value (a slice sharing the scanned storage).
    public func rawValue(forKey key: String) -> ArraySlice<UInt8>? { value(forKey: key)?.bytes }

    public func kind(forKey key: String) -> JSONValueKind? { field(forKey: key)?.kind }

    /// The decoded string value; nil if absent, not a string, or malformed.
    public func string(forKey key: String) -> String? { value(forKey: key)?.string }

    public func bool(forKey key: String) -> Bool? { value(forKey: key)?.bool }

    /// An integer literal that fits in `Int`; nil otherwise.
    public func int(forKey key: String) -> Int? { value(forKey: key)?.int }

    public func double(forKey key: String) -> Double? { value(forKey: key)?.double }

    /// The members of a nested object value (scanned on demand).
    public func object(forKey key: String) throws(JSONScanError) -> JSONTopLevel? {
        try value(forKey: key)?.object()
    }
}
