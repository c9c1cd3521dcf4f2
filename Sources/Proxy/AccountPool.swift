import Foundation
import LogRedaction
import Metrics
import Synchronization

/// The upstream accounts and their live state: cooldowns, requests in flight, last known quota,
/// re-authentication status, and which account each conversation last succeeded on (stickiness).
///
/// Credentials are not held here: `credentials(_:)` reads the current (possibly rotated) ones from the
/// `AccountStore`. Cooldowns (off the caller's thread, through `stateWriter`) and re-auth status are persisted
/// through the store; stickiness through `stickySnapshot`/`restoreSticky` (keys are `sess_` pseudonyms, never raw
/// continuity keys).
/// Concurrency: all mutable state sits behind one `Mutex` (`state`); every method is short and safe from
/// any thread. Selection itself is the pure `AccountSelector`.
/// Emits: `sightline_account_state`, `sightline_account_in_flight_requests`,
/// `sightline_account_cooldown_until_timestamp_seconds`, `sightline_account_quota_*`,
/// `sightline_pool_available_accounts`, and a `sightline.account` log
/// event on every state change; for every failed write of `accounts.json` it makes (cooldowns and reinstatements,
/// quotas, start-up cooldown caps), `sightline_state_write_failures_total` and a `sightline.state_write` record
/// (`StateWriteRecorder`).
final class AccountPool: Sendable {
    struct Runtime: Sendable {
        var state: AccountSnapshot.State = .active
        var cooldownUntil: Double = 0
        /// The cooldown only follows server errors: it lowers priority but never empties the pool.
        var softCooldown = false
        var inFlight = 0
        var quota = QuotaSignal()
        /// The quota last written to the state file (`persistQuotas`), to write only what changed.
        var persistedQuota = QuotaSignal()
        /// Consecutive code-less 429s, for the backoff of a 429 that names no reset.
        var bareRateLimitStreak = 0
    }

    struct Sticky: Sendable {
        var index: Int
        var at: Double
    }

    private struct State: Sendable {
        var runtime: [Runtime]
        /// `sess_` pseudonym of the continuity key → the account that last served it successfully.
        var sticky: [String: Sticky] = [:]
    }

    let accounts: [ProxyConfiguration.Account]
    /// Every account is a ChatGPT one: `store:false` is then set once per request (`RequestPreparer`), not per attempt,
    /// and sessions may be carried over WebSocket.
    let isChatGPTOnly: Bool
    /// How many upstream sends a request or turn may make across accounts before it gives up: 3, or fewer accounts.
    let maxAttempts: Int
    let pseudonyms: [String]
    /// Per-account metric handles, resolved once.
    let accountMetrics: [AccountMetrics]
    let store: AccountStore
    /// Persists cooldowns off the thread that set them (`AccountStateWriter`): `coolDown` and `reinstate` run on
    /// event loops.
    let stateWriter: AccountStateWriter
    private let state: Mutex<State>
    private let metrics: SightlineMetrics
    /// Counts and logs every failed write of `accounts.json` the pool makes.
    private let stateWrites: StateWriteRecorder
    private let logger: Logger
    private let selector = AccountSelector()
    /// How long a sticky preference lasts without a new success.
    let stickyTTLSeconds: Double
    let maxStickyEntries: Int

