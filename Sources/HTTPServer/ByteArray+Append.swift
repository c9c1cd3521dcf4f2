/// Appending helpers for `[UInt8]` output buffers: no intermediate `String`s, no per-byte overhead where a
/// `memcpy` will do.
extension Array where Element == UInt8 {
    /// Appends raw bytes with one bulk copy.
    @inline(__always)
    mutating func appendRaw(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        append(contentsOf: UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: bytes.count))
    }

    @inline(__always)
    mutating func appendASCII(_ text: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    @inline(__always)
    mutating func appendString(_ text: String) {
        append(contentsOf: text.utf8)
    }

    /// Appends a non-negative integer in decimal.
    mutating func appendDecimal(_ value: Int) {
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            append(UInt8(truncatingIfNeeded: 48 + rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// Appends a non-negative integer in lowercase hexadecimal (chunk sizes).
    mutating func appendHex(_ value: Int) {
        let hex: StaticString = "0123456789abcdef"
        var shift = (Int.bitWidth - value.leadingZeroBitCount + 3) / 4 * 4 - 4
        if shift < 0 { shift = 0 }
        while shift >= 0 {
            append(hex.utf8Start[(value >> shift) & 0xF])
            shift -= 4
        }
    }
}

enum ASCII {
    static let cr: UInt8 = 13
    static let lf: UInt8 = 10
    static let space: UInt8 = 32
    static let tab: UInt8 = 9
    static let colon: UInt8 = 58
    static let semicolon: UInt8 = 59

    /// RFC 9110 `tchar`.
    @inline(__always)
    static func isTokenChar(_ c: UInt8) -> Bool {
        switch c {
        case 0x61...0x7A, 0x41...0x5A, 0x30...0x39: true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: true
        default: false
        }
    }

    /// Field-value bytes: HTAB, SP, VCHAR and obs-text; no other control characters.
    @inline(__always)
    static func isFieldValueChar(_ c: UInt8) -> Bool {
        c == tab || (c >= 0x20 && c != 0x7F)
    }

    @inline(__always)
    static func hexValue(_ c: UInt8) -> Int? {
        switch c {
        case 0x30...0x39: Int(c &- 0x30)
        case 0x61...0x66: Int(c &- 0x61 &+ 10)
        case 0x41...0x46: Int(c &- 0x41 &+ 10)
        default: nil
        }
    }
}
