/// What an upstream answered instead of `101 Switching Protocols`: its status, headers and (bounded) body.
///
/// Read like an HTTP error answer, so a refused upgrade cools its account exactly as the same answer over HTTP
/// would: a 429's `resets_at`, quota reset headers and `retry-after` included (recovery-lessons.md: CPA #5270, a
/// handshake 429 that lost its reset). Concurrency: an immutable value.
public struct UpstreamHandshakeRefusal: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    /// The most of a refusal's body that is read: an error object, never a page.
    static let maxBodyBytes = 64 * 1024
    /// The longest wait for the rest of a refusal's body once its head arrived.
    static let bodySeconds = 1.0
}
