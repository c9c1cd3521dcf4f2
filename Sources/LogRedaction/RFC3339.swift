import Foundation

/// Formats instants as RFC 3339 UTC with microseconds (`2026-08-21T10:15:02.123456Z`) without
/// `DateFormatter` (which is slow and locale-sensitive).
///
/// Pure; the civil-date conversion is Howard Hinnant's `civil_from_days`.
public enum RFC3339 {
    public static func string(_ date: Date) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(27)
        append(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    static func append(_ date: Date, to bytes: inout [UInt8]) {
        // Rounded, not truncated: 0.123456 may be stored as 0.12345599….
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let seconds = floorDivide(micros, 1_000_000)
        let fraction = micros - seconds * 1_000_000
        let days = floorDivide(seconds, 86_400)
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        digits(year, 4, &bytes)
        bytes.append(UInt8(ascii: "-"))
        digits(month, 2, &bytes)
        bytes.append(UInt8(ascii: "-"))
        digits(day, 2, &bytes)
        bytes.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3600, 2, &bytes)
        bytes.append(UInt8(ascii: ":"))
        digits(secondOfDay / 60 % 60, 2, &bytes)
        bytes.append(UInt8(ascii: ":"))
        digits(secondOfDay % 60, 2, &bytes)
        bytes.append(UInt8(ascii: "."))
        digits(fraction, 6, &bytes)
        bytes.append(UInt8(ascii: "Z"))
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let quotient = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
    }

    private static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Zero-padded decimal of a non-negative value (years before 0 are not representable in RFC 3339).
    private static func digits(_ value: Int64, _ width: Int, _ bytes: inout [UInt8]) {
        var value = max(0, value)
        let start = bytes.count
        for _ in 0..<width {
            bytes.append(UInt8(ascii: "0") + UInt8(value % 10))
            value /= 10
        }
        bytes[start...].reverse()
    }
}
