import LogRedaction

/// Tells one refresh token from another without keeping it: the first 16 bytes of an HMAC-SHA256 of the token
/// under a key drawn at random for each `TokenRefresher`, so `TokenRefreshBackoff` knows whether the login it holds
/// back is still the account's.
///
/// Keyed by a key that never leaves the process, and never written, logged or printed (`description` is constant):
/// it can be matched only against a token this process already holds. Not a pseudonym (`Pseudonymizer` makes
/// those, for logs), and not the configuration's `configFingerprint`, which is persisted.
/// Concurrency: a value.
struct RefreshTokenFingerprint: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    private let digest: [UInt8]

    init(_ token: Secret<String>, key: [UInt8]) {
        digest = Array(HMACSHA256.authenticate(key: key, message: Array(token.reveal().utf8)).prefix(16))
    }

    /// A fresh random key for `init`, from the kernel.
    static func makeKey() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    var description: String { "RefreshTokenFingerprint(REDACTED)" }
    var debugDescription: String { description }
}
