import Foundation
import LogRedaction
import Synchronization

/// The HTTP bridge's pooled upstream sessions, one per continuity key and principal: which exist, which are busy with
/// a request, and when each was last used. Bounded (`maxSessions`) with an idle TTL; when full, the
/// least recently used idle session is evicted, and when every session is busy the request simply
/// goes over plain HTTP (the bridge never queues, waits or cools anything down). Idle sessions past the TTL are
/// retired by a sweep timer (at most one pending), not only when another request checks one out.
///
/// Concurrency: `Sendable`; the table sits behind a `Mutex`; sessions are retired outside it.
/// Emits: `sightline_websocket_upstream_turns_total{client="http_bridge"}` is counted by the session;
/// evictions are logged (event `sightline.bridge`).
final class BridgePool: Sendable {
    struct Entry {
        var session: BridgeSession
        var busy: Bool
        var lastUsed: Double
    }

    let maxSessions: Int
    let idleTTLSeconds: Double
    private let logger: Logger
    /// The clock of `checkout`'s and `checkin`'s `now` (`ProxyContext.monotonic`), read by the sweep.
    private let monotonic: @Sendable () -> Double
    private let table = Mutex<[String: Entry]>([:])
    /// A sweep is scheduled: one timer serves every idle session, not one per check-in.
    private let sweepPending = Mutex(false)
    private static let sweeps = DispatchQueue(label: "sightline.bridge.sweep")

    init(
        maxSessions: Int = 64,
        idleTTLSeconds: Double = 300,
        logger: Logger,
        monotonic: @escaping @Sendable () -> Double = { MonotonicClock.seconds() }
    ) {
        self.maxSessions = maxSessions
        self.idleTTLSeconds = idleTTLSeconds
        self.logger = logger
        self.monotonic = monotonic
    }

    var count: Int { table.withLock { $0.count } }

    /// A session's key in the pool: two principals that send the same continuity key never share an upstream
    /// socket, so neither's request is continued from the other's previous response (`BridgeContinuation`
    /// matches output items by id) and anchors stay with their principal (docs/recovery.md).
    static func poolKey(continuityKey: String, principal: String?) -> String {
        guard let principal else { return continuityKey }
        return principal + "\u{0}" + continuityKey
    }

    /// The key's session, marked busy (made when absent); nil when it is busy or the pool is full of busy
    /// sessions. `make` builds a new session. `now` (and `checkin`'s) is `ProxyContext.monotonic`: the idle TTL is an age.
    func checkout(key: String, now: Double, make: () -> BridgeSession) -> (session: BridgeSession, isNew: Bool)? {
        var retired: [(BridgeSession, String)] = []
        let result = table.withLock { t -> (BridgeSession, Bool)? in
            retired = removeExpired(&t, now: now)
            if var entry = t[key] {
                guard !entry.busy else { return nil }
                entry.busy = true
                entry.lastUsed = now
                t[key] = entry
                return (entry.session, false)
            }
            if t.count >= maxSessions {
                guard let victim = t.filter({ !$0.value.busy }).min(by: { $0.value.lastUsed < $1.value.lastUsed })
                else {
                    return nil
                }
                retired.append((victim.value.session, "capacity"))
                t[victim.key] = nil
            }
            let session = make()
            t[key] = Entry(session: session, busy: true, lastUsed: now)
            return (session, true)
        }
        retire(retired)
        return result.map { (session: $0.0, isNew: $0.1) }
    }

    private func retire(_ retired: [(BridgeSession, String)]) {
        for (session, reason) in retired {
            session.retire(reason: reason)
            logger.log(
                .info,
                "bridge session evicted",
                event: "sightline.bridge",
                [LogAttribute("error.type", .string(reason))]
            )
        }
    }

    /// Takes the sessions idle past the TTL out of `t`, to be retired (`retire`) once the lock is released.
    private func removeExpired(_ t: inout [String: Entry], now: Double) -> [(BridgeSession, String)] {
        Self.expired(t, now: now, ttl: idleTTLSeconds).compactMap { k in
            t.removeValue(forKey: k).map { ($0.session, "idle_ttl") }
        }
    }

    /// The keys of the sessions idle for at least `ttl` at `now`. Pure.
    static func expired(_ t: [String: Entry], now: Double, ttl: Double) -> [String] {
        t.compactMap { k, e in !e.busy && now - e.lastUsed >= ttl ? k : nil }
    }

    /// Marks the key's session idle again (only if `session` is still the key's), and makes sure a sweep will
    /// retire it once its TTL has run.
    func checkin(key: String, session: BridgeSession, now: Double) {
        table.withLock { t in
            guard t[key]?.session === session else { return }
            t[key]?.busy = false
            t[key]?.lastUsed = now
        }
        scheduleSweep(after: idleTTLSeconds)
    }

    private func scheduleSweep(after seconds: Double) {
        let first = sweepPending.withLock { pending -> Bool in
            defer { pending = true }
            return !pending
        }
        guard first else { return }
        Self.sweeps.asyncAfter(deadline: .now() + max(0, seconds)) { [weak self] in self?.sweep() }
    }

    /// Retires the sessions idle past the TTL, then schedules the next sweep for the earliest one still idle (a
    /// session checked in later is due later: the TTL is the same for all).
    private func sweep() {
        sweepPending.withLock { $0 = false }
        let now = monotonic()
        var retired: [(BridgeSession, String)] = []
        let nextDue = table.withLock { t -> Double? in
            retired = removeExpired(&t, now: now)
            return t.values.filter { !$0.busy }.map { $0.lastUsed + idleTTLSeconds }.min()
        }
        retire(retired)
        if let nextDue { scheduleSweep(after: nextDue - now) }
    }

    /// Forgets the key's session (after a failure; the next request starts a fresh one).
    func remove(key: String, session: BridgeSession) {
        table.withLock { t in
            if t[key]?.session === session { t[key] = nil }
        }
    }
}
