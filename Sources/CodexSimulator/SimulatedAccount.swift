/// One simulated ChatGPT account: the credentials the simulator accepts for it at start-up.
///
/// Every value is fake and must look fake (`sim-access-acct1-0`, `sk-sim-FAKE-acct1`): the simulator
/// never sees real credentials. Rotation state (the current access and refresh tokens after refreshes)
/// lives in `TokenLedger`, not here; this is only the starting point that `/__sim/reset` returns to.
/// Concurrency: a value type; `Sendable`.
public struct SimulatedAccount: Codable, Sendable, Equatable {
    /// Short name used by the admin API and in `/__sim/requests` (`acct1`).
    public var name: String
    /// What clients send as `chatgpt-account-id`.
    public var accountId: String
    /// The access token valid at start-up (`Authorization: Bearer …`).
    public var accessToken: String
    /// The single-use refresh token valid at start-up.
    public var refreshToken: String
    /// Accepted as a Bearer token on `/v1/responses`; nil means API-key mode is not offered.
    public var apiKey: String?
    /// Plan type reported in 429 bodies and id-token claims (`plus`, `pro`, …).
    public var plan: String

    public init(
        name: String,
        accountId: String,
        accessToken: String,
        refreshToken: String,
        apiKey: String? = nil,
        plan: String = "plus"
    ) {
        self.name = name
        self.accountId = accountId
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.apiKey = apiKey
        self.plan = plan
    }

    /// An account with obviously fake credentials: `acct<n>`, `sim-account-<n>`, `sim-access-acct<n>-0`,
    /// `sim-refresh-acct<n>-0`, `sk-sim-FAKE-acct<n>`.
    public static func demo(_ number: Int) -> SimulatedAccount {
        let name = "acct\(number)"
        return SimulatedAccount(
            name: name,
            accountId: "sim-account-\(number)",
            accessToken: "sim-access-\(name)-0",
            refreshToken: "sim-refresh-\(name)-0",
            apiKey: "sk-sim-FAKE-\(name)",
            plan: "plus"
        )
    }
}
