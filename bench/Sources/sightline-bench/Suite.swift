import Foundation
import Glibc

/// The side-by-side comparison: every scenario against every peer, one peer at a time, the same simulator
/// behind all of them. Collects latency, throughput, CPU and RSS per (scenario, peer), the disconnect probe
/// for peers with `/metrics`, and the micro-benchmarks; `SuiteReport` turns them into markdown.
/// Single-threaded; bounded in requests and time by each `Scenario`.
final class Suite {
    struct Cell {
        let result: LoadResult
        /// The peer's tree over the scenario, seconds (nil for a peer without a pid).
        let cpu: ProcessProbe.CPU?
        let simulatorCPU: Double
        var peerCPU: Double? { cpu?.total }
    }
    struct Memory {
        var startup = 0
        var atRest = 0
        var hold1000 = 0
        var afterRun = 0
    }

    let peers: [Peer]
    let simulatorPID: Int32
    /// Where the simulator's admin routes are: each scenario's pacing is set there.
    let simulatorPort: Int
    let full: Bool
    let scenarios: [Scenario]
    var cells: [String: [String: Cell]] = [:]  // scenario id → peer name → cell
    var memory: [String: Memory] = [:]
    var disconnect: [String: [Double?]] = [:]  // peer → seconds until in-flight 0 (nil: not within 5 s)
    var micro: [MicroResult] = []
    /// One entry per interleaved round (`runInterleaved`): peer name → cell, as in `cells`.
    var interleaved: [[String: Cell]] = []
    /// The peers and scenario of the interleaved rounds: the CPU target's pair, on the unpaced load.
    static let interleavedPeers = ["nginx", "sightline"]
    static let interleavedScenario = "c50-50k-sat"
    /// One entry per latency round (`runLatencyRounds`): peer name → cell.
    var latencyRounds: [[String: Cell]] = []
    /// The peers and scenario of the latency rounds: the c=1 target's, with direct as the floor of each round.
    static let latencyPeers = ["direct", "nginx", "sightline"]
    static let latencyScenario = "c1-50k"
    /// Set when the run had to stop early (the upstream died): the report says so at the top.
    var aborted: String?
    let baseHeaders: [(String, String)] = [
        ("authorization", "Bearer sim-access-acct1-0"), ("chatgpt-account-id", "sim-account-1"),
        ("originator", "codex_cli_rs"),
    ]

    init(peers: [Peer], simulatorPID: Int32, simulatorPort: Int, full: Bool) {
        self.peers = peers
        self.simulatorPID = simulatorPID
        self.simulatorPort = simulatorPort
        self.full = full
        self.scenarios = Scenario.list(full: full)
    }

    func run(skipMicro: Bool) {
        var bodies: [Int: [UInt8]] = [:]
        for s in scenarios where bodies[s.bodyBytes] == nil {
            bodies[s.bodyBytes] = CodexHistoryBody.make(targetBytes: s.bodyBytes)
        }
        let sim = ProcessProbe(rootPID: simulatorPID)
        for peer in peers where aborted == nil {
            let probe = peer.pid.map { ProcessProbe(rootPID: $0) }
            var mem = Memory()
            mem.startup = probe?.rssBytes() ?? 0
            log("\(peer.name): warm-up")
            _ = load(
                peer,
                Scenario(
                    id: "warmup",
                    concurrency: 10,
                    bodyBytes: 51_200,
                    requests: 200,
                    maxSeconds: 10,
                    description: ""
                ),
                body: bodies[51_200]!
            )
            usleep(300_000)
            mem.atRest = probe?.rssBytes() ?? 0
            for s in scenarios {
                guard kill(simulatorPID, 0) == 0 else {
                    aborted =
                        "the simulator (pid \(simulatorPID)) exited before \(peer.name) \(s.id); later cells are missing"
                    log(aborted!)
                    break
                }
                guard setPace(s.paceMs) else {
                    aborted =
                        "the simulator did not accept the pacing for \(peer.name) \(s.id); later cells are missing"
                    log(aborted!)
                    break
                }
                let cpu0 = probe?.cpu()
                let sim0 = sim.cpuSeconds()
                let r = load(peer, s, body: bodies[s.bodyBytes]!)
                let cpu1 = probe?.cpu()
                let sim1 = sim.cpuSeconds()
                let peerCPU = cpu0.flatMap { c0 in cpu1.map { $0 - c0 } }
                cells[s.id, default: [:]][peer.name] = Cell(result: r, cpu: peerCPU, simulatorCPU: sim1 - sim0)
                if s.id == "c1000-50k" { mem.hold1000 = r.peakRSS }
                log(
                    "\(peer.name) \(s.id): \(r.completed) ok, \(r.errors) errors \(r.errorStatuses), "
                        + "ttfb p50 \(fmt(Percentiles.ms(r.ttfb, 50))) ms, \(String(format: "%.1f", r.wallSeconds)) s, "
                        + "cpu \(fmt(peerCPU?.total)) s, rss peak \(r.peakRSS / 1_048_576) MB"
                )
                usleep(200_000)
            }
            _ = setPace(nil)
            usleep(500_000)
            mem.afterRun = probe?.rssBytes() ?? 0
            memory[peer.name] = mem
            if let m = peer.metricsPort {
                disconnect[peer.name] = probeDisconnect(peer, metricsPort: m, body: bodies[51_200]!)
            }
        }
        runInterleaved(body: bodies[51_200]!)
        runLatencyRounds(body: bodies[51_200]!)
        if !skipMicro {
            log("micro-benchmarks")
            micro = MicroBenchmarks.runAll(scale: full ? 1 : 0.3)
        }
    }

