import LogRedaction
import Metrics
import Synchronization

/// The upstream accounts and their live state: cooldowns, requests in flight, last known quota, and
/// which account each conversation last succeeded on (stickiness).
///
/// Concurrency: all state sits behind one `Mutex` (`state`); every method is short and safe from any
/// thread. Selection itself is the pure `AccountSelector`; this type only snapshots, applies its answer
/// and records state changes.
/// Emits: `sightline_account_state`, `sightline_account_in_flight_requests`,
/// `sightline_account_cooldown_until_timestamp_seconds`, `sightline_account_quota_*`,
/// `sightline_pool_available_accounts`, and a `sightline.account` log event on every state change.
final class AccountPool: Sendable {
    struct Runtime: Sendable {
        var state: AccountSnapshot.State = .active
        var cooldownUntil: Double = 0
        var inFlight = 0
        var quota = QuotaSignal()
        /// Consecutive code-less 429s, for the backoff of a 429 that names no reset.
        var bareRateLimitStreak = 0
    }

    private struct State: Sendable {
        var runtime: [Runtime]
        /// continuity key → (account index, unix seconds of the last success).
        var sticky: [String: (index: Int, at: Double)] = [:]
    }

    let accounts: [ProxyConfiguration.Account]
    let pseudonyms: [String]
    /// Per-account metric handles, resolved once.
    let accountMetrics: [AccountMetrics]
    private let state: Mutex<State>
    private let metrics: SightlineMetrics
    private let logger: Logger
    private let selector = AccountSelector()
    /// How long a sticky preference lasts without a new success.
    let stickyTTLSeconds: Double
    let maxStickyEntries: Int

    init(
        accounts: [ProxyConfiguration.Account],
        pseudonymizer: Pseudonymizer,
        metrics: SightlineMetrics,
        logger: Logger,
        stickyTTLSeconds: Double = 6 * 3600,
        maxStickyEntries: Int = 100_000
    ) {
        self.accounts = accounts
        pseudonyms = accounts.map { pseudonymizer.pseudonym(.acct, $0.accountID?.reveal() ?? $0.name) }
        state = Mutex(State(runtime: Array(repeating: Runtime(), count: accounts.count)))
        self.metrics = metrics
        self.logger = logger
        self.stickyTTLSeconds = stickyTTLSeconds
        self.maxStickyEntries = maxStickyEntries
        accountMetrics = pseudonyms.map { metrics.registerAccount($0) }
        for i in accounts.indices { publish(i, Runtime()) }
        metrics.poolAvailableAccounts.set(Double(accounts.count))
    }

    /// Picks an account and, when one is chosen, counts the request as in flight on it.
    func acquire(continuityKey: String?, excluded: Set<Int>, now: Double) -> AccountSelector.Selection {
        let (selection, runtime) = state.withLock { s -> (AccountSelector.Selection, Runtime?) in
            var sticky: Int?
            if let key = continuityKey, let entry = s.sticky[key], now - entry.at < stickyTTLSeconds {
                sticky = entry.index
            }
            let snapshots = s.runtime.indices.map { i in
                AccountSnapshot(
                    index: i, pseudonym: pseudonyms[i], state: s.runtime[i].state,
                    cooldownUntil: s.runtime[i].cooldownUntil, inFlight: s.runtime[i].inFlight,
                    maxConcurrent: accounts[i].maxConcurrentRequests, quotaUsed: s.runtime[i].quota.usedRatio,
                    quotaResetAt: s.runtime[i].quota.resetAt
                )
            }
            let selection = selector.select(snapshots, now: now, sticky: sticky, excluded: excluded)
            guard case .account(let index, _) = selection else { return (selection, nil) }
            if s.runtime[index].state == .cooling {
                s.runtime[index].state = .active  // the cooldown has passed: back in rotation
            }
            s.runtime[index].inFlight += 1
            return (selection, s.runtime[index])
        }
        if case .account(let index, _) = selection, let runtime { publish(index, runtime) }
        return selection
    }

    func release(_ index: Int) {
        let runtime = state.withLock { s -> Runtime in
            s.runtime[index].inFlight = max(0, s.runtime[index].inFlight - 1)
            return s.runtime[index]
        }
        publish(index, runtime)
    }