    init(
        accounts: [ProxyConfiguration.Account],
        store: AccountStore,
        pseudonymizer: Pseudonymizer,
        metrics: SightlineMetrics,
        logger: Logger,
        now: Double,
        stickyTTLSeconds: Double = 6 * 3600,
        maxStickyEntries: Int = 100_000
    ) {
        self.accounts = accounts
        isChatGPTOnly = !accounts.isEmpty && accounts.allSatisfy { $0.kind == .chatgpt }
        maxAttempts = max(1, min(3, accounts.count))
        self.store = store
        // Of the name, which the configuration keeps unique and stable: the ChatGPT account id is shared by
        // every seat of a Team workspace, and would merge their series, stickiness and affinity.
        let pseudonyms = accounts.map { pseudonymizer.pseudonym(.acct, $0.name) }
        self.pseudonyms = pseudonyms
        let stateWrites = StateWriteRecorder(metrics: metrics, logger: logger)
        self.stateWrites = stateWrites
        let pseudonymByName = Dictionary(
            zip(accounts.map(\.name), pseudonyms),
            uniquingKeysWith: { first, _ in first }
        )
        stateWriter = AccountStateWriter(store: store) { changes, error in
            stateWrites.record(
                .cooldowns,
                reason: error.reason,
                accounts: changes.compactMap { pseudonymByName[$0.name] }
            )
        }
        var runtime = Array(repeating: Runtime(), count: accounts.count)
        var capped: [(index: Int, until: Int64)] = []
        for (i, a) in accounts.enumerated() {
            guard let entry = store.entry(named: a.name) else { continue }
            if entry.status == .reauthRequired { runtime[i].state = .reauthRequired }
            // The last quota seen before the restart ranks the account until it reports again (a window that
            // reset meanwhile reads empty), instead of the 0.5 an account never heard from gets.
            if let stored = entry.quota {
                runtime[i].persistedQuota = QuotaSignal(stored: stored)
                runtime[i].quota = runtime[i].persistedQuota.asOf(now)
            }
            // A `reauth_required` account keeps its running cooldown too (in memory, as `coolDown` records it), so a
            // re-import before its end brings it back cooling, as it would without the restart.
            if let until = entry.cooldownUntil, Double(until) > now, runtime[i].state != .disabled {
                if runtime[i].state == .active { runtime[i].state = .cooling }
                runtime[i].cooldownUntil = min(Double(until), now + Self.maximumCooldownSeconds)
                // The cap is written back: kept only in memory, it started over at every restart, and an account
                // restarted more often than every 8 days never came back.
                if Double(until) > runtime[i].cooldownUntil,
                    let bound = Int64(exactly: runtime[i].cooldownUntil.rounded(.up))
                {
                    capped.append((i, bound))
                }
            }
        }
        for (index, bound) in capped {
            do {
                try store.replaceCooldown(accounts[index].name, until: bound)
            } catch {
                stateWrites.record(.cooldownCap, reason: error.reason, accounts: [pseudonyms[index]])
            }
        }
        state = Mutex(State(runtime: runtime))
        self.metrics = metrics
        self.logger = logger
        self.stickyTTLSeconds = stickyTTLSeconds
        self.maxStickyEntries = maxStickyEntries
        accountMetrics = pseudonyms.map { metrics.registerAccount($0) }
        for i in accounts.indices { publish(i, runtime[i]) }
    }

    /// Picks an account and, when one is chosen, counts the request as in flight on it. `session` is the
    /// continuity key's pseudonym; `preferred` an account the request's anchor points to.
    /// The sticky lookup of `session` is not an affinity lookup: `sightline_affinity_lookups_total` counts
    /// `previous_response_id`s only (`AffinityMap`). Counted here too, every new conversation's first request read as
    /// a `miss` (firing `SightlineAffinityMissRatioHigh` on short conversations), and an anchored request counted twice.
    func acquire(
        session: String?,
        preferred: Int?,
        excluded: Set<Int>,
        now: Double
    )
        -> AccountSelector.Selection
    {
        let (selection, runtime, backInRotation, rolled) = state.withLock {
            s -> (AccountSelector.Selection, Runtime?, Bool, [(Int, Runtime)]) in
            // In the same lock as the selection: quota windows that reset since are read as empty.
            let rolled = Self.catchUpLocked(&s, now: now, cooldowns: false).changed
            var sticky = preferred
            if let session, let entry = s.sticky[session], now - entry.at < stickyTTLSeconds {
                sticky = sticky ?? entry.index
            }
            let snapshots = s.runtime.indices.map { i in
                AccountSnapshot(
                    index: i,
                    pseudonym: pseudonyms[i],
                    state: s.runtime[i].state,
                    cooldownUntil: s.runtime[i].cooldownUntil,
                    softCooldown: s.runtime[i].softCooldown,
                    inFlight: s.runtime[i].inFlight,
                    maxConcurrent: accounts[i].maxConcurrentRequests,
                    quotaUsed: s.runtime[i].quota.usedRatio,
                    quotaResetAt: s.runtime[i].quota.resetAt
                )
            }
            let selection = selector.select(snapshots, now: now, sticky: sticky, excluded: excluded)
            guard case .account(let index, _) = selection else { return (selection, nil, false, rolled) }
            let cooling = s.runtime[index].state == .cooling
            if cooling { s.runtime[index].state = .active }  // the cooldown has passed: back in rotation
            s.runtime[index].inFlight += 1
            return (selection, s.runtime[index], cooling, rolled)
        }
        for (index, runtime) in rolled { publish(index, runtime) }
        if case .account(let index, _) = selection, let runtime {
            publish(index, runtime)
            if backInRotation { logStateChange(index, state: "active", reason: "cooldown_ended", cooldownUntil: nil) }
        }
        return selection
    }

