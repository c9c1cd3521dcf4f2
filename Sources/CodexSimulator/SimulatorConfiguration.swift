/// Everything a `CodexSimulator` needs to start: where to listen, which accounts exist, how the answer
/// stream is paced, and the knobs of the cache and rate-limit models.
///
/// Codable so `sightline simulator --config FILE` can read it from JSON; every key except `accounts` is
/// optional in the JSON and falls back to the default below. Does not validate credentials: any string is
/// a token. Concurrency: a value type; `Sendable`.
public struct SimulatorConfiguration: Codable, Sendable, Equatable {
    /// How the answer of a normal (fault-free) request is shaped and paced.
    public struct EventProfile: Codable, Sendable, Equatable {
        /// `response.output_text.delta` events per message answer (at least 1).
        public var deltaCount: Int
        /// Delay before each delta event, in milliseconds; 0 sends the whole answer in one write.
        public var deltaDelayMs: Int
        /// Minimum answer text size in bytes; the reply is padded with filler words up to it (0 = no padding).
        public var textSize: Int

        public init(deltaCount: Int = 4, deltaDelayMs: Int = 0, textSize: Int = 0) {
            self.deltaCount = deltaCount
            self.deltaDelayMs = deltaDelayMs
            self.textSize = textSize
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = EventProfile()
            deltaCount = try c.decodeIfPresent(Int.self, forKey: .deltaCount) ?? d.deltaCount
            deltaDelayMs = try c.decodeIfPresent(Int.self, forKey: .deltaDelayMs) ?? d.deltaDelayMs
            textSize = try c.decodeIfPresent(Int.self, forKey: .textSize) ?? d.textSize
        }
    }

    public var host: String
    /// 0 picks a free port.
    public var port: Int
    public var accounts: [SimulatedAccount]
    public var eventProfile: EventProfile
    /// Lifetime of every access token, from start-up or from the refresh that issued it.
    public var accessTokenLifetimeSeconds: Int
    /// When true, an HTTP request whose `previous_response_id` names a response this simulator produced is
    /// accepted; when false (the real backend over HTTP) every explicit anchor gives 400.
    public var httpAnchorsResolve: Bool
    /// Inputs shorter than this many tokens never get cached tokens (the real cache uses 1024).
    public var cacheMinimumTokens: Int
    /// Tokens an account may use per primary (5 h) window before `x-codex-primary-used-percent` hits 100.
    public var primaryWindowTokenBudget: Int
    /// Same for the secondary (weekly) window.
    public var secondaryWindowTokenBudget: Int
    /// Age after which a WebSocket connection answers its next request with a
    /// `websocket_connection_limit_reached` error frame and closes (the backend's 60-minute cap).
    public var webSocketConnectionLimitSeconds: Double = 3600
    /// Delay of every `/oauth/token` reply. The rotation commits only when the reply is handed to a
    /// still-connected client, so a client killed while waiting keeps its old refresh token (the
    /// crash-safety test relies on this to put its kills inside the refresh).
    public var tokenLatencyMs: Int = 0
    /// Reasoning sealed per account, as the backend seals it: a request that asks for
    /// `include: ["reasoning.encrypted_content"]` gets a `reasoning` output item whose `encrypted_content` only
    /// its own account can read, and an input reasoning item another account sealed is answered 400
    /// `invalid_encrypted_content`. Off by default (answers keep their one output item).
    public var reasoningItems = false
    /// The OAuth client a refresh must name (`client_id`): the Codex CLI's public one unless set. Another or none
    /// is answered 401 `invalid_client`, and the refresh token is not used.
    public var oauthClientId = SimulatorConfiguration.codexClientId
    /// The Codex CLI's public OAuth client id (codex-protocol.md §8): an identifier, not a secret.
    public static let codexClientId = "app_EMoamEEZ73f0CkXaXp7hrann"

    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        accounts: [SimulatedAccount],
        eventProfile: EventProfile = EventProfile(),
        accessTokenLifetimeSeconds: Int = 3600,
        httpAnchorsResolve: Bool = false,
        cacheMinimumTokens: Int = 256,
        primaryWindowTokenBudget: Int = 2_000_000,
        secondaryWindowTokenBudget: Int = 20_000_000
    ) {
        self.host = host
        self.port = port
        self.accounts = accounts
        self.eventProfile = eventProfile
        self.accessTokenLifetimeSeconds = accessTokenLifetimeSeconds
        self.httpAnchorsResolve = httpAnchorsResolve
        self.cacheMinimumTokens = cacheMinimumTokens
        self.primaryWindowTokenBudget = primaryWindowTokenBudget
        self.secondaryWindowTokenBudget = secondaryWindowTokenBudget
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SimulatorConfiguration(accounts: [])
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? d.host
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? d.port
        accounts = try c.decode([SimulatedAccount].self, forKey: .accounts)
        eventProfile = try c.decodeIfPresent(EventProfile.self, forKey: .eventProfile) ?? d.eventProfile
        accessTokenLifetimeSeconds =
            try c.decodeIfPresent(Int.self, forKey: .accessTokenLifetimeSeconds) ?? d.accessTokenLifetimeSeconds
        httpAnchorsResolve = try c.decodeIfPresent(Bool.self, forKey: .httpAnchorsResolve) ?? d.httpAnchorsResolve
        cacheMinimumTokens = try c.decodeIfPresent(Int.self, forKey: .cacheMinimumTokens) ?? d.cacheMinimumTokens
        primaryWindowTokenBudget =
            try c.decodeIfPresent(Int.self, forKey: .primaryWindowTokenBudget) ?? d.primaryWindowTokenBudget
        secondaryWindowTokenBudget =
            try c.decodeIfPresent(Int.self, forKey: .secondaryWindowTokenBudget) ?? d.secondaryWindowTokenBudget
        webSocketConnectionLimitSeconds =
            try c.decodeIfPresent(Double.self, forKey: .webSocketConnectionLimitSeconds)
            ?? d.webSocketConnectionLimitSeconds
        tokenLatencyMs = try c.decodeIfPresent(Int.self, forKey: .tokenLatencyMs) ?? d.tokenLatencyMs
        reasoningItems = try c.decodeIfPresent(Bool.self, forKey: .reasoningItems) ?? d.reasoningItems
        oauthClientId = try c.decodeIfPresent(String.self, forKey: .oauthClientId) ?? d.oauthClientId
    }

    /// `accounts` demo accounts (`acct1`…) with obviously fake credentials, on 127.0.0.1, port `port`.
    public static func demo(accounts: Int = 3, port: Int = 0) -> SimulatorConfiguration {
        SimulatorConfiguration(port: port, accounts: (1...max(1, accounts)).map(SimulatedAccount.demo))
    }
}