    /// Records a success for stickiness (only after success, so a failing account never becomes sticky).
    func recordSuccess(_ index: Int, continuityKey: String?, now: Double) {
        guard let key = continuityKey else { return }
        state.withLock { s in
            if s.sticky.count >= maxStickyEntries, s.sticky[key] == nil {
                // Bounded: drop the oldest entries in one sweep rather than per insert.
                let cutoff = s.sticky.values.map(\.at).sorted()[s.sticky.count / 4]
                s.sticky = s.sticky.filter { $0.value.at > cutoff }
            }
            s.sticky[key] = (index, now)
        }
    }

    /// The sticky account of a conversation, if any and fresh.
    func stickyAccount(for key: String, now: Double) -> Int? {
        state.withLock { s in
            guard let e = s.sticky[key], now - e.at < stickyTTLSeconds else { return nil }
            return e.index
        }
    }

    func updateQuota(_ index: Int, _ signal: QuotaSignal) {
        guard !signal.isEmpty else { return }
        let runtime = state.withLock { s -> Runtime in
            if let v = signal.primary.usedRatio { s.runtime[index].quota.primary.usedRatio = v }
            if let v = signal.primary.resetAt { s.runtime[index].quota.primary.resetAt = v }
            if let v = signal.secondary.usedRatio { s.runtime[index].quota.secondary.usedRatio = v }
            if let v = signal.secondary.resetAt { s.runtime[index].quota.secondary.resetAt = v }
            return s.runtime[index]
        }
        publish(index, runtime)
    }

    /// Takes an account out of rotation until `until` (never shortening an existing cooldown).
    /// `reason` is a closed token: `usage_limit`, `rate_limited`, `server_error`.
    func coolDown(_ index: Int, until: Double, reason: String) {
        let runtime = state.withLock { s -> Runtime in
            s.runtime[index].state = .cooling
            s.runtime[index].cooldownUntil = max(s.runtime[index].cooldownUntil, until)
            return s.runtime[index]
        }
        publish(index, runtime)
        logger.log(
            .warn, "account state changed", event: "sightline.account",
            [
                LogAttribute("sightline.account", .pseudonym(pseudonyms[index])),
                LogAttribute("sightline.account.state", .string("cooling")),
                LogAttribute("sightline.account.reason", .string(reason)),
                LogAttribute("sightline.account.cooldown_until", .double(runtime.cooldownUntil)),
            ]
        )
    }

    /// The cooldown for a 429 that named no reset: 30 s, doubling per consecutive bare 429, capped at 15 min.
    func bareRateLimitBackoff(_ index: Int) -> Double {
        state.withLock { s in
            s.runtime[index].bareRateLimitStreak += 1
            return min(30 * Double(1 << min(s.runtime[index].bareRateLimitStreak - 1, 5)), 900)
        }
    }

    /// The earliest moment a cooling account comes back (unix seconds), or nil if none is cooling.
    func earliestAvailability(now: Double) -> Double? {
        state.withLock { s in
            s.runtime.filter { $0.state == .cooling && $0.cooldownUntil > now }.map(\.cooldownUntil).min()
        }
    }

    func snapshot(_ index: Int) -> Runtime { state.withLock { $0.runtime[index] } }

    private func publish(_ index: Int, _ r: Runtime) {
        let m = accountMetrics[index]
        m.setState(r.state.rawValue)
        m.inFlight.set(Double(r.inFlight))
        m.cooldownUntil.set(r.state == .cooling ? r.cooldownUntil : 0)
        if let v = r.quota.primary.usedRatio { m.quotaUsedRatio(window: "primary").set(v) }
        if let v = r.quota.secondary.usedRatio { m.quotaUsedRatio(window: "secondary").set(v) }
        if let v = r.quota.primary.resetAt { m.quotaResetTimestamp(window: "primary").set(v) }
        if let v = r.quota.secondary.resetAt { m.quotaResetTimestamp(window: "secondary").set(v) }
        let available = state.withLock { s in s.runtime.filter { $0.state == .active }.count }
        metrics.poolAvailableAccounts.set(Double(available))
    }
}
