import LogRedaction
import Metrics

/// The one place a failed write of a state file is recorded: exactly one increment of
/// `sightline_state_write_failures_total{file,reason}` and one log record (event `sightline.state_write`, ERROR,
/// body "state write failed", with `sightline.state.file`, `sightline.state.write`, `error.type`,
/// `sightline.state.accounts` and, for one account, `sightline.account`), built from the same values so the two
/// never disagree.
///
/// Each writer keeps its change in memory when the file cannot be written (`AccountStore`), and the next successful
/// write of the file carries it; what a failure risks is a restart before then: a cooldown lost sends requests into
/// a known usage limit, a rotated refresh token lost burns the account's login. Until 2026-12-07 most of these
/// failures were dropped (`try?`) without a word.
/// It does not retry, and it never sees a path, a file's contents or a raw account name: only the stable reason
/// (`AtomicFileError.Reason` or `AccountStoreError.reason`, written as `error.type` as is, and as the `reason` label
/// when in `SightlineMetrics.stateWriteFailureReasons`, else `other`) and account pseudonyms.
/// Concurrency: stateless; safe from any thread.
struct StateWriteRecorder: Sendable {
    /// What the failed write carried; `file` follows from it.
    enum Write: String, Sendable {
        /// `AccountStateWriter`'s batch: hard cooldowns and admin reinstatements (a cleared cooldown), in one write.
        case cooldowns
        /// `AccountPool.persistQuotas`, on the continuity timer.
        case quotas
        /// A restored cooldown longer than `AccountPool.maximumCooldownSeconds`, written back shortened at start-up.
        case cooldownCap = "cooldown_cap"
        /// The tokens of a successful refresh (`AccountStore.recordRotation`).
        case tokenRotation = "token_rotation"
        /// A terminal refresh failure's `reauth_required` status.
        case reauthRequired = "reauth_required"
        /// What earlier failed writes left in memory only, written again (`AccountStore.hasUnwrittenChanges`) on the
        /// continuity timer and at shutdown.
        case catchUp = "catch_up"
        /// `sticky.json` and `affinity.json` (`ContinuitySnapshots.save`).
        case continuitySnapshot = "continuity_snapshot"

        /// The `file` label value (`SightlineMetrics.stateFiles`).
        var file: String { self == .continuitySnapshot ? "continuity" : "accounts" }
    }

    let metrics: SightlineMetrics
    let logger: Logger

    /// `accounts`: the pseudonyms of the accounts whose changes the write carried (none for a continuity snapshot).
    func record(_ write: Write, reason: String, accounts: [String] = []) {
        metrics.stateWriteFailures(file: write.file, reason: reason).increment()
        var attributes = [
            LogAttribute("sightline.state.file", .string(write.file)),
            LogAttribute("sightline.state.write", .string(write.rawValue)),
            LogAttribute("error.type", .string(reason)),
        ]
        var distinct: [String] = []
        for account in accounts where !distinct.contains(account) { distinct.append(account) }
        if write != .continuitySnapshot {
            attributes.append(LogAttribute("sightline.state.accounts", .int(distinct.count)))
        }
        if distinct.count == 1 { attributes.append(LogAttribute("sightline.account", .pseudonym(distinct[0]))) }
        logger.log(.error, "state write failed", event: "sightline.state_write", attributes)
    }
}
