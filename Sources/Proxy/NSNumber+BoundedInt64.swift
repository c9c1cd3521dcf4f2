import Foundation

extension NSNumber {
    /// The number as an `Int64` when it is finite and within ±9·10¹⁸, else nil. `int64Value` alone turns
    /// `1e30` into `Int64.min`, and a time that far out overflowed the arithmetic that reads it
    /// (`now - createdAt`, `expiresAt - skew`): a trap from one odd number in a token, `auth.json` or a state
    /// file. The bound leaves room for any sum with a present-day clock. Fractions are truncated, as before.
    var boundedInt64: Int64? {
        let value = doubleValue
        guard value.isFinite, abs(value) < 9e18 else { return nil }
        return int64Value
    }
}
