import Dispatch
import Synchronization

/// Writes the pool's cooldown changes to `accounts.json` on a serial queue of its own, so the thread that cooled
/// an account, an event loop that serves every connection on it, never waits for the `flock`, the write and the
/// `fsync` (until 2026-12-07 each hard cooldown and each admin reinstatement did all three on the loop).
///
/// Changes are applied in the order they were submitted. Those pending when the queue gets to them are applied in
/// one read-merge-write (`AccountStore.setCooldowns`), so a burst of cooldowns costs one write of the file, and
/// an account's last change is what lands. A `completion` runs on the queue once its change has been written (true)
/// or the write failed (false): the admin reinstatement answers from there, so its 200 comes after the write and
/// says whether the file took it.
/// `flush` waits for every change submitted before it: shutdown calls it, so a cooldown is not lost to a stop.
///
/// It does not decide cooldowns (`AccountPool` does), log or count: a failed write is handed, with the changes it
/// carried, to `onFailure` (the pool counts and logs it, `StateWriteRecorder`), before the completions run. The
/// change stays in the store's memory and lands with the store's next write; it is not retried here. Until
/// 2026-12-07 a failed write was dropped (`try?`) without a word.
/// Concurrency: `Sendable`; the changes waiting for the queue sit behind `pending` (a `Mutex`); it calls the store
/// only from `queue` (serial, `sightline.account-state`).
final class AccountStateWriter: Sendable {
    struct Change: Sendable {
        var name: String
        /// The cooldown end to set (never shortening a longer one, as `AccountStore.setCooldowns`), or nil to clear.
        var until: Int64?
    }

    private struct Pending {
        var changes: [Change] = []
        var completions: [@Sendable (Bool) -> Void] = []
        /// A drain is queued and has not yet taken `changes`: the next submission joins it.
        var drainQueued = false
    }

    private let store: AccountStore
    private let onFailure: (@Sendable ([Change], AccountStoreError) -> Void)?
    private let queue = DispatchQueue(label: "sightline.account-state", qos: .utility)
    private let pending = Mutex(Pending())

    /// `onFailure` runs on the writer's queue, once per failed write, with the changes that write carried.
    init(store: AccountStore, onFailure: (@Sendable ([Change], AccountStoreError) -> Void)? = nil) {
        self.store = store
        self.onFailure = onFailure
    }

    /// Queues `change`; returns at once. `completion`, if any, runs on the writer's queue after the write, with
    /// whether it succeeded.
    func submit(_ change: Change, completion: (@Sendable (Bool) -> Void)? = nil) {
        let queueDrain = pending.withLock { p -> Bool in
            p.changes.append(change)
            if let completion { p.completions.append(completion) }
            defer { p.drainQueued = true }
            return !p.drainQueued
        }
        if queueDrain { queue.async { [self] in drain() } }
    }

    /// Waits until every change submitted before the call is written, at most `timeout` seconds (a state directory
    /// on a disk that hangs must not hold a stop for ever). Returns whether they all were.
    @discardableResult
    func flush(timeout: Double) -> Bool {
        let done = DispatchSemaphore(value: 0)
        // The queue is serial and every drain is queued before the change it writes returns: this runs after them.
        queue.async { done.signal() }
        return done.wait(timeout: .now() + timeout) == .success
    }

    private func drain() {
        let (changes, completions) = pending.withLock { p in
            defer { p = Pending() }
            return (p.changes, p.completions)
        }
        var written = true
        do {
            try store.setCooldowns(changes.map { ($0.name, $0.until) })
        } catch {
            written = false
            onFailure?(changes, error)
        }
        for completion in completions { completion(written) }
    }
}
