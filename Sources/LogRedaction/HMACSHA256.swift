/// HMAC-SHA256 (RFC 2104 / RFC 4231), hand-written on top of `SHA256`.
///
/// An instance holds the hash states after absorbing the inner and outer pads, so a keyed instance
/// computes each MAC with two fewer block compressions; pseudonyms on the request path use that.
/// It does not compare MACs: use `constantTimeEquals(_:_:)` for that.
/// Prints and reflects as `HMACSHA256(REDACTED)`: the pad states are key material.
/// Concurrency: an immutable value; share freely.
public struct HMACSHA256: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public static let macLength = SHA256.digestLength

    private let inner: SHA256
    private let outer: SHA256

    public init(key: [UInt8]) {
        var block = key.count > SHA256.blockLength ? SHA256.hash(key) : key
        block.append(contentsOf: repeatElement(0, count: SHA256.blockLength - block.count))
        var inner = SHA256()
        inner.update(block.map { $0 ^ 0x36 })
        var outer = SHA256()
        outer.update(block.map { $0 ^ 0x5c })
        self.inner = inner
        self.outer = outer
    }

    /// The 32-byte MAC of `message` under this instance's key.
    public func authenticate(_ message: some Collection<UInt8>) -> [UInt8] {
        var innerHash = inner
        innerHash.update(message)
        var outerHash = outer
        outerHash.update(innerHash.finalize())
        return outerHash.finalize()
    }

    /// The 32-byte MAC of `message` under `key`, in one call.
    public static func authenticate(key: [UInt8], message: some Collection<UInt8>) -> [UInt8] {
        HMACSHA256(key: key).authenticate(message)
    }

    public var description: String { "HMACSHA256(REDACTED)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