    /// Brings the accounts up to date with the clock, publishing what changed: every quota window whose reset
    /// has passed reads 0 used (`QuotaSignal.asOf`), and with `cooldowns`, every account whose cooldown has
    /// passed is back to `active`, logged with reason `cooldown_ended`. Runs before every scrape
    /// (`SightlineProxy` hooks it to the registry); every selection does the quota part in its own lock and puts
    /// the account it picks back to `active` itself. Before 2026-12-07 only a selection did either, so an
    /// account that got no traffic after its cooldown (idle hours, or other accounts preferred) stayed `cooling`
    /// on the state and cooldown gauges and out of `sightline_pool_available_accounts` for good, the
    /// pool-exhaustion alert read a pool smaller than it was, and the selector ranked the account by the quota
    /// it had used before its window reset.
    func catchUpWithClock(now: Double) {
        let (changed, ended) = state.withLock { Self.catchUpLocked(&$0, now: now, cooldowns: true) }
        for (index, runtime) in changed {
            publish(index, runtime)
            if ended.contains(index) {
                logStateChange(index, state: runtime.state.rawValue, reason: "cooldown_ended", cooldownUntil: nil)
            }
        }
    }

    /// An operator's reinstatement (`POST /admin/accounts/<name>/reinstate`): a cooling account is back in
    /// rotation now, its bare-429 backoff reset and its persisted cooldown cleared; logged WARN (an operator
    /// overruled the upstream's last answer) with reason `admin`. An account out as `reauth_required` or
    /// `disabled` stays out (a new login is what brings it back): `.refused` with its state.
    enum Reinstatement: Equatable {
        case reinstated(wasCooling: Bool)
        case refused(AccountSnapshot.State)
    }

    /// `persisted` runs once the cleared cooldown has been written to `accounts.json` (true) or its write failed
    /// (false: counted and logged, and written again by the continuity timer's catch-up), on `stateWriter`'s queue
    /// (the caller, an event loop, does not wait for the disk), possibly before this returns; only for
    /// `.reinstated(wasCooling: true)`: otherwise there is nothing to write.
    func reinstate(_ index: Int, persisted: @escaping @Sendable (Bool) -> Void) -> Reinstatement {
        let (outcome, runtime) = state.withLock { s -> (Reinstatement, Runtime) in
            let r = s.runtime[index]
            guard r.state == .active || r.state == .cooling else { return (.refused(r.state), r) }
            s.runtime[index].state = .active
            s.runtime[index].cooldownUntil = 0
            s.runtime[index].softCooldown = false
            s.runtime[index].bareRateLimitStreak = 0
            // Nothing to persist for an account that was not cooling. Queued under the lock, as `coolDown` queues
            // its write: the file then takes the changes in the order memory did (a cooldown queued after this
            // reinstatement in memory but before it on the queue would have come back after a restart).
            if r.state == .cooling {
                stateWriter.submit(.init(name: accounts[index].name, until: nil), completion: persisted)
            }
            return (.reinstated(wasCooling: r.state == .cooling), s.runtime[index])
        }
        // Nothing to log for an account that was not cooling.
        guard case .reinstated(wasCooling: true) = outcome else { return outcome }
        publish(index, runtime)
        logger.log(
            .warn,
            "account state changed",
            event: "sightline.account",
            [
                LogAttribute("sightline.account", .pseudonym(pseudonyms[index])),
                LogAttribute("sightline.account.state", .string("active")),
                LogAttribute("sightline.account.reason", .string("admin")),
            ]
        )
        return outcome
    }

    /// The work of `catchUpWithClock` under the caller's lock: the accounts it changed, with their new state,
    /// and those whose cooldown it ended.
    private static func catchUpLocked(
        _ s: inout State,
        now: Double,
        cooldowns: Bool
    ) -> (changed: [(Int, Runtime)], ended: Set<Int>) {
        var changed: [(Int, Runtime)] = []
        var ended = Set<Int>()
        for i in s.runtime.indices {
            let quota = s.runtime[i].quota.asOf(now)
            let back = cooldowns && s.runtime[i].state == .cooling && s.runtime[i].cooldownUntil <= now
            guard back || quota != s.runtime[i].quota else { continue }
            s.runtime[i].quota = quota
            if back {
                s.runtime[i].state = .active
                ended.insert(i)
            }
            changed.append((i, s.runtime[i]))
        }
        return (changed, ended)
    }

