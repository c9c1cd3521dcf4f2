/// One JSON value found by a scan: its raw bytes and kind, with cheap typed readers.
///
/// `bytes` is a slice of the scanned array (same indices, shared storage, no copy). The readers convert only
/// this value; they return nil when the kind does not match instead of coercing (`"1"` is not an int).
/// It does not own or validate the document beyond what the scan that produced it checked.
/// Concurrency: an immutable value; `Sendable`.
public struct JSONValue: Sendable, Equatable {
    public let bytes: ArraySlice<UInt8>
    public let kind: JSONValueKind

    public init(bytes: ArraySlice<UInt8>, kind: JSONValueKind) {
        self.bytes = bytes
        self.kind = kind
    }

    /// The byte range of this value in the scanned array.
    public var range: Range<Int> { bytes.indices }

    /// The decoded string (escapes, `\uXXXX` and surrogate pairs resolved); nil if not a string or malformed.
    public var string: String? {
        guard kind == .string else { return nil }
        return JSONStringDecoder.decode(bytes)
    }

    public var bool: Bool? {
        guard kind == .bool else { return nil }
        return bytes.first == 0x74
    }

    public var isNull: Bool { kind == .null }

    /// The value as an `Int` if it is an integer literal (no fraction or exponent) that fits; else nil.
    public var int: Int? {
        guard kind == .number else { return nil }
        var i = bytes.startIndex
        let negative = bytes[i] == 0x2D
        if negative { i += 1 }
        var value = 0
        while i < bytes.endIndex {
            let digit = bytes[i] &- 0x30
            guard digit < 10 else { return nil }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) =
                negative
                ? times.subtractingReportingOverflow(Int(digit)) : times.addingReportingOverflow(Int(digit))
            guard !o1, !o2 else { return nil }
            value = next
            i += 1
        }
        return value
    }

    /// Any JSON number as a `Double`.
    public var double: Double? {
        guard kind == .number else { return nil }
        return Double(String(decoding: bytes, as: UTF8.self))
    }

    /// The members of this value if it is an object (scanned now, nested values validated).
    public func object() throws(JSONScanError) -> JSONTopLevel? {
        guard kind == .object else { return nil }
        return try JSONTopLevel.scan(object: bytes)
    }

    /// The element values of this value if it is an array.
    public func elements() throws(JSONScanError) -> [JSONValue]? {
        guard kind == .array else { return nil }
        return try JSONArray.values(of: bytes)
    }
}
