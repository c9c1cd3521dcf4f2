/// When to refresh an access token before it fails, and whether a request must wait for it. Pure: the caller
/// passes the clock.
///
/// Refresh when the token expires within `skew` seconds (ICE: `exp − 300 s`), or when the last refresh
/// is older than `maximumAge` (Codex: `last_refresh` + 8 days). With neither time known it answers
/// false: the account refreshes on its first 401 instead. It does not refresh, and knows nothing of a
/// refresh in flight or backing off (`TokenRefresher`).
public enum TokenRefreshSchedule {
    public static let defaultSkew: Int64 = 300
    public static let defaultMaximumAge: Int64 = 8 * 24 * 3600

    /// What a request about to use the token does about its refresh.
    public enum Timing: Sendable, Equatable {
        /// Not due: send with the current token.
        case notDue
        /// Due, but the token still works: send with it now, and refresh beside the request for the next ones.
        case inBackground
        /// The token has expired (`exp` passed): refresh, then send with the new one.
        case beforeSending
    }

    /// Only an expired token makes the request wait: one that is merely due (within the skew, or 8 days old)
    /// still authenticates, and waiting for the token endpoint would only delay the request, by up to the token
    /// request's timeout when that endpoint is slow.
    public static func timing(
        expiresAt: Int64?,
        lastRefresh: Int64?,
        now: Int64,
        skew: Int64 = defaultSkew,
        maximumAge: Int64 = defaultMaximumAge
    ) -> Timing {
        guard needsRefresh(expiresAt: expiresAt, lastRefresh: lastRefresh, now: now, skew: skew, maximumAge: maximumAge)
        else { return .notDue }
        if let expiresAt, now >= expiresAt { return .beforeSending }
        return .inBackground
    }

    public static func needsRefresh(
        expiresAt: Int64?,
        lastRefresh: Int64?,
        now: Int64,
        skew: Int64 = defaultSkew,
        maximumAge: Int64 = defaultMaximumAge
    ) -> Bool {
        // Overflow-checked, because the times come from tokens and files: an expiry or a last refresh so far
        // in the past that the subtraction overflows means "refresh".
        if let expiresAt {
            let (refreshAt, overflow) = expiresAt.subtractingReportingOverflow(skew)
            if overflow || now >= refreshAt { return true }
        }
        if let lastRefresh {
            let (age, overflow) = now.subtractingReportingOverflow(lastRefresh)
            if (overflow && lastRefresh < 0) || (!overflow && age >= maximumAge) { return true }
        }
        return false
    }
}