    /// Counts one more request in flight on a given account without selecting (the next turn on an upstream
    /// WebSocket pinned there). It may exceed the account's cap: the conversation's anchor lives there.
    func reacquire(_ index: Int) {
        let runtime = state.withLock { s -> Runtime in
            s.runtime[index].inFlight += 1
            return s.runtime[index]
        }
        publish(index, runtime)
    }

    func release(_ index: Int) {
        let runtime = state.withLock { s -> Runtime in
            s.runtime[index].inFlight = max(0, s.runtime[index].inFlight - 1)
            return s.runtime[index]
        }
        publish(index, runtime)
    }

    /// The current credentials of an account, from the store (rotated tokens included).
    func credentials(_ index: Int) -> (authorization: String?, accountID: String?, generation: Int, canRefresh: Bool) {
        let account = accounts[index]
        let entry = store.entry(named: account.name)
        let accountID = entry?.accountID ?? account.accountID?.reveal()
        switch account.kind {
        case .chatgpt:
            let token = entry?.accessToken ?? account.accessToken
            return (
                token.map { "Bearer " + $0.reveal() }, accountID, entry?.refreshGeneration ?? 0,
                entry?.refreshToken != nil
            )
        case .apikey:
            let key = entry?.apiKey ?? account.apiKey
            return (key.map { "Bearer " + $0.reveal() }, nil, entry?.refreshGeneration ?? 0, false)
        }
    }

    /// Records a success for stickiness (only after success, so a failing account never becomes sticky).
    func recordSuccess(_ index: Int, session: String?, now: Double) {
        guard let session else { return }
        state.withLock { s in
            if s.sticky.count >= maxStickyEntries, s.sticky[session] == nil {
                // Bounded: drop the oldest quarter in one sweep rather than per insert.
                let cutoff = s.sticky.values.map(\.at).sorted()[s.sticky.count / 4]
                s.sticky = s.sticky.filter { $0.value.at > cutoff }
            }
            s.sticky[session] = Sticky(index: index, at: now)
            if s.runtime[index].state == .active { s.runtime[index].bareRateLimitStreak = 0 }
        }
    }

