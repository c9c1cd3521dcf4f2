/// One measured load shape, run against every peer in turn.
struct Scenario {
    let id: String
    let concurrency: Int
    let bodyBytes: Int
    let requests: Int
    let maxSeconds: Double
    /// Delay before every event, in ms: set on the simulator as its standing `slow` fault for the scenario
    /// (`POST /__sim/standing-fault`), not as a request header, so it also paces the streams a bridge
    /// carries in WebSocket frames, which cannot carry headers. nil: unpaced.
    var paceMs: Int?
    /// Paced scenarios spread their first requests over about one stream's duration.
    var rampSeconds: Double { paceMs == nil ? 0 : concurrency >= 200 ? 3 : 1 }
    var description: String

    static func list(full: Bool) -> [Scenario] {
        let k = full ? 5 : 1
        let t = full ? 3.0 : 1.0
        // Paced scenarios ask the simulator to delay every event (standing fault `slow`, ms=N), so streams last
        // about 208 × N ms like real ones and the request rate stays below what the simulator can serve
        // (≈450 streams/s of 50 KB bodies on 2 cores): their latencies measure the peer, not a queue at the
        // upstream. Unpaced ones send the whole stream at once and saturate the machine: throughput and CPU.
        return [
            Scenario(
                id: "c1-50k",
                concurrency: 1,
                bodyBytes: 51_200,
                requests: 300 * k,
                maxSeconds: 8 * t,
                description: "1 stream at a time, 50 KB history, unpaced"
            ),
            Scenario(
                id: "c50-50k-sat",
                concurrency: 50,
                bodyBytes: 51_200,
                requests: 3000 * k,
                maxSeconds: 8 * t,
                description: "50 concurrent streams, 50 KB history, unpaced (saturates the machine: throughput and CPU)"
            ),
            Scenario(
                id: "c50-50k",
                concurrency: 50,
                bodyBytes: 51_200,
                requests: 250 * k,
                maxSeconds: 10 * t,
                paceMs: 5,
                description: "50 concurrent streams, 50 KB history, paced 5 ms/event (≈1 s streams)"
            ),
            Scenario(
                id: "c200-50k",
                concurrency: 200,
                bodyBytes: 51_200,
                requests: 600 * k,
                maxSeconds: 12 * t,
                paceMs: 20,
                description: "200 concurrent streams, 50 KB history, paced 20 ms/event (≈4 s streams)"
            ),
            Scenario(
                id: "c1000-50k",
                concurrency: 1000,
                bodyBytes: 51_200,
                requests: 1000 * k,
                maxSeconds: 30 * t,
                paceMs: 50,
                description: "1000 concurrent streams held open, 50 KB history, paced 50 ms/event (≈10 s streams)"
            ),
            Scenario(
                id: "c1-1m",
                concurrency: 1,
                bodyBytes: 1_048_576,
                requests: 30 * k,
                maxSeconds: 8 * t,
                description: "1 stream at a time, 1 MB history, unpaced"
            ),
            Scenario(
                id: "c20-1m",
                concurrency: 20,
                bodyBytes: 1_048_576,
                requests: 40 * k,
                maxSeconds: 10 * t,
                paceMs: 20,
                description: "20 concurrent streams, 1 MB history, paced 20 ms/event (≈4 s streams)"
            ),
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
