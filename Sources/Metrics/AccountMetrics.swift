import Synchronization

/// The series of one upstream account (by pseudonym), across every account-labeled family.
///
/// Returned by `SightlineMetrics.registerAccount(_:)`, which creates all of them at once; keep it with
/// the account so recording never looks anything up. Lookups by outcome or window read immutable tables.
/// It does not validate the pseudonym: pass only keyed pseudonyms (`acct_…`), never raw ids or emails.
/// Concurrency: immutable and `Sendable`; every child is lock-free.
public struct AccountMetrics: Sendable {
    public let pseudonym: String
    /// `sightline_account_cooldown_until_timestamp_seconds{account}`.
    public let cooldownUntil: Gauge
    /// `sightline_account_in_flight_requests{account}`.
    public let inFlight: Gauge
    private let attempts: LabelTable<Counter>
    private let quotaUsed: LabelTable<Gauge>
    private let quotaReset: LabelTable<Gauge>
    private let states: LabelTable<Gauge>
    private let refreshes: LabelTable<Counter>

    init(_ pseudonym: String, _ metrics: SightlineMetrics, initialState: String) {
        let attemptsFamily = metrics.upstreamAttemptsFamily
        let quotaUsedFamily = metrics.quotaUsedRatioFamily
        let quotaResetFamily = metrics.quotaResetFamily
        let stateFamily = metrics.accountStateFamily
        let refreshFamily = metrics.tokenRefreshesFamily
        self.pseudonym = pseudonym
        self.attempts = LabelTable([SightlineMetrics.upstreamOutcomes]) { attemptsFamily.labels([pseudonym] + $0) }
        self.quotaUsed = LabelTable([SightlineMetrics.quotaWindows]) { quotaUsedFamily.labels([pseudonym] + $0) }
        self.quotaReset = LabelTable([SightlineMetrics.quotaWindows]) { quotaResetFamily.labels([pseudonym] + $0) }
        self.states = LabelTable([SightlineMetrics.accountStates]) { stateFamily.labels([pseudonym] + $0) }
        self.refreshes = LabelTable([SightlineMetrics.tokenRefreshOutcomes]) {
            refreshFamily.labels([pseudonym] + $0)
        }
        self.cooldownUntil = metrics.cooldownUntilFamily.labels(pseudonym)
        self.inFlight = metrics.accountInFlightFamily.labels(pseudonym)
        setState(initialState)
    }

    /// `sightline_upstream_attempts_total{account,outcome}`.
    public func attempts(outcome: String) -> Counter { attempts[outcome] }

    /// `sightline_account_quota_used_ratio{account,window}`, window `primary` or `secondary`.
    public func quotaUsedRatio(window: String) -> Gauge { quotaUsed[window] }

    /// `sightline_account_quota_reset_timestamp_seconds{account,window}`.
    public func quotaResetTimestamp(window: String) -> Gauge { quotaReset[window] }

    /// `sightline_token_refreshes_total{account,outcome}`.
    public func tokenRefreshes(outcome: String) -> Counter { refreshes[outcome] }

    /// Sets `sightline_account_state{account,state}` to 1 for `state` and 0 for every other state.
    /// Two racing calls may briefly show two states at 1; the account's owner serialises state changes.
    public func setState(_ state: String) {
        for candidate in SightlineMetrics.accountStates where candidate != state { states[candidate].set(0) }
        states[state].set(1)
    }
}

/// The accounts registered so far, so registering twice returns the same series.
/// Concurrency: `Sendable`; `state` is a `Mutex` held for the dictionary lookup and insert only.
final class AccountRegistry: Sendable {
    private let state = Mutex<[String: AccountMetrics]>([:])

    func get(_ pseudonym: String, orMake make: () -> AccountMetrics) -> AccountMetrics {
        if let existing = state.withLock({ $0[pseudonym] }) { return existing }
        let fresh = make()
        return state.withLock { accounts in
            if let existing = accounts[pseudonym] { return existing }
            accounts[pseudonym] = fresh
            return fresh
        }
    }

    var count: Int { state.withLock { $0.count } }
}

extension SightlineMetrics {
    /// Pre-initialises (and returns) every series of one account, in every account-labeled family, with
    /// `sightline_account_state` set to `initialState`. Idempotent: a second call returns the same series
    /// and leaves the state alone. Call it only for the configured pool, which must stay small (≤ 32 or so).
    @discardableResult
    public func registerAccount(_ pseudonym: String, initialState: String = "active") -> AccountMetrics {
        accounts.get(pseudonym) { AccountMetrics(pseudonym, self, initialState: initialState) }
    }

    /// Number of accounts registered so far.
    public var registeredAccountCount: Int { accounts.count }
}