    /// Forgets a conversation's pin (a pin reset): the next turn is selected afresh.
    func dropSticky(session: String?) {
        guard let session else { return }
        _ = state.withLock { $0.sticky.removeValue(forKey: session) }
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

    /// Writes each account's quota to the state file when it changed since the last write: on the continuity
    /// timer, not per answer (every answer carries quota headers, and each write rewrites the file).
    func persistQuotas(now: Double) {
        let changed = state.withLock { s -> [(Int, QuotaSignal)] in
            var changed: [(Int, QuotaSignal)] = []
            for i in s.runtime.indices where s.runtime[i].quota != s.runtime[i].persistedQuota {
                s.runtime[i].persistedQuota = s.runtime[i].quota
                changed.append((i, s.runtime[i].quota))
            }
            return changed
        }
        // One write of the file for all of them. A failed one is not retried: the quotas stay in the store's memory and
        // land with its next write.
        do {
            try store.setQuotas(changed.map { (accounts[$0.0].name, $0.1.stored(observedAt: Int64(now))) })
        } catch {
            stateWrites.record(.quotas, reason: error.reason, accounts: changed.map { pseudonyms[$0.0] })
        }
    }

    /// The longest cooldown the pool takes: a day more than Codex's longest quota window (7 days). An upstream
    /// reset later than this (a unit mix-up, `1e20`) cools the account this long; restored cooldowns too.
    static let maximumCooldownSeconds: Double = 8 * 24 * 3600

    /// Takes an account out of rotation until `until`, and persists it unless soft. A hard cooldown never shortens a
    /// running hard one but replaces a soft one with its own end; a soft one never touches a running hard one. `reason` is a closed token: `usage_limit`, `rate_limited`, `forbidden`, `unauthorized`,
    /// `server_error`.
    /// Callers bound `until` (`applyConsequences`); a time that is not finite is ignored.
    func coolDown(_ index: Int, until: Double, reason: String, now: Double) {
        guard until.isFinite else { return }
        let soft = Self.softCooldownReasons.contains(reason)
        let runtime = state.withLock { s -> Runtime? in
            var r = s.runtime[index]
            // A login that failed keeps the cooldown it had (`readmitReauthenticated` brings it back cooling).
            let running = (r.state == .cooling || r.state == .reauthRequired) && r.cooldownUntil > now
            let hardRunning = running && !r.softCooldown
            // A soft cooldown never touches a hard one that still runs: it would have let a rate-limited account
            // be picked again, and dropped its reset from the pool's 429. A hard one replaces a soft one, its end
            // its own: a 429 reset in 30 s no longer inherited a 5-minute unauthorized end, and reported it as the
            // pool's reset. A hard one never shortens another hard one.
            if soft && hardRunning { return nil }
            if r.state != .reauthRequired { r.state = .cooling }
            r.cooldownUntil = hardRunning || (soft && running) ? max(r.cooldownUntil, until) : until
            r.softCooldown = soft
            s.runtime[index] = r
            // Soft cooldowns are brief and not worth a disk write. `exactly`: a time out of Int64's range is not
            // written. Written off this thread (often an event loop): the cooldown already holds in memory, the file
            // is for a restart. Queued under the lock, so the queue's order is memory's (`reinstate`).
            if !soft, let until = Int64(exactly: r.cooldownUntil.rounded(.up)) {
                stateWriter.submit(.init(name: accounts[index].name, until: until))
            }
            return r
        }
        guard let runtime else { return }
        publish(index, runtime)
        logStateChange(index, state: runtime.state.rawValue, reason: reason, cooldownUntil: runtime.cooldownUntil)
    }

    /// Cools an account after an upstream error, the same for every transport: a 429 until its reset (the
    /// body's `resets_at`, else for a usage limit the quota headers' reset), else for as long as its
    /// `retry-after` says (`retryAfter`, seconds), else a doubling backoff; 402/403 for an hour; a 5xx briefly
    /// (soft). Client errors and silence never cool. A reset further ahead than `maximumCooldownSeconds` cools
    /// for that long.
    func applyConsequences(
        _ index: Int,
        status: Int,
        error: UpstreamErrorClass,
        resetsAt: Double?,
        quota: QuotaSignal,
        retryAfter: Double? = nil,
        now: Double
    ) {
        switch status {
        case 429:
            if let reset = resetsAt ?? (error == .usageLimitReached ? quota.resetAt : nil), reset.isFinite, reset > now
            {
                coolDown(index, until: min(reset, now + Self.maximumCooldownSeconds), reason: "usage_limit", now: now)
            } else if let wait = retryAfter, wait > 0 {
                // The upstream said how long: neither the 30 s guess nor a step of the doubling backoff.
                coolDown(index, until: now + min(wait, Self.maximumCooldownSeconds), reason: "rate_limited", now: now)
            } else {
                coolDown(index, until: now + bareRateLimitBackoff(index), reason: "rate_limited", now: now)
            }
        case 402, 403:
            coolDown(index, until: now + 3600, reason: "forbidden", now: now)
        case 500...:
            coolDown(index, until: now + 5, reason: "server_error", now: now)
        default:
            break
        }
    }

    /// How long an account cools after a 401 that refreshing did not cure, or on an account that cannot refresh.
    static let unauthorizedCooldownSeconds: Double = 300

    /// Cooldowns that lower an account's priority without taking it out of an otherwise empty pool: a burst of
    /// server errors, or of 401s, is not a pool out of quota and never earns the client a 429.
    static let softCooldownReasons: Set<String> = ["server_error", "unauthorized"]

    /// A 401 nothing in this request can fix: the login was refreshed and still refused (a deactivated seat, a
    /// wrong account id), or the account has no refresh token (a revoked API key). Until 2026-12-07 it cooled
    /// nothing: the next request picked the account again and paid a refused attempt, and a refresh, every time.
    /// Soft: with every account so refused, they are still tried rather than the pool answering a quota 429.
    func coolUnauthorized(_ index: Int, now: Double) {
        coolDown(index, until: now + Self.unauthorizedCooldownSeconds, reason: "unauthorized", now: now)
    }

    /// The refresh a 401 asked for failed. A dead login leaves rotation (`reauth_required`); otherwise the 401
    /// stands uncured and the account cools as one after a refresh does (`coolUnauthorized`), or every next request
    /// would pick it and pay the same refusal first. The one rule for HTTP and WebSocket turns: until 2026-12-07
    /// neither cooled an account whose refresh failed for a passing reason.
    func refreshAfterUnauthorizedFailed(_ index: Int, _ error: TokenRefreshError, now: Double) {
        if error.kind == .terminal {
            markReauthRequired(index, reason: error.reason)
        } else {
            coolUnauthorized(index, now: now)
        }
    }

    /// A terminal refresh failure: the account leaves rotation until an operator re-imports it
    /// (`readmitReauthenticated`).
    func markReauthRequired(_ index: Int, reason: String) {
        let runtime = state.withLock { s -> Runtime in
            s.runtime[index].state = .reauthRequired
            return s.runtime[index]
        }
        publish(index, runtime)
        logStateChange(index, state: runtime.state.rawValue, reason: reason, cooldownUntil: nil)
    }

    /// Puts back into rotation every account out as `reauth_required` whose stored login is usable again: an
    /// `accounts import` the store has taken in (`AccountStore.absorbExternalChanges`), or a terminal failure of
    /// a login the import had already replaced, which the store did not record. Logged with reason
    /// `reauthenticated`. Runs on the continuity timer, right after the store reads the file. A cooldown that
    /// was running when the login failed (a quota answered before the 401) still runs: the account comes back
    /// `cooling` until its end, as a restart would restore it, not into the same limit.
    func readmitReauthenticated(now: Double) {
        let usable = accounts.map { store.entry(named: $0.name)?.isUsable ?? false }
        let back = state.withLock { s -> [(Int, Runtime)] in
            var back: [(Int, Runtime)] = []
            for i in s.runtime.indices where s.runtime[i].state == .reauthRequired && usable[i] {
                s.runtime[i].state = s.runtime[i].cooldownUntil > now ? .cooling : .active
                back.append((i, s.runtime[i]))
            }
            return back
        }
        for (index, runtime) in back {
            publish(index, runtime)
            logStateChange(
                index,
                state: runtime.state.rawValue,
                reason: "reauthenticated",
                cooldownUntil: runtime.state == .cooling ? runtime.cooldownUntil : nil
            )
        }
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
            s.runtime.filter { $0.state == .cooling && !$0.softCooldown && $0.cooldownUntil > now }.map(\.cooldownUntil)
                .min()
        }
    }

