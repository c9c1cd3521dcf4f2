import HTTPServer
import LogRedaction

/// Decides whether a downstream request may use the proxy, and as which principal.
///
/// Pure. Keys are configured as SHA-256 digests; the presented key is hashed and compared with every
/// configured digest in constant time (no early exit on the first match either), so timing tells nothing
/// about which key or how much of it matched. With no keys configured every request is admitted as the
/// anonymous principal (the demo's mode); production configures keys.
/// Does not rate-limit and does not count: the caller records `sightline_client_auth_failures_total`.
struct ClientAuthenticator: Sendable {
    enum Outcome: Equatable, Sendable {
        /// `name` is the configured key name; the raw key never leaves this function.
        case admitted(principal: String)
        case rejected(reason: String)
    }

    let keys: [ProxyConfiguration.ClientKey]

    func authenticate(_ headers: HTTPHeaders) -> Outcome {
        guard !keys.isEmpty else { return .admitted(principal: "anonymous") }
        guard let presented = Self.presentedKey(headers) else { return .rejected(reason: "missing_key") }
        let digest = SHA256.hash(Array(presented.utf8))
        var matched: String?
        for key in keys where constantTimeEquals(key.sha256, digest) {
            if matched == nil { matched = key.name }
        }
        if let matched { return .admitted(principal: matched) }
        return .rejected(reason: "invalid_key")
    }

    /// `Authorization: Bearer <key>`, else `x-api-key` (what some SDKs send).
    static func presentedKey(_ headers: HTTPHeaders) -> String? {
        if let auth = headers["authorization"] {
            let parts = auth.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return parts[1].trimmed }
            return nil
        }
        return headers["x-api-key"]
    }
}
