/// Merges the state file with the configuration at start. Pure: no I/O, no clock, no logging.
///
/// The rule, per configured account (matched by name):
/// - No state entry yet: the entry is built from the configuration.
/// - A state entry whose `configFingerprint` equals the configuration's fingerprint: the configured
///   tokens have not changed since the entry was seeded, so the **state file wins** for tokens, expiry,
///   status and generation (it holds the rotated refresh token; the configured one is already spent).
/// - A different fingerprint: the operator changed the configured token, so **configuration wins**:
///   tokens are replaced, status is reset to `active`, generation to 0. Cooldown and quota are kept
///   when the account id is unchanged (they describe the account, not the token).
/// - A configured account with no token at all keeps the state's tokens.
/// Non-token fields (`accountID`, `baseURL`) always follow the configuration when it sets them.
/// Accounts in the state file but not in the configuration (added by `sightline accounts import`) are
/// kept after the configured ones, in state-file order, and are pooled like configured accounts.
public enum AccountStoreMerge {
    public static func merge(state: [AccountStoreEntry], seeds: [AccountStoreSeed]) -> [AccountStoreEntry] {
        var byName: [String: AccountStoreEntry] = [:]
        for entry in state { byName[entry.name] = entry }
        var result: [AccountStoreEntry] = []
        var seeded = Set<String>()
        for seed in seeds where !seeded.contains(seed.name) {
            seeded.insert(seed.name)
            result.append(merge(existing: byName[seed.name], seed: seed))
        }
        for entry in state where !seeded.contains(entry.name) {
            result.append(entry)
        }
        return result
    }

    static func merge(existing: AccountStoreEntry?, seed: AccountStoreSeed) -> AccountStoreEntry {
        let fingerprint = seed.fingerprint
        guard var entry = existing else { return fresh(seed, fingerprint: fingerprint) }
        if fingerprint != nil && entry.configFingerprint != fingerprint {
            var replaced = fresh(seed, fingerprint: fingerprint)
            if replaced.accountID == nil || replaced.accountID == entry.accountID {
                replaced.accountID = replaced.accountID ?? entry.accountID
                replaced.cooldownUntil = entry.cooldownUntil
                replaced.quota = entry.quota
                replaced.planType = entry.planType
            }
            return replaced
        }
        if let accountID = seed.accountID { entry.accountID = accountID }
        if let baseURL = seed.baseURL { entry.baseURL = baseURL }
        return entry
    }

    /// An entry from configuration alone; expiry from the access token's `exp` when it is a JWT.
    public static func fresh(_ seed: AccountStoreSeed, fingerprint: String?) -> AccountStoreEntry {
        var entry = AccountStoreEntry(name: seed.name)
        entry.accountID = seed.accountID
        entry.baseURL = seed.baseURL
        entry.accessToken = seed.accessToken
        entry.refreshToken = seed.refreshToken
        entry.apiKey = seed.apiKey
        entry.configFingerprint = fingerprint
        if let access = seed.accessToken, let claims = AuthJSONClaims.decode(jwt: access.reveal()) {
            entry.expiresAt = claims.expiresAt
            entry.accountID = entry.accountID ?? claims.chatGPTAccountID
            entry.planType = claims.planType
        }
        return entry
    }
}
