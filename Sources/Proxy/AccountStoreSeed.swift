import LogRedaction

/// What the configuration says about one account, the input of `AccountStoreMerge`.
///
/// Built by the integrator from `ProxyConfiguration`. It does no I/O and never logs; its tokens are
/// `Secret`s like the store's.
public struct AccountStoreSeed: Sendable {
    public var name: String
    public var accountID: String?
    public var baseURL: String?
    public var accessToken: Secret<String>?
    public var refreshToken: Secret<String>?
    public var apiKey: Secret<String>?

    public init(
        name: String,
        accountID: String? = nil,
        baseURL: String? = nil,
        accessToken: Secret<String>? = nil,
        refreshToken: Secret<String>? = nil,
        apiKey: Secret<String>? = nil
    ) {
        self.name = name
        self.accountID = accountID
        self.baseURL = baseURL
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.apiKey = apiKey
    }

    /// Identifies the configured credentials without storing them: first 16 hex of
    /// SHA-256("sightline-config-token" 0x00 refresh 0x00 access 0x00 apiKey). Nil when the seed holds no
    /// credential. It changes exactly when the operator edits a configured token.
    public var fingerprint: String? {
        guard refreshToken != nil || accessToken != nil || apiKey != nil else { return nil }
        var message = Array("sightline-config-token".utf8)
        for token in [refreshToken, accessToken, apiKey] {
            message.append(0)
            message.append(contentsOf: (token?.reveal() ?? "").utf8)
        }
        return String(Hex.encode(SHA256.hash(message)).prefix(16))
    }
}
