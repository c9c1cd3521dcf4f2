/// A refresh that produced no new access token.
///
/// `kind` says what to do next: `terminal` (the account is marked `reauth_required`; stop retrying)
/// or `transient` (retry later). `reason` is stable and low-cardinality, usable as `error.type`:
/// a code from the terminal table in `TokenRefreshClassifier`, or `server_error`, `rate_limited`,
/// `network`, `invalid_response`, `unexpected_status`, `not_refreshable`, `unknown_account`, `refresh_backoff`
/// (not sent: the account's last refresh failed transiently moments ago, `TokenRefreshBackoff`), `_OTHER`.
/// Nothing from the network becomes a reason unless it is in the table.
public struct TokenRefreshError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        case terminal
        case transient
    }

    public let kind: Kind
    public let reason: String
    /// The token endpoint's HTTP status, nil when no reply arrived.
    public let httpStatus: Int?

    public init(kind: Kind, reason: String, httpStatus: Int? = nil) {
        self.kind = kind
        self.reason = reason
        self.httpStatus = httpStatus
    }

    /// The `sightline_token_refreshes_total{outcome}` value: `terminal` or `failure`.
    public var outcome: String { kind == .terminal ? "terminal" : "failure" }

    public var description: String {
        "\(kind.rawValue): \(reason)" + (httpStatus.map { " (HTTP \($0))" } ?? "")
    }
}
