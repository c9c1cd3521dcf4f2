/// Whether a request may continue an anchor (`previous_response_id`) that another client principal's request
/// produced. It may not: for that request the response does not exist.
///
/// Pooling puts every principal's conversations on the same upstream accounts, and the proxy keeps their
/// transcripts. Without this rule, a request naming another principal's anchor (from a shared log excerpt, a
/// screenshot, a bug report) would continue that conversation with its whole history as context: forwarded
/// to the account that owns the anchor, or replayed from the transcript cache. The OpenAI API scopes response
/// ids to their project in the same way.
///
/// Only principals are compared. With no client keys configured every request is anonymous and nothing is
/// refused; an anchor produced anonymously, or whose owner is no longer remembered, is not refused either
/// (fail open: the proxy cannot tell, and refusing would break continuity for the owner too).
/// Pure.
enum AnchorOwnership {
    /// - Parameters:
    ///   - owner: the `prn_` pseudonym recorded for the anchor, nil when unowned or unknown.
    ///   - requester: this request's `prn_` pseudonym, nil when anonymous.
    static func isForeign(owner: String?, requester: String?) -> Bool {
        guard let owner, let requester else { return false }
        return owner != requester
    }
}