    func snapshot(_ index: Int) -> Runtime { state.withLock { $0.runtime[index] } }

    /// Whether the selector may still pick the account: not `reauth_required` or disabled, and not in a hard
    /// cooldown that is still running (a soft 5xx one only lowers its priority).
    func isInRotation(_ index: Int, now: Double) -> Bool {
        let r = snapshot(index)
        switch r.state {
        case .active: return true
        case .cooling: return r.softCooldown || r.cooldownUntil <= now
        case .reauthRequired, .disabled: return false
        }
    }

    func stickyEntries() -> [String: Sticky] { state.withLock { $0.sticky } }

    func mergeSticky(_ entries: [String: Sticky]) {
        state.withLock { s in s.sticky.merge(entries) { current, _ in current } }
    }

    /// WARN when the account leaves rotation, INFO when it comes back.
    private func logStateChange(_ index: Int, state: String, reason: String, cooldownUntil: Double?) {
        var attributes = [
            LogAttribute("sightline.account", .pseudonym(pseudonyms[index])),
            LogAttribute("sightline.account.state", .string(state)),
            LogAttribute("sightline.account.reason", .string(reason)),
        ]
        if let cooldownUntil {
            attributes.append(LogAttribute("sightline.account.cooldown_until", .double(cooldownUntil)))
        }
        logger.log(state == "active" ? .info : .warn, "account state changed", event: "sightline.account", attributes)
    }

    private func publish(_ index: Int, _ r: Runtime) {
        let m = accountMetrics[index]
        m.setState(r.state.rawValue)
        m.inFlight.set(Double(r.inFlight))
        m.cooldownUntil.set(r.state == .cooling ? r.cooldownUntil : 0)
        if let v = r.quota.primary.usedRatio { m.quotaUsedRatio(window: "primary").set(v) }
        if let v = r.quota.secondary.usedRatio { m.quotaUsedRatio(window: "secondary").set(v) }
        if let v = r.quota.primary.resetAt { m.quotaResetTimestamp(window: "primary").set(v) }
        if let v = r.quota.secondary.resetAt { m.quotaResetTimestamp(window: "secondary").set(v) }
        // A soft (5xx) cooldown only lowers the account's priority: the selector still uses it when nothing
        // better is left, so it can take requests, and a 5xx burst must not read as an exhausted pool.
        let available = state.withLock { s in
            s.runtime.filter { $0.state == .active || $0.state == .cooling && $0.softCooldown }.count
        }
        metrics.poolAvailableAccounts.set(Double(available))
    }
}
