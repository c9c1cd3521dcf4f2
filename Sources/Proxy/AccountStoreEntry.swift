import LogRedaction

/// The persistent state of one upstream account, as kept in `<stateDir>/accounts.json`.
///
/// Tokens are `Secret`s: printing an entry shows `REDACTED`; only `AccountStoreCodec` reveals them,
/// into the state file. `accountID` (the ChatGPT account id) is an identifier, not a credential, but it
/// too is never logged: log the account's pseudonym (`Pseudonymizer.pseudonym(.acct, name)`) instead.
/// Times are unix seconds. A value type; `AccountStore` owns the shared copy.
public struct AccountStoreEntry: Sendable, CustomStringConvertible {
    /// Whether the account may be used. `reauthRequired` is set by a terminal refresh failure and
    /// cleared only by new credentials (a changed config token or `sightline accounts import`).
    public enum Status: String, Sendable, Equatable {
        case active
        case reauthRequired = "reauth_required"
    }

    /// The last quota signal seen for the account (`x-codex-*` headers or `codex.rate_limits`).
    public struct Quota: Sendable, Equatable {
        public var primaryUsedPercent: Double?
        public var secondaryUsedPercent: Double?
        public var primaryResetAt: Int64?
        public var secondaryResetAt: Int64?
        public var observedAt: Int64

        public init(
            primaryUsedPercent: Double? = nil,
            secondaryUsedPercent: Double? = nil,
            primaryResetAt: Int64? = nil,
            secondaryResetAt: Int64? = nil,
            observedAt: Int64
        ) {
            self.primaryUsedPercent = primaryUsedPercent
            self.secondaryUsedPercent = secondaryUsedPercent
            self.primaryResetAt = primaryResetAt
            self.secondaryResetAt = secondaryResetAt
            self.observedAt = observedAt
        }
    }

    /// The operator's alias; the key of the entry. Safe to log.
    public var name: String
    /// `chatgpt-account-id`; nil for API-key accounts.
    public var accountID: String?
    public var baseURL: String?
    public var planType: String?
    public var accessToken: Secret<String>?
    public var refreshToken: Secret<String>?
    public var idToken: Secret<String>?
    public var apiKey: Secret<String>?
    /// Access-token expiry: the JWT `exp` when present, else refresh time + `expires_in`.
    public var expiresAt: Int64?
    public var lastRefresh: Int64?
    public var status: Status
    public var cooldownUntil: Int64?
    public var quota: Quota?
    /// Counts rotations since the tokens last came from outside (config or import); lets a caller that
    /// saw a 401 with generation g ask to refresh only "if still g".
    public var refreshGeneration: Int
    /// `AccountStoreSeed.fingerprint` of the config tokens this entry was seeded from (nil: not from
    /// config). While it matches the configuration, the state file's tokens win; see `AccountStoreMerge`.
    public var configFingerprint: String?

    public init(name: String, status: Status = .active) {
        self.name = name
        self.status = status
        self.refreshGeneration = 0
    }

    /// True when the account holds something it can authenticate with and is not awaiting re-auth.
    public var isUsable: Bool {
        status == .active && (accessToken != nil || apiKey != nil)
    }

    public var description: String {
        "AccountStoreEntry(name: \(name), status: \(status.rawValue), generation: \(refreshGeneration))"
    }
}
