/// How long an account's refresh waits after transient failures: 30 s after the first, doubling with each
/// consecutive one, at most 5 min. Pure: the caller passes the clock.
///
/// A transient failure (429, 5xx, a timeout) changes nothing in the store, so without it every request to an
/// account whose token was due sent one more `POST /oauth/token` to an endpoint that had just refused one. It
/// applies only to the login that failed, told by its refresh token (`login`, a `RefreshTokenFingerprint`): a
/// rotation, an import or a new configured token with another refresh token starts afresh, whatever its refresh
/// generation. Until 2026-12-07 it was keyed by the generation, so new credentials written at the generation of the
/// login that failed (an `accounts.json` written by hand or by another tool, a configured token changed back) waited
/// out up to 5 min of the old login's backoff. It does not decide whether a token is due (`TokenRefreshSchedule`)
/// and never delays a success. A clock stepped back before the failure ends the wait rather than stretching it.
/// Concurrency: a value; `TokenRefresher` keeps one per account behind its lock.
struct TokenRefreshBackoff: Sendable, Equatable {
    static let initialSeconds: Int64 = 30
    static let maximumSeconds: Int64 = 300

    /// The refresh token of the login whose refresh failed, as a keyed digest.
    private(set) var login: RefreshTokenFingerprint
    private(set) var consecutiveFailures: Int
    /// Wall-clock seconds of the last failure.
    private(set) var failedAt: Int64

    /// The state after a first transient failure of `login` at `now`.
    init(login: RefreshTokenFingerprint, failedAt now: Int64) {
        self.login = login
        self.consecutiveFailures = 1
        self.failedAt = now
    }

    /// The wait after the last failure: 30 s, 60 s, 120 s, 240 s, then 300 s.
    var delaySeconds: Int64 {
        let doublings = min(consecutiveFailures - 1, 8)  // 30 << 4 already passes the cap
        return min(Self.maximumSeconds, Self.initialSeconds << doublings)
    }

    /// Whether a refresh with the login `current` may be sent at `now`.
    func allows(login current: RefreshTokenFingerprint, now: Int64) -> Bool {
        guard current == login else { return true }
        let (retryAt, overflow) = failedAt.addingReportingOverflow(delaySeconds)
        return overflow || now < failedAt || now >= retryAt
    }

    /// One more transient failure of `current` at `now`: the next wait doubles, or starts over for another login.
    mutating func recordFailure(login current: RefreshTokenFingerprint, now: Int64) {
        if current == login {
            consecutiveFailures += 1
            failedAt = now
        } else {
            self = TokenRefreshBackoff(login: current, failedAt: now)
        }
    }
}
