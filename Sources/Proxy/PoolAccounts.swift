/// The accounts the pool serves: every configured account, then every account only the state directory
/// knows (added by `sightline accounts import`), in that order.
///
/// Pure. Credentials are not copied here: attempts read the current ones from the `AccountStore`, which
/// holds rotated tokens. An imported account is ChatGPT-kind unless it holds only an API key.
enum PoolAccounts {
    static func build(
        configured: [ProxyConfiguration.Account],
        stored: [AccountStoreEntry]
    ) -> [ProxyConfiguration.Account] {
        var result = configured
        let names = Set(configured.map(\.name))
        for entry in stored where !names.contains(entry.name) {
            let kind: ProxyConfiguration.AccountKind =
                entry.accessToken == nil && entry.apiKey != nil ? .apikey : .chatgpt
            var base =
                entry.baseURL
                ?? (kind == .apikey ? "https://api.openai.com/v1" : "https://chatgpt.com/backend-api/codex")
            while base.hasSuffix("/") { base.removeLast() }
            result.append(
                ProxyConfiguration.Account(
                    name: entry.name,
                    kind: kind,
                    baseURL: base,
                    accountID: nil,
                    accessToken: nil,
                    refreshToken: nil,
                    apiKey: nil,
                    maxConcurrentRequests: 64
                )
            )
        }
        return result
    }

    /// The configuration as store seeds (the merge decides whose tokens win; see `AccountStoreMerge`).
    static func seeds(_ configured: [ProxyConfiguration.Account]) -> [AccountStoreSeed] {
        configured.map {
            AccountStoreSeed(
                name: $0.name,
                accountID: $0.accountID?.reveal(),
                baseURL: $0.baseURL,
                accessToken: $0.accessToken,
                refreshToken: $0.refreshToken,
                apiKey: $0.apiKey
            )
        }
    }
}
