/// What selection needs to know about one account at one instant. A value; no locks.
struct AccountSnapshot: Equatable, Sendable {
    enum State: String, Sendable, CaseIterable {
        /// In rotation.
        case active
        /// Temporarily out after a 429 or 5xx, until `cooldownUntil`.
        case cooling
        /// Its refresh token is dead; out until an operator re-imports it.
        case reauthRequired = "reauth_required"
        /// Disabled by configuration.
        case disabled
    }

    var index: Int
    var pseudonym: String
    var state: State
    /// Unix seconds; meaningful while `state == .cooling`.
    var cooldownUntil: Double
    /// A soft cooldown (after a 5xx) only lowers the account's priority: it is still chosen when no
    /// other account is eligible, so a burst of upstream errors never looks like an exhausted pool.
    var softCooldown = false
    var inFlight: Int
    var maxConcurrent: Int
    /// 0…1, the larger of the primary and secondary windows' used fractions, when known.
    var quotaUsed: Double?
    /// Unix seconds at which the fuller window resets, when known.
    var quotaResetAt: Double?
}
