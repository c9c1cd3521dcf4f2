/// A W3C Trace Context position: trace id, span id, flags, and the opaque `tracestate` passed along.
///
/// Ids are stored as lowercase hex (32 and 16 characters), the form every record and header uses.
/// `init?(traceparent:tracestate:)` follows W3C rules: lowercase only, version `ff` invalid, all-zero
/// ids invalid, and a version above `00` parses its first 55 characters when `-` or the end follows.
/// An invalid header yields nil: callers then start a new root and drop `tracestate` with it.
/// It does not sample, export or record anything; `Span` does the recording.
/// Concurrency: an immutable value.
public struct TraceContext: Sendable, Hashable, CustomStringConvertible {
    /// 32 lowercase hex characters (16 bytes), never all zero.
    public let traceID: String
    /// 16 lowercase hex characters (8 bytes), never all zero.
    public let spanID: String
    /// Trace flags: bit 0x01 sampled, 0x02 random trace id.
    public let flags: UInt8
    /// The incoming `tracestate` header, passed on unchanged; never parsed.
    public let tracestate: String?

    public static let sampledFlag: UInt8 = 0x01
    public static let randomTraceIDFlag: UInt8 = 0x02

    /// Builds a context from already validated ids; nil when an id is malformed or all zero.
    public init?(traceID: String, spanID: String, flags: UInt8, tracestate: String? = nil) {
        guard Self.isValidID(Array(traceID.utf8), length: 32), Self.isValidID(Array(spanID.utf8), length: 16) else {
            return nil
        }
        self.traceID = traceID
        self.spanID = spanID
        self.flags = flags
        self.tracestate = tracestate
    }

    private init(unchecked traceID: String, spanID: String, flags: UInt8, tracestate: String?) {
        self.traceID = traceID
        self.spanID = spanID
        self.flags = flags
        self.tracestate = tracestate
    }

    /// Parses a `traceparent` header. Leading and trailing spaces or tabs (HTTP OWS) are ignored.
    public init?(traceparent header: String, tracestate: String? = nil) {
        var utf8 = Array(header.utf8)
        while let last = utf8.last, last == 0x20 || last == 0x09 { utf8.removeLast() }
        let firstNonBlank = utf8.firstIndex { $0 != 0x20 && $0 != 0x09 } ?? utf8.count
        utf8.removeFirst(firstNonBlank)
        guard utf8.count >= 55, let version = Self.hexByte(utf8[0], utf8[1]), version != 0xff else { return nil }
        if version == 0 {
            guard utf8.count == 55 else { return nil }
        } else if utf8.count > 55, utf8[55] != UInt8(ascii: "-") {
            return nil
        }
        guard utf8[2] == UInt8(ascii: "-"), utf8[35] == UInt8(ascii: "-"), utf8[52] == UInt8(ascii: "-"),
            let flags = Self.hexByte(utf8[53], utf8[54])
        else { return nil }
        let traceID = Array(utf8[3..<35])
        let spanID = Array(utf8[36..<52])
        guard Self.isValidID(traceID, length: 32), Self.isValidID(spanID, length: 16) else { return nil }
        self.init(
            unchecked: String(decoding: traceID, as: UTF8.self),
            spanID: String(decoding: spanID, as: UTF8.self),
            flags: flags,
            tracestate: tracestate
        )
    }

    /// `00-<trace-id>-<span-id>-<flags>`, the header to send downstream of this position.
    public var traceparent: String { "00-\(traceID)-\(spanID)-\(flagsHex)" }

    /// Two lowercase hex characters, as in records (`"trace_flags":"01"`).
    public var flagsHex: String { Hex.encode([flags]) }

    public var isSampled: Bool { flags & Self.sampledFlag != 0 }

    public var description: String { traceparent }

    /// A new trace with random ids; flags sampled and random-trace-id.
    public static func newRoot() -> TraceContext {
        var generator = BufferedSystemRandom()
        return newRoot(using: &generator)
    }

    /// A new trace from `generator` (tests pass a seeded one for golden output).
    public static func newRoot(using generator: inout some RandomNumberGenerator) -> TraceContext {
        TraceContext(
            unchecked: randomID(bytes: 16, using: &generator),
            spanID: randomID(bytes: 8, using: &generator),
            flags: sampledFlag | randomTraceIDFlag,
            tracestate: nil
        )
    }

    /// The same trace with a new span id; flags and `tracestate` are kept.
    public func child() -> TraceContext {
        var generator = BufferedSystemRandom()
        return child(using: &generator)
    }

    public func child(using generator: inout some RandomNumberGenerator) -> TraceContext {
        TraceContext(
            unchecked: traceID,
            spanID: Self.randomID(bytes: 8, using: &generator),
            flags: flags,
            tracestate: tracestate
        )
    }

    private static func randomID(bytes count: Int, using generator: inout some RandomNumberGenerator) -> String {
        while true {
            var bytes = [UInt8]()
            while bytes.count < count {
                let word = generator.next()
                for shift in stride(from: 0, to: 64, by: 8) where bytes.count < count {
                    bytes.append(UInt8(truncatingIfNeeded: word >> shift))
                }
            }
            if bytes.contains(where: { $0 != 0 }) { return Hex.encode(bytes) }  // all-zero ids are invalid.
        }
    }

    private static func isValidID(_ utf8: [UInt8], length: Int) -> Bool {
        guard utf8.count == length else { return false }
        var nonZero = false
        for char in utf8 {
            guard isLowerHex(char) else { return false }
            if char != UInt8(ascii: "0") { nonZero = true }
        }
        return nonZero
    }

    private static func isLowerHex(_ char: UInt8) -> Bool {
        (char >= UInt8(ascii: "0") && char <= UInt8(ascii: "9"))
            || (char >= UInt8(ascii: "a") && char <= UInt8(ascii: "f"))
    }

    private static func hexByte(_ high: UInt8, _ low: UInt8) -> UInt8? {
        guard isLowerHex(high), isLowerHex(low), let h = Hex.value(high), let l = Hex.value(low) else { return nil }
        return h << 4 | l
    }
}
