/// How long an account's refresh waits after transient failures: 30 s after the first, doubling with each
/// consecutive one, at most 5 min. Pure: the caller passes the clock.
///
/// A transient failure (429, 5xx, a timeout) changes nothing in the store, so without it every request to an
/// account whose token is due sent one more `POST /oauth/token` to an endpoint that had just refused one. It
/// applies only to the login that failed (`generation`): a rotation, an import or a new configured token starts
/// afresh. It does not decide whether a token is due (`TokenRefreshSchedule`) and never delays a success. A clock
/// stepped back before the failure ends the wait rather than stretching it.
/// Concurrency: a value; `TokenRefresher` keeps one per account behind its lock.
public struct TokenRefreshBackoff: Sendable, Equatable {
    public static let initialSeconds: Int64 = 30
    public static let maximumSeconds: Int64 = 300

    /// The refresh generation of the login whose refresh failed.
    public private(set) var generation: Int
    public private(set) var consecutiveFailures: Int
    /// Wall-clock seconds of the last failure.
    public private(set) var failedAt: Int64

    /// The state after a first transient failure of `generation` at `now`.
    public init(generation: Int, failedAt now: Int64) {
        self.generation = generation
        self.consecutiveFailures = 1
        self.failedAt = now
    }

    /// The wait after the last failure: 30 s, 60 s, 120 s, 240 s, then 300 s.
    public var delaySeconds: Int64 {
        let doublings = min(consecutiveFailures - 1, 8)  // 30 << 4 already passes the cap
        return min(Self.maximumSeconds, Self.initialSeconds << doublings)
    }

    /// Whether a refresh of `generation` may be sent at `now`.
    public func allows(generation current: Int, now: Int64) -> Bool {
        guard current == generation else { return true }
        let (retryAt, overflow) = failedAt.addingReportingOverflow(delaySeconds)
        return overflow || now < failedAt || now >= retryAt
    }

    /// One more transient failure of `generation` at `now`: the next wait doubles, or starts over for another login.
    public mutating func recordFailure(generation current: Int, now: Int64) {
        if current == generation {
            consecutiveFailures += 1
            failedAt = now
        } else {
            self = TokenRefreshBackoff(generation: current, failedAt: now)
        }
    }
}
