/// One measured load shape, run against every peer in turn.
struct Scenario {
    let id: String
    let concurrency: Int
    let bodyBytes: Int
    let requests: Int
    let maxSeconds: Double
    /// Extra request headers (the hold scenario asks the simulator for slow streams).
    var headers: [(String, String)] = []
    var description: String

    static func list(full: Bool) -> [Scenario] {
        let k = full ? 5 : 1
        let t = full ? 3.0 : 1.0
        return [
            Scenario(id: "c1-50k", concurrency: 1, bodyBytes: 51_200, requests: 300 * k, maxSeconds: 8 * t,
                     description: "1 stream at a time, 50 KB history"),
            Scenario(id: "c50-50k", concurrency: 50, bodyBytes: 51_200, requests: 3000 * k, maxSeconds: 8 * t,
                     description: "50 concurrent streams, 50 KB history"),
            Scenario(id: "c200-50k", concurrency: 200, bodyBytes: 51_200, requests: 4000 * k, maxSeconds: 10 * t,
                     description: "200 concurrent streams, 50 KB history"),
            Scenario(id: "c1000-50k", concurrency: 1000, bodyBytes: 51_200, requests: 5000 * k, maxSeconds: 12 * t,
                     description: "1000 concurrent streams, 50 KB history"),
            Scenario(id: "c1-1m", concurrency: 1, bodyBytes: 1_048_576, requests: 30 * k, maxSeconds: 8 * t,
                     description: "1 stream at a time, 1 MB history"),
            Scenario(id: "c50-1m", concurrency: 50, bodyBytes: 1_048_576, requests: 300 * k, maxSeconds: 10 * t,
                     description: "50 concurrent streams, 1 MB history"),
            Scenario(id: "hold1000", concurrency: 1000, bodyBytes: 51_200, requests: 1000, maxSeconds: 20 * t,
                     headers: [("x-sim-fault", "slow;ms=10")],
                     description: "1000 streams held open at once: each event delayed 10 ms upstream (≈2 s streams)"),
        ]
    }
}

/// A system under test: the load client's target, and the process tree whose CPU and RSS are charged to it.
struct Peer {
    var name: String
    var port: Int
    var pid: Int32?
    var path = "/backend-api/codex/responses"
    /// Port serving Sightline's `/metrics` (only Sightline has one): enables the disconnect probe.
    var metricsPort: Int?
    var note = ""

    /// `name=port[,pid=N][,path=/p][,metrics=N][,note=text]`
    static func parse(_ text: String) -> Peer? {
        guard let eq = text.firstIndex(of: "=") else { return nil }
        let name = String(text[..<eq])
        var parts = text[text.index(after: eq)...].split(separator: ",", omittingEmptySubsequences: false)
        guard let first = parts.first, let port = Int(first) else { return nil }
        parts.removeFirst()
        var peer = Peer(name: name, port: port)
        for p in parts {
            let kv = p.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { continue }
            switch kv[0] {
            case "pid": peer.pid = Int32(kv[1])
            case "path": peer.path = kv[1]
            case "metrics": peer.metricsPort = Int(kv[1])
            case "note": peer.note = kv[1]
            default: break
            }
        }
        return peer
    }
}
