import LogRedaction

/// The tokens of a successful `POST /oauth/token` reply.
///
/// `refreshToken` is nil when the server did not rotate it (the old one stays valid then).
/// A value type; tokens are `Secret`s.
public struct TokenRefreshTokens: Sendable {
    public var accessToken: Secret<String>
    public var refreshToken: Secret<String>?
    public var idToken: Secret<String>?
    /// `expires_in`, seconds.
    public var expiresIn: Int64?

    public init(
        accessToken: Secret<String>,
        refreshToken: Secret<String>? = nil,
        idToken: Secret<String>? = nil,
        expiresIn: Int64? = nil
    ) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.idToken = idToken
        self.expiresIn = expiresIn
    }

    /// The access token's `exp` claim when it is a JWT, else `now + expires_in`, else nil (also when that
    /// sum would overflow).
    public func expiresAt(now: Int64) -> Int64? {
        if let exp = AuthJSONClaims.decode(jwt: accessToken.reveal())?.expiresAt { return exp }
        return expiresIn.flatMap { seconds in
            let (sum, overflow) = now.addingReportingOverflow(seconds)
            return overflow ? nil : sum
        }
    }
}
