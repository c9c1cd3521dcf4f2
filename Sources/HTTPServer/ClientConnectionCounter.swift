import Synchronization

/// Counts open connections per client IP address and admits a new one only while that address is under
/// its limit, so one client (or one misbehaving host behind it) cannot take every connection slot.
///
/// Keys are the address without the port (`a.b.c.d`); an address whose count drops to zero is forgotten,
/// so the table holds only addresses with open connections. A limit of 0 or less admits everything and
/// takes no lock. Does not answer or close anything: the event loop does, with a 429.
/// Concurrency: `Sendable`; the table is behind a `Mutex` (one short critical section per accept and close).
final class ClientConnectionCounter: Sendable {
    let limit: Int
    private let counts = Mutex<[String: Int]>([:])

    init(limit: Int) { self.limit = limit }

    /// The host part of `a.b.c.d:port` (the whole string when there is no port).
    static func host(of remoteAddress: String) -> String {
        guard let colon = remoteAddress.lastIndex(of: ":") else { return remoteAddress }
        return String(remoteAddress[..<colon])
    }

    /// Counts one more connection from `host`; false (and nothing counted) when it already has `limit`.
    func admit(_ host: String) -> Bool {
        guard limit > 0 else { return true }
        return counts.withLock { table in
            let current = table[host, default: 0]
            guard current < limit else { return false }
            table[host] = current + 1
            return true
        }
    }

    /// Forgets one connection from `host` (admitted earlier by `admit`).
    func release(_ host: String) {
        guard limit > 0 else { return }
        counts.withLock { table in
            guard let current = table[host] else { return }
            if current <= 1 { table[host] = nil } else { table[host] = current - 1 }
        }
    }

    /// Open connections counted for `host` right now.
    func count(_ host: String) -> Int { limit > 0 ? counts.withLock { $0[host, default: 0] } : 0 }
}
