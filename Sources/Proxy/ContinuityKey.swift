import HTTPServer

/// The key that keeps one conversation on one prompt cache: sent upstream as the `prompt_cache_key`
/// body field and the `session-id` header, and used for account stickiness.
///
/// Resolved once per request, by this precedence (first present wins):
/// 1. the client's `prompt_cache_key` body field (`source` = `body`);
/// 2. its `session-id` header, then `thread-id`, then the legacy `session_id` / `conversation_id`
///    (`source` = `header`);
/// 3. a keyed pseudonym of the authenticated principal plus the model (`source` = `principal`) — never
///    the raw client key;
/// 4. the account's pseudonym (`source` = `account`), decided after selection.
/// Pure: the pseudonym function is passed in.
struct ContinuityKey: Equatable, Sendable {
    enum Source: String, Sendable {
        case body, header, principal, account
    }

    var value: String
    var source: Source

    static func resolve(
        bodyPromptCacheKey: String?,
        headers: HTTPHeaders,
        principal: String?,
        model: String?,
        pseudonym: (String) -> String
    ) -> ContinuityKey? {
        if let key = bodyPromptCacheKey, !key.isEmpty { return ContinuityKey(value: key, source: .body) }
        for name in ["session-id", "thread-id", "session_id", "conversation_id"] {
            if let value = headers[name], !value.isEmpty { return ContinuityKey(value: value, source: .header) }
        }
        if let principal, principal != "anonymous" {
            return ContinuityKey(value: pseudonym(principal + "\u{0}" + (model ?? "")), source: .principal)
        }
        return nil
    }
}
