import Foundation
import LogRedaction
import Synchronization

/// The HTTP bridge's pooled upstream sessions, one per continuity key and principal: which exist, which are busy with
/// a request, and when each was last used. Bounded (`maxSessions`) with an idle TTL; when full, the
/// least recently used idle session is evicted, and when every session is busy the request simply
/// goes over plain HTTP (the bridge never queues, waits or cools anything down).
///
/// Concurrency: `Sendable`; the table sits behind a `Mutex`; sessions are retired outside it.
/// Emits: `sightline_websocket_upstream_turns_total{client="http_bridge"}` is counted by the session;
/// evictions are logged (event `sightline.bridge`).
final class BridgePool: Sendable {
    private struct Entry {
        var session: BridgeSession
        var busy: Bool
        var lastUsed: Double
    }

    let maxSessions: Int
    let idleTTLSeconds: Double
    private let logger: Logger
    private let table = Mutex<[String: Entry]>([:])

    init(maxSessions: Int = 64, idleTTLSeconds: Double = 300, logger: Logger) {
        self.maxSessions = maxSessions
        self.idleTTLSeconds = idleTTLSeconds
        self.logger = logger
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
            for (k, e) in t where !e.busy && now - e.lastUsed >= idleTTLSeconds {
                retired.append((e.session, "idle_ttl"))
                t[k] = nil
            }
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
        for (session, reason) in retired {
            session.retire(reason: reason)
            logger.log(
                .info,
                "bridge session evicted",
                event: "sightline.bridge",
                [LogAttribute("error.type", .string(reason))]
            )
        }
        return result.map { (session: $0.0, isNew: $0.1) }
    }

    /// Marks the key's session idle again (only if `session` is still the key's).
    func checkin(key: String, session: BridgeSession, now: Double) {
        table.withLock { t in
            guard t[key]?.session === session else { return }
            t[key]?.busy = false
            t[key]?.lastUsed = now
        }
    }

    /// Forgets the key's session (after a failure; the next request starts a fresh one).
    func remove(key: String, session: BridgeSession) {
        table.withLock { t in
            if t[key]?.session === session { t[key] = nil }
        }
    }
}
