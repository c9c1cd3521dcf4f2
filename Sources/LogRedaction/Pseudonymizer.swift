/// Maps raw identifiers to keyed pseudonyms: `kind + "_" + hex(HMAC-SHA256(K, kind ‖ 0x00 ‖ value))[0..<16]`.
///
/// Without the key, a pseudonym cannot be recomputed from a list of candidate ids (unlike an unkeyed
/// hash). It does not store or look up mappings, and never logs. Printing it shows only the key id.
/// Concurrency: immutable after init; share one instance across threads.
public struct Pseudonymizer: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The shortest key accepted, in bytes.
    public static let minimumKeyLength = 32
    /// Hex characters kept from the MAC: 16 = 64 bits.
    public static let pseudonymHexLength = 16

    private let mac: HMACSHA256
    /// First 8 hex of SHA-256(K): safe to log at startup so operators can tell which key made a log.
    public let keyID: String

    /// Throws `PseudonymKeyError` with reason `key_too_short` for keys under 32 bytes.
    public init(key: [UInt8]) throws {
        guard key.count >= Self.minimumKeyLength else {
            throw PseudonymKeyError(.keyTooShort, detail: "pseudonym key has \(key.count) bytes; need at least 32")
        }
        self.mac = HMACSHA256(key: key)
        self.keyID = String(Hex.encode(SHA256.hash(key)).prefix(8))
    }

    /// The pseudonym of `value` in domain `kind`, e.g. `acct_5214f4a56a0984dd`.
    public func pseudonym(_ kind: PseudonymKind, _ value: String) -> String {
        var message = [UInt8]()
        message.reserveCapacity(kind.rawValue.utf8.count + 1 + value.utf8.count)
        message.append(contentsOf: kind.rawValue.utf8)
        message.append(0)
        message.append(contentsOf: value.utf8)
        let digest = mac.authenticate(message)
        return kind.rawValue + "_" + Hex.encode(digest.prefix(Self.pseudonymHexLength / 2))
    }

    public var description: String { "Pseudonymizer(keyID: \(keyID))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["keyID": keyID], displayStyle: .struct) }
}
