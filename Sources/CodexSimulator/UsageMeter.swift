/// Tracks how much of its rate-limit windows each account has used, for the `x-codex-*` headers.
///
/// Two fixed windows per account (primary 300 min, secondary 10080 min) start when the account is first
/// seen; used percent is tokens used in the window × 100 / the window's budget, capped at 100, and the
/// window restarts once its reset time has passed. Does not refuse requests on its own: a 429 comes
/// only from the `usage_limit` fault. Pure: `now` (unix seconds) is passed in.
/// Concurrency: a value type, owned by `SimulatorState` under its lock.
struct UsageMeter: Sendable {
    static let primaryWindowMinutes = 300
    static let secondaryWindowMinutes = 10_080

    struct Window: Sendable, Equatable {
        var minutes: Int
        var budget: Int
        var startedAt: Double
        var used = 0

        var resetAt: Int { Int(startedAt) + minutes * 60 }
        var usedPercent: Int { budget <= 0 ? 0 : min(100, used * 100 / budget) }

        mutating func roll(now: Double) {
            if now >= Double(resetAt) {
                startedAt = now
                used = 0
            }
        }
    }

    struct Snapshot: Sendable, Equatable {
        var primary: Window
        var secondary: Window
    }

    let primaryBudget: Int
    let secondaryBudget: Int
    private(set) var windows: [String: Snapshot] = [:]

    init(primaryBudget: Int, secondaryBudget: Int) {
        self.primaryBudget = primaryBudget
        self.secondaryBudget = secondaryBudget
    }

    /// Adds `tokens` to both windows of `account` and returns the state after it.
    @discardableResult
    mutating func record(account: String, tokens: Int, now: Double) -> Snapshot {
        var s = snapshot(account: account, now: now)
        s.primary.used += tokens
        s.secondary.used += tokens
        windows[account] = s
        return s
    }

    /// The current windows of `account` (rolled over if due), creating them on first sight.
    mutating func snapshot(account: String, now: Double) -> Snapshot {
        var s =
            windows[account]
            ?? Snapshot(
                primary: Window(minutes: Self.primaryWindowMinutes, budget: primaryBudget, startedAt: now),
                secondary: Window(minutes: Self.secondaryWindowMinutes, budget: secondaryBudget, startedAt: now)
            )
        s.primary.roll(now: now)
        s.secondary.roll(now: now)
        windows[account] = s
        return s
    }

    mutating func reset() { windows = [:] }

    /// The `x-codex-*` rate-limit headers for `snapshot`; `primaryExhausted` forces the primary window to
    /// 100 % with reset time `resetAt` (the 429 `usage_limit` case).
    static func headers(_ s: Snapshot, primaryExhaustedUntil resetAt: Int? = nil) -> [(String, String)] {
        [
            ("x-codex-primary-used-percent", String(resetAt != nil ? 100 : s.primary.usedPercent)),
            ("x-codex-primary-window-minutes", String(s.primary.minutes)),
            ("x-codex-primary-reset-at", String(resetAt ?? s.primary.resetAt)),
            ("x-codex-secondary-used-percent", String(s.secondary.usedPercent)),
            ("x-codex-secondary-window-minutes", String(s.secondary.minutes)),
            ("x-codex-secondary-reset-at", String(s.secondary.resetAt)),
        ]
    }
}
