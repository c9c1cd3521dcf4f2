/// When to refresh an access token before it fails. Pure: the caller passes the clock.
///
/// Refresh when the token expires within `skew` seconds (ICE: `exp − 300 s`), or when the last refresh
/// is older than `maximumAge` (Codex: `last_refresh` + 8 days). With neither time known it answers
/// false: the account refreshes on its first 401 instead.
public enum TokenRefreshSchedule {
    public static let defaultSkew: Int64 = 300
    public static let defaultMaximumAge: Int64 = 8 * 24 * 3600

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
