import Glibc

/// How long an upstream answer asks the client to wait: OpenAI's `retry-after-ms`, else `retry-after` as
/// delta-seconds or an IMF-fixdate (RFC 9110 §10.2.3, `Sun, 06 Nov 1994 08:49:37 GMT`). The pool cools a 429
/// account that long when the answer names no quota reset of its own (docs/accounts.md).
///
/// Pure: `now` (unix seconds) is passed in. A value that is not a plain decimal number, or a date that does not
/// parse, counts as absent; a date in the past reads 0. `retry-after-ms` wins when both are present, as in the
/// OpenAI SDKs.
enum RetryAfter {
    static func seconds(headers: [(String, String)], now: Double) -> Double? {
        var milliseconds: Double?
        var plain: Double?
        for (name, value) in headers {
            if name.utf8.equalsFolded("retry-after-ms".utf8) {
                milliseconds = number(value).map { $0 / 1000 }
            } else if name.utf8.equalsFolded("retry-after".utf8) {
                plain = number(value) ?? date(value).map { max(0, $0 - now) }
            }
        }
        return milliseconds ?? plain
    }

    /// Decimal digits with at most one `.` among them, between optional spaces or tabs (`Double.init` alone
    /// would also take `nan`, `inf`, `-5` and hexadecimal).
    private static func number(_ value: String) -> Double? {
        let text = value.utf8[...].trimmingBlanks
        let digits = text.filter { $0 != UInt8(ascii: ".") }
        guard !digits.isEmpty, text.count - digits.count <= 1,
            digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let v = Double(Substring(text)), v.isFinite
        else { return nil }
        return v
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// An IMF-fixdate as unix seconds, nil for anything else (the obsolete RFC 850 and asctime forms included:
    /// no upstream of ours sends them).
    static func date(_ value: String) -> Double? {
        let parts = value.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 6, parts[0].count == 4, parts[0].hasSuffix(","), parts[5] == "GMT",
            let day = Int32(parts[1]), parts[1].count == 2, (1...31).contains(day),
            let month = months.firstIndex(where: { $0 == parts[2] }),
            let year = Int32(parts[3]), parts[3].count == 4
        else { return nil }
        let clock = parts[4].split(separator: ":", omittingEmptySubsequences: false)
        guard clock.count == 3, clock.allSatisfy({ $0.count == 2 }),
            let hour = Int32(clock[0]), let minute = Int32(clock[1]), let second = Int32(clock[2]),
            (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
        else { return nil }
        var t = tm()
        t.tm_year = year - 1900
        t.tm_mon = Int32(month)
        t.tm_mday = day
        t.tm_hour = hour
        t.tm_min = minute
        t.tm_sec = second
        let seconds = timegm(&t)
        return seconds == -1 ? nil : Double(seconds)
    }
}
