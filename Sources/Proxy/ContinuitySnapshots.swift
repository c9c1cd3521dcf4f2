import Dispatch
import Foundation
import LogRedaction

/// Persists what keeps conversations continuous across restarts: the sticky map (continuity key →
/// account) in `<state>/sticky.json` and the response-id affinity map in `<state>/affinity.json`.
/// Both hold only keyed pseudonyms (`sess_…`, `rid_…`, `acct_…`), never raw ids.
///
/// Saves every `continuitySnapshotSeconds` on a Dispatch timer (off the request path) and at shutdown;
/// loads at startup. A snapshot that cannot be read (corrupt, other key) is ignored and logged: losing
/// stickiness costs cache misses, never correctness. Writes are atomic (temp file, fsync, rename).
/// Emits the log event `sightline.continuity` ("continuity snapshot loaded" / "continuity snapshot failed" for a
/// snapshot that cannot be read); a failed save is counted and logged as a failed state write
/// (`sightline_state_write_failures_total{file="continuity"}`, event `sightline.state_write`, `StateWriteRecorder`).
/// Concurrency: `@unchecked Sendable` because `DispatchSourceTimer` is not marked Sendable; the timer is
/// created and resumed in `init` (unscheduled, it never fires), then only scheduled and cancelled (thread-safe
/// Dispatch calls).
final class ContinuitySnapshots: @unchecked Sendable {
    let ctx: ProxyContext
    private let timer: DispatchSourceTimer
    private let queue = DispatchQueue(label: "sightline.continuity")

    init(ctx: ProxyContext) {
        self.ctx = ctx
        timer = DispatchSource.makeTimerSource(queue: queue)
        // Resumed at once: libdispatch traps on releasing a source that was never resumed, which is what happened
        // when the listener failed to start (a port in use) and the proxy was dropped before its saves began.
        timer.setEventHandler { [weak self] in self?.save() }
        timer.resume()
    }

    static let stickyFileName = "sticky.json"

    var stickyPath: String { ctx.configuration.stateDirectory + "/" + Self.stickyFileName }
    var affinityPath: String { ctx.configuration.stateDirectory + "/" + AffinityMap.snapshotFileName }

    func load() {
        let now = ctx.now()
        var sticky = 0
        var anchors = 0
        if let bytes = try? AtomicFile.readIfExists(stickyPath) {
            sticky = ctx.pool.restoreSticky(bytes, now: now)
        }
        do {
            if FileManager.default.fileExists(atPath: affinityPath) {
                anchors = try ctx.affinity.load(from: affinityPath, now: Int64(now), accounts: ctx.pool.pseudonyms)
            }
        } catch {
            ctx.logger.log(
                .warn,
                "continuity snapshot failed",
                event: "sightline.continuity",
                [
                    LogAttribute("error.type", .string(error.reason))
                ]
            )
        }
        ctx.logger.log(
            .info,
            "continuity snapshot loaded",
            event: "sightline.continuity",
            [
                LogAttribute("sightline.continuity.sticky_entries", .int(sticky)),
                LogAttribute("sightline.continuity.affinity_entries", .int(anchors)),
            ]
        )
    }

    func save() {
        let now = ctx.now()
        // On the same period: an `accounts import` made meanwhile is taken in, and an account it re-authenticated
        // is back in rotation (docs/accounts.md).
        ctx.store.absorbExternalChanges()
        ctx.pool.readmitReauthenticated(now: now)
        var accountsWritable = true
        if ctx.store.hasUnwrittenChanges {
            // A failed write left changes in memory only, and nothing may write the file again soon: written here, on
            // the timer and at shutdown, until a write succeeds (until 2026-12-07 a restart could lose them even
            // after the disk was mended).
            do throws(AccountStoreError) {
                try ctx.store.save()
            } catch {
                ctx.stateWrites.record(.catchUp, reason: error.reason)
                accountsWritable = false
            }
        }
        // Not into a file that just refused a write: one record per tick for one cause. The quotas stay pending in the
        // pool and go with the next tick that writes.
        if accountsWritable { ctx.pool.persistQuotas(now: now) }
        do {
            try AtomicFile.write(ctx.pool.stickySnapshot(now: now), to: stickyPath)
            try ctx.affinity.save(to: affinityPath, now: Int64(now), accounts: ctx.pool.pseudonyms)
        } catch {
            // Until 2026-12-07 a WARN "continuity snapshot failed", counted nowhere.
            ctx.stateWrites.record(.continuitySnapshot, reason: error.reason.description)
        }
    }

    func startPeriodicSaves() {
        let interval = max(1, ctx.configuration.continuitySnapshotSeconds)
        timer.schedule(deadline: .now() + interval, repeating: interval)
    }

    func stop() { timer.cancel() }
}
