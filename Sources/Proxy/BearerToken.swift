import HTTPServer
import LogRedaction

/// A bearer token the proxy knows only by its SHA-256 (`metrics.tokenSha256`, `admin.tokenSha256`).
///
/// The presented token (`Authorization: Bearer …`) is hashed and compared in constant time, so neither the
/// configuration file nor a timing difference gives the token away. Pure.
enum BearerToken {
    /// Whether `headers` carry the token whose digest is `sha256`.
    static func matches(_ headers: HTTPHeaders, sha256 expected: [UInt8]) -> Bool {
        guard let auth = headers["authorization"] else { return false }
        let parts = auth.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return false }
        let presented = parts[1].trimmed
        return constantTimeEquals(SHA256.hash(Array(presented.utf8)), expected)
    }
}
