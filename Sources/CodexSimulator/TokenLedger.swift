/// The credential state of every simulated account: which access token is valid, which refresh token is
/// current, and what happens when a token is presented.
///
/// Rules: each account has exactly one valid access token (the configured one at start, then the one the
/// last refresh issued) that expires `accessTokenLifetime` seconds after issue. Refresh tokens are single
/// use: a successful refresh retires the presented token, and presenting a retired one gives
/// `refresh_token_reused`. The admin API can invalidate either token of an account, or sign it in afresh
/// (`login`: the next generation of both tokens, valid). API keys never change.
///
/// Pure: no I/O; `now` (unix seconds) is passed in. Concurrency: a value type, owned by `SimulatorState`
/// under its lock.
struct TokenLedger: Sendable {
    struct AccountTokens: Sendable, Equatable {
        var account: SimulatedAccount
        var accessToken: String
        var accessIssuedAt: Double
        var accessValid = true
        var refreshToken: String
        var refreshValid = true
        /// Number of successful refreshes since start or reset.
        var generation = 0
    }

    enum Mode: Sendable, Equatable {
        /// `/backend-api/codex/*`: access token plus a matching `chatgpt-account-id`.
        case chatgpt
        /// `/v1/*`: an API key or an access token.
        case apiKey
    }

    enum AuthOutcome: Sendable, Equatable {
        case ok(account: String)
        case missing
        case unknownToken
        /// A token that belonged to `account` but was superseded by a refresh or invalidated by the admin.
        case invalidated(account: String)
        case expired(account: String)
        /// A valid token sent with another account's (or no) `chatgpt-account-id`.
        case accountMismatch(account: String)
    }

    enum RefreshOutcome: Sendable, Equatable {
        case rotated(account: String, accessToken: String, refreshToken: String, idToken: String)
        case reused(account: String)
        case invalidated(account: String)
        case unknown
    }

    private(set) var accounts: [String: AccountTokens] = [:]
    /// Account names in configuration order.
    private(set) var order: [String] = []
    private var byAccess: [String: String] = [:]
    private var byRefresh: [String: String] = [:]
    private var byAPIKey: [String: String] = [:]
    private var retiredAccess: [String: String] = [:]
    private var retiredRefresh: [String: String] = [:]
    let accessTokenLifetime: Double

    init(accounts list: [SimulatedAccount], accessTokenLifetime: Double, now: Double) {
        self.accessTokenLifetime = accessTokenLifetime
        for account in list where accounts[account.name] == nil {
            order.append(account.name)
            accounts[account.name] = AccountTokens(
                account: account,
                accessToken: account.accessToken,
                accessIssuedAt: now,
                refreshToken: account.refreshToken
            )
            byAccess[account.accessToken] = account.name
            byRefresh[account.refreshToken] = account.name
            if let key = account.apiKey { byAPIKey[key] = account.name }
        }
    }

    func authenticate(bearer: String?, accountIdHeader: String?, mode: Mode, now: Double) -> AuthOutcome {
        guard let bearer, !bearer.isEmpty else { return .missing }
        if mode == .apiKey, let name = byAPIKey[bearer] { return .ok(account: name) }
        guard let name = byAccess[bearer], let tokens = accounts[name] else {
            if let name = retiredAccess[bearer] { return .invalidated(account: name) }
            return .unknownToken
        }
        guard tokens.accessValid else { return .invalidated(account: name) }
        guard now < tokens.accessIssuedAt + accessTokenLifetime else { return .expired(account: name) }
        if mode == .chatgpt, accountIdHeader != tokens.account.accountId { return .accountMismatch(account: name) }
        return .ok(account: name)
    }

    mutating func refresh(refreshToken: String, now: Double) -> RefreshOutcome {
        if let name = retiredRefresh[refreshToken] { return .reused(account: name) }
        guard let name = byRefresh[refreshToken], let tokens = accounts[name] else { return .unknown }
        guard tokens.refreshValid else { return .invalidated(account: name) }
        return mint(name, tokens, now: now)
    }

    /// A fresh sign-in (`/__sim/accounts/<name>/login`): a new access and refresh token, valid whatever happened
    /// to the old ones, which are retired as a refresh would retire them. Nil for an unknown account.
    mutating func login(account name: String, now: Double) -> RefreshOutcome? {
        guard let tokens = accounts[name] else { return nil }
        return mint(name, tokens, now: now)
    }

    /// Retires the account's current tokens and issues the next generation.
    private mutating func mint(_ name: String, _ current: AccountTokens, now: Double) -> RefreshOutcome {
        var tokens = current
        tokens.generation += 1
        retiredAccess[tokens.accessToken] = name
        byAccess[tokens.accessToken] = nil
        retiredRefresh[tokens.refreshToken] = name
        byRefresh[tokens.refreshToken] = nil
        tokens.accessToken = "sim-access-\(name)-\(tokens.generation)"
        tokens.refreshToken = "sim-refresh-\(name)-\(tokens.generation)"
        tokens.accessIssuedAt = now
        tokens.accessValid = true
        tokens.refreshValid = true
        byAccess[tokens.accessToken] = name
        byRefresh[tokens.refreshToken] = name
        accounts[name] = tokens
        let idToken = FakeJWT.idToken(
            accountId: tokens.account.accountId,
            plan: tokens.account.plan,
            name: name,
            issuedAt: now,
            expiresAt: now + accessTokenLifetime
        )
        return .rotated(
            account: name,
            accessToken: tokens.accessToken,
            refreshToken: tokens.refreshToken,
            idToken: idToken
        )
    }

    /// Returns false for an unknown account.
    mutating func invalidateAccess(account name: String) -> Bool {
        guard accounts[name] != nil else { return false }
        accounts[name]?.accessValid = false
        return true
    }

    mutating func invalidateRefresh(account name: String) -> Bool {
        guard accounts[name] != nil else { return false }
        accounts[name]?.refreshValid = false
        return true
    }

    func tokens(of name: String) -> AccountTokens? { accounts[name] }

    /// The account a refresh token belongs to, current or retired (nil for a token this ledger never issued):
    /// which account a token request is for, before it is answered.
    func account(ofRefreshToken token: String) -> String? { byRefresh[token] ?? retiredRefresh[token] }
}
