/// Chooses the account for one upstream attempt.
///
/// Strategy (documented in docs/accounts.md): among eligible accounts — `active`, or `cooling` whose
/// cooldown has passed, not excluded by this request's earlier attempts, and under their concurrency
/// cap — prefer the conversation's sticky account if it is eligible and below `stickyQuotaCeiling`;
/// otherwise take the one with the most remaining quota (1 − used; unknown counts as 0.5 so a fresh
/// account neither starves nor floods), then the fewest requests in flight, then configuration order.
/// Accounts in a soft cooldown (a brief one after a 5xx) are used only when no other account is eligible.
/// When none is eligible the answer is `.exhausted` with the earliest moment one comes back (a cooldown
/// end or a quota reset), which the proxy returns as a 429 `usage_limit_reached` with `resets_at`.
///
/// Pure: no clock (`now` is passed in), no locks, no logging.
struct AccountSelector: Sendable {
    enum Selection: Equatable, Sendable {
        case account(index: Int, sticky: Bool)
        /// Nothing eligible. `resetsAt` is unix seconds, nil when nothing is known to come back
        /// (every account needs re-authentication or is disabled). `atCapacity` is true when accounts
        /// were excluded only by their local concurrency caps (origin = local, not an upstream limit).
        case exhausted(resetsAt: Double?, atCapacity: Bool)
    }

    var stickyQuotaCeiling = 0.95

    func select(_ accounts: [AccountSnapshot], now: Double, sticky: Int?, excluded: Set<Int>) -> Selection {
        let hard = selectIgnoringSoft(accounts, now: now, sticky: sticky, excluded: excluded)
        guard case .exhausted = hard else { return hard }
        // Nothing else is eligible: accounts in a soft (5xx) cooldown are better than no answer.
        let relaxed = accounts.map { a -> AccountSnapshot in
            var a = a
            if a.state == .cooling && a.softCooldown { a.state = .active }
            return a
        }
        if relaxed == accounts { return hard }
        // The relaxed answer either way: an account, or why there is none. A soft cooldown is no upstream limit,
        // so a pool held back only by it and the local caps is at capacity (503), never exhausted (429), and a
        // reset names the hard cooldowns' end, not the soft one's.
        return selectIgnoringSoft(relaxed, now: now, sticky: sticky, excluded: excluded)
    }

    private func selectIgnoringSoft(
        _ accounts: [AccountSnapshot],
        now: Double,
        sticky: Int?,
        excluded: Set<Int>
    ) -> Selection {
        var best: AccountSnapshot?
        var bestScore = -Double.infinity
        var earliest: Double?
        var cappedOnly = true
        var sawCandidate = false
        for a in accounts where !excluded.contains(a.index) {
            switch a.state {
            case .reauthRequired, .disabled:
                continue
            case .cooling where a.cooldownUntil > now:
                earliest = min(earliest ?? a.cooldownUntil, a.cooldownUntil)
                cappedOnly = false
                continue
            case .active, .cooling:
                break
            }
            sawCandidate = true
            if a.inFlight >= a.maxConcurrent { continue }
            cappedOnly = false
            if let s = sticky, a.index == s, (a.quotaUsed ?? 0) < stickyQuotaCeiling {
                return .account(index: a.index, sticky: true)
            }
            let remaining = 1 - (a.quotaUsed ?? 0.5)
            let score = remaining * 1_000 - Double(a.inFlight)
            if score > bestScore {
                bestScore = score
                best = a
            }
        }
        if let best { return .account(index: best.index, sticky: false) }
        if sawCandidate && cappedOnly { return .exhausted(resetsAt: nil, atCapacity: true) }
        return .exhausted(resetsAt: earliest, atCapacity: false)
    }
}
