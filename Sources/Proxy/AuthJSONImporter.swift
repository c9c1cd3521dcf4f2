import Foundation
import LogRedaction

/// The credentials found in one Codex `auth.json`.
public struct AuthJSONCredentials: Sendable {
    public enum Mode: String, Sendable, Equatable {
        case chatgpt
        case apiKey = "apikey"
    }

    public var mode: Mode
    public var accessToken: Secret<String>?
    public var refreshToken: Secret<String>?
    public var idToken: Secret<String>?
    public var apiKey: Secret<String>?
    /// `tokens.account_id`, else the `chatgpt_account_id` claim of the access or id token.
    public var accountID: String?
    /// The `chatgpt_user_id` claim of the access or id token: the seat within a Team workspace.
    public var userID: String?
    public var planType: String?
    public var expiresAt: Int64?
    /// `last_refresh`, unix seconds.
    public var lastRefresh: Int64?
}

/// Turns a Codex `auth.json` into an `AccountStoreEntry`. Pure apart from nothing: bytes in, values out.
///
/// Accepts `{"auth_mode":"chatgpt","OPENAI_API_KEY":null,"tokens":{"id_token","access_token",
/// "refresh_token","account_id"},"last_refresh":"<RFC 3339>"}` and `{"auth_mode":"apikey",
/// "OPENAI_API_KEY":"…","tokens":null}` (a missing `auth_mode` is inferred). JWT claims are decoded
/// without verification (`AuthJSONClaims`). The email claim is never read, stored or printed; the
/// default account name is derived from the login's identity instead: `acct-` + first 8 hex of
/// SHA-256(account id + "/" + user id), or of the account id alone when the tokens name no user
/// (`apikey-` + 8 hex of SHA-256(key) for API keys). The user id matters: every member of a ChatGPT Team
/// workspace has the same account id, and each is an account of its own, with its own quota. Those 32 bits
/// identify an entry for the operator; they are not a keyed pseudonym and are not used in logs.
public enum AuthJSONImporter {
    public static func parse(_ bytes: [UInt8]) throws(AuthJSONError) -> AuthJSONCredentials {
        guard let root = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw AuthJSONError(reason: "invalid_json", detail: "auth.json is not a JSON object")
        }
        let tokens = root["tokens"] as? [String: Any]
        let apiKey = (root["OPENAI_API_KEY"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        let declared = root["auth_mode"] as? String
        let mode: AuthJSONCredentials.Mode
        switch declared?.lowercased() {
        case "chatgpt": mode = .chatgpt
        case "apikey", "api_key": mode = .apiKey
        case nil: mode = tokens != nil ? .chatgpt : .apiKey
        default: throw AuthJSONError(reason: "unsupported_auth_mode", detail: "auth_mode is not chatgpt or apikey")
        }
        var credentials = AuthJSONCredentials(mode: mode)
        switch mode {
        case .apiKey:
            guard let apiKey else {
                throw AuthJSONError(reason: "missing_credentials", detail: "OPENAI_API_KEY is missing")
            }
            credentials.apiKey = Secret(apiKey)
        case .chatgpt:
            guard let tokens, let access = tokens["access_token"] as? String, !access.isEmpty else {
                throw AuthJSONError(reason: "missing_credentials", detail: "tokens.access_token is missing")
            }
            credentials.accessToken = Secret(access)
            credentials.refreshToken = (tokens["refresh_token"] as? String).map(Secret.init)
            credentials.idToken = (tokens["id_token"] as? String).map(Secret.init)
            let accessClaims = AuthJSONClaims.decode(jwt: access)
            let idClaims = (tokens["id_token"] as? String).flatMap { AuthJSONClaims.decode(jwt: $0) }
            credentials.accountID =
                (tokens["account_id"] as? String) ?? accessClaims?.chatGPTAccountID ?? idClaims?.chatGPTAccountID
            credentials.userID = accessClaims?.userID ?? idClaims?.userID
            credentials.planType = accessClaims?.planType ?? idClaims?.planType
            credentials.expiresAt = accessClaims?.expiresAt
            credentials.lastRefresh = (root["last_refresh"] as? String).flatMap(parseTimestamp)
        }
        return credentials
    }

    /// `acct-<8 hex>` from the account id and user id, `apikey-<8 hex>` from an API key, nil when neither is
    /// known.
    public static func defaultName(for credentials: AuthJSONCredentials) -> String? {
        if let accountID = credentials.accountID {
            let identity = credentials.userID.map { accountID + "/" + $0 } ?? accountID
            return "acct-" + Hex.encode(SHA256.hash(Array(identity.utf8))).prefix(8)
        }
        if let apiKey = credentials.apiKey {
            return "apikey-" + Hex.encode(SHA256.hash(Array(apiKey.reveal().utf8))).prefix(8)
        }
        return nil
    }

    /// The name of the stored entry that holds the same login as `credentials` (same account id and, where
    /// both name one, the same user), so that a re-import updates it whatever its name: one imported before
    /// default names included the user, or one the operator named. Nil when no entry matches; API-key logins
    /// are matched by their default name alone.
    public static func matchingEntryName(
        for credentials: AuthJSONCredentials,
        in entries: [AccountStoreEntry]
    )
        -> String?
    {
        guard let accountID = credentials.accountID else { return nil }
        let candidates = entries.filter { $0.accountID == accountID }
        return candidates.first { userID(of: $0) == credentials.userID }?.name
    }

    /// The user id the entry's tokens name (access token first), nil when neither is a JWT naming one.
    static func userID(of entry: AccountStoreEntry) -> String? {
        for token in [entry.accessToken, entry.idToken] {
            if let id = token.flatMap({ AuthJSONClaims.decode(jwt: $0.reveal())?.userID }) { return id }
        }
        return nil
    }

    /// The store entry for `credentials`. An `existing` entry of the same name keeps its cooldown,
    /// quota and config fingerprint; its tokens are replaced, status becomes `active` and the refresh
    /// generation advances (so a caller holding the old generation sees new credentials).
    public static func entry(
        from credentials: AuthJSONCredentials,
        name: String,
        baseURL: String?,
        existing: AccountStoreEntry?
    ) -> AccountStoreEntry {
        var entry = AccountStoreEntry(name: name)
        if let existing {
            entry.cooldownUntil = existing.cooldownUntil
            entry.quota = existing.quota
            entry.configFingerprint = existing.configFingerprint
            entry.refreshGeneration = existing.refreshGeneration + 1
            entry.baseURL = existing.baseURL
        }
        entry.baseURL = baseURL ?? entry.baseURL
        entry.accountID = credentials.accountID ?? existing?.accountID
        entry.planType = credentials.planType ?? existing?.planType
        entry.accessToken = credentials.accessToken
        entry.refreshToken = credentials.refreshToken
        entry.idToken = credentials.idToken
        entry.apiKey = credentials.apiKey
        entry.expiresAt = credentials.expiresAt
        entry.lastRefresh = credentials.lastRefresh
        entry.status = .active
        return entry
    }

    static func parseTimestamp(_ text: String) -> Int64? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return Int64(date.timeIntervalSince1970) }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text).map { Int64($0.timeIntervalSince1970) }
    }
}