    /// The CPU target's scenario again, nginx and Sightline taking turns round by round (the order flips each
    /// round), so both meet the same state of a shared machine: the per-peer pass runs each peer's scenarios
    /// minutes apart, and nginx's own figure moved by half between runs.
    func runInterleaved(body: [UInt8]) {
        let sim = ProcessProbe(rootPID: simulatorPID)
        interleaved = runRounds(
            "interleaved",
            scenario: Self.interleavedScenario,
            peers: Self.interleavedPeers,
            count: full ? 7 : 5,
            pauseMicroseconds: 200_000,
            order: { round, pair in round % 2 == 0 ? pair : pair.reversed() }
        ) { peer, s, round in
            let probe = peer.pid.map { ProcessProbe(rootPID: $0) }
            let cpu0 = probe?.cpu()
            let sim0 = sim.cpuSeconds()
            let r = load(peer, s, body: body, round: round)
            let peerCPU = cpu0.flatMap { c0 in probe.map { $0.cpu() - c0 } }
            return Cell(result: r, cpu: peerCPU, simulatorCPU: sim.cpuSeconds() - sim0)
        }
    }

    /// The c=1 target's scenario again, direct, nginx and Sightline taking turns round by round (the order
    /// rotates, so each takes each place equally often). A proxy's added p50 at c=1 is a tenth of a
    /// millisecond against a direct p50 above one, and direct's own p50 moved by more than that between the
    /// main pass's cells, minutes apart; within a round the three run seconds apart.
    func runLatencyRounds(body: [UInt8]) {
        latencyRounds = runRounds(
            "latency",
            scenario: Self.latencyScenario,
            peers: Self.latencyPeers,
            count: full ? 15 : 9,
            pauseMicroseconds: 100_000,
            order: { round, trio in
                let shift = round % trio.count
                return Array(trio[shift...] + trio[..<shift])
            }
        ) { peer, s, round in
            Cell(result: load(peer, s, body: body, round: round), cpu: nil, simulatorCPU: 0)
        }
    }

