/// Holds a credential from the moment it is parsed, so it cannot reach a log line by accident.
///
/// Every textual form is `REDACTED`: `print`, string interpolation, `String(describing:)`,
/// `String(reflecting:)`, `dump` and `Mirror` (no children), also when nested in arrays, optionals or
/// structs. `reveal()` is the only way in; grep for it to audit every use. Deliberately not
/// `Encodable`, `Equatable` or `Hashable`: encoding would print it, and comparisons of credentials
/// belong in `constantTimeEquals(_:_:)` on revealed bytes.
/// Concurrency: `Sendable` when `Value` is; otherwise as the value it wraps.
public struct Secret<Value>: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let value: Value

    public init(_ value: Value) { self.value = value }

    public var description: String { "REDACTED" }
    public var debugDescription: String { "REDACTED" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

    /// The wrapped credential. Each call site is a place where the secret leaves its box.
    public func reveal() -> Value { value }
}

extension Secret: Sendable where Value: Sendable {}