    /// `count` rounds of the unpaced scenario `id` over the named peers (all of them, or no rounds), in the
    /// order `order` gives each round, each peer's cell from `measure`. Stops, saying so in `aborted`, if the
    /// simulator exits or does not clear the pacing; a round cut short is not kept.
    private func runRounds(
        _ what: String,
        scenario id: String,
        peers names: [String],
        count: Int,
        pauseMicroseconds: UInt32,
        order: (_ round: Int, _ peers: [Peer]) -> [Peer],
        measure: (_ peer: Peer, _ scenario: Scenario, _ round: Int) -> Cell
    ) -> [[String: Cell]] {
        guard aborted == nil, let s = scenarios.first(where: { $0.id == id }) else { return [] }
        let chosen = names.compactMap { name in peers.first { $0.name == name } }
        guard chosen.count == names.count else { return [] }
        guard setPace(nil) else {
            aborted = "the simulator did not clear the pacing before the \(what) rounds; they are missing"
            log(aborted!)
            return []
        }
        var rows: [[String: Cell]] = []
        for round in 0..<count {
            var row: [String: Cell] = [:]
            for peer in order(round, chosen) {
                guard kill(simulatorPID, 0) == 0 else {
                    aborted = "the simulator exited during \(what) round \(round + 1); later rounds are missing"
                    log(aborted!)
                    return rows
                }
                row[peer.name] = measure(peer, s, round)
                usleep(pauseMicroseconds)
            }
            log(
                "\(what) round \(round + 1): "
                    + chosen.map { peer in
                        let r = row[peer.name]!.result
                        return "\(peer.name) \(r.completed) ok, ttfb p50 \(fmt(Percentiles.ms(r.ttfb, 50), 3)) ms"
                    }
                    .joined(separator: ", ")
            )
            rows.append(row)
        }
        return rows
    }

    func load(_ peer: Peer, _ s: Scenario, body: [UInt8], round: Int? = nil) -> LoadResult {
        var spec = LoadSpec()
        spec.port = peer.port
        spec.path = peer.path
        spec.headers = baseHeaders
        spec.body = body
        spec.concurrency = s.concurrency
        spec.requests = s.requests
        spec.maxSeconds = s.maxSeconds
        spec.rampSeconds = s.rampSeconds
        spec.sessionPrefix = "\(peer.name)-\(s.id)" + (round.map { "-r\($0)" } ?? "")
        spec.requestTimeoutSeconds = full ? 60 : 30
        spec.sampledPIDs = peer.pid.map { [$0] } ?? []
        return LoadClient(spec: spec).run()
    }

    /// Sets (`ms`) or clears (nil) the simulator's standing `slow` fault, which paces every event of every
    /// stream no request chose a fault for, HTTP or WebSocket. False if the simulator did not take it.
    func setPace(_ ms: Int?) -> Bool {
        let json = ms.map { #"{"fault":"slow","ms":\#($0)}"# } ?? #"{"fault":null}"#
        return LoopbackHTTP.post(port: simulatorPort, path: "/__sim/standing-fault", json: json) != nil
    }

    /// A client reads the first event of a slow stream and hangs up; time until the proxy reports no request
    /// and no account slot in flight. Five tries.
    func probeDisconnect(_ peer: Peer, metricsPort: Int, body: [UInt8]) -> [Double?] {
        var out: [Double?] = []
        // Slow streams through the standing fault, so a bridge's WebSocket turn is slow too.
        guard setPace(50) else { return [nil] }
        defer { _ = setPace(nil) }
        for _ in 0..<5 {
            var spec = LoadSpec()
            spec.port = peer.port
            spec.path = peer.path
            spec.headers = baseHeaders
            spec.body = body
            spec.requests = 1
            spec.maxSeconds = 10
            spec.requestTimeoutSeconds = 10
            spec.abandonAfterFirstEvent = true
            let r = LoadClient(spec: spec).run()
            guard r.abandonedAt > 0 else { out.append(nil); continue }
            var freed: Double?
            while MonotonicClock.nanoseconds() - r.abandonedAt < 5_000_000_000 {
                if let text = LoopbackHTTP.get(port: metricsPort, path: "/metrics"),
                    LoopbackHTTP.sum("sightline_in_flight_requests", in: text) == 0,
                    (LoopbackHTTP.sum("sightline_account_in_flight_requests", in: text) ?? 0) == 0
                {
                    freed = Double(MonotonicClock.nanoseconds() - r.abandonedAt) / 1e9
                    break
                }
                usleep(5_000)
            }
            out.append(freed)
            log("\(peer.name) disconnect: freed after \(freed.map { String(format: "%.3f s", $0) } ?? "> 5 s")")
        }
        return out
    }

    func log(_ s: String) { FileHandle.standardError.write(Data("[bench] \(s)\n".utf8)) }
}

func fmt(_ v: Double?, _ digits: Int = 2) -> String {
    guard let v else { return "–" }
    return String(format: "%.\(digits)f", v)
}
