import Foundation

/// `sightline-bench`: the load client and micro-benchmarks behind `bench/run.sh`.
///
///   sightline-bench suite --simulator-pid N --simulator-port N --peer name=port[,pid=N][,path=/p][,metrics=N] … [--full]
///                         [--out FILE] [--version TEXT]… [--note TEXT]… [--no-micro]
///   sightline-bench load --port N [--path /p] [--concurrency C] [--requests N] [--body-bytes B] [--seconds S]
///                        [--cache-key K]   (the body's own `prompt_cache_key`, as Codex sends it)
///   sightline-bench micro [--scale X]
let args = Array(CommandLine.arguments.dropFirst())

func value(_ flag: String) -> String? {
    guard let i = args.firstIndex(of: flag), i + 1 < args.count else { return nil }
    return args[i + 1]
}
func values(_ flag: String) -> [String] {
    args.indices.filter { args[$0] == flag && $0 + 1 < args.count }.map { args[$0 + 1] }
}
func dateStamp() -> String {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "UTC")
    f.dateFormat = "yyyy-MM-dd"
    return f.string(from: Date())
}

signal(SIGPIPE, SIG_IGN)
switch args.first {
case "suite":
    let peers = values("--peer").compactMap(Peer.parse)
    guard let simPID = value("--simulator-pid").flatMap(Int32.init),
        let simPort = value("--simulator-port").flatMap(Int.init), !peers.isEmpty
    else {
        FileHandle.standardError.write(
            Data("usage: sightline-bench suite --simulator-pid N --simulator-port N --peer name=port,pid=N …\n".utf8)
        )
        exit(2)
    }
    let suite = Suite(peers: peers, simulatorPID: simPID, simulatorPort: simPort, full: args.contains("--full"))
    suite.run(skipMicro: args.contains("--no-micro"))
    let md = SuiteReport(suite: suite, versions: values("--version"), notes: values("--note"), date: dateStamp())
        .markdown()
    if let out = value("--out") {
        guard FileManager.default.createFile(atPath: out, contents: Data(md.utf8)) else {
            FileHandle.standardError.write(Data("[bench] cannot write \(out); the report follows\n".utf8))
            print(md)
            exit(1)
        }
        FileHandle.standardError.write(Data("[bench] wrote \(out)\n".utf8))
    } else {
        print(md)
    }
case "load":
    var spec = LoadSpec()
    spec.port = value("--port").flatMap(Int.init) ?? 8788
    spec.path = value("--path") ?? spec.path
    spec.concurrency = value("--concurrency").flatMap(Int.init) ?? 1
    spec.requests = value("--requests").flatMap(Int.init) ?? 100
    spec.maxSeconds = value("--seconds").flatMap(Double.init) ?? 30
    spec.rampSeconds = value("--ramp").flatMap(Double.init) ?? 0
    spec.body = CodexHistoryBody.make(
        targetBytes: value("--body-bytes").flatMap(Int.init) ?? 51_200,
        cacheKey: value("--cache-key")
    )
    spec.headers =
        [("authorization", "Bearer sim-access-acct1-0"), ("chatgpt-account-id", "sim-account-1")]
        + values("--header").compactMap { h in
            h.firstIndex(of: ":").map {
                (String(h[..<$0]), String(h[h.index(after: $0)...]).trimmingCharacters(in: .whitespaces))
            }
        }
    let r = LoadClient(spec: spec).run()
    print(
        "completed \(r.completed) errors \(r.errors) \(r.errorStatuses) wall \(fmt(r.wallSeconds)) s events \(r.events)"
    )
    print(
        "ttfb p50 \(fmt(Percentiles.ms(r.ttfb, 50), 3)) p99 \(fmt(Percentiles.ms(r.ttfb, 99), 3)) ms; "
            + "first event p50 \(fmt(Percentiles.ms(r.firstEvent, 50), 3)); full p50 \(fmt(Percentiles.ms(r.full, 50), 3)) "
            + "p99 \(fmt(Percentiles.ms(r.full, 99), 3)) ms; \(fmt(Double(r.completed) / r.wallSeconds, 0)) streams/s"
    )
case "micro":
    let results = MicroBenchmarks.runAll(scale: value("--scale").flatMap(Double.init) ?? 1)
    print(MicroReport.markdown(results))
default:
    FileHandle.standardError.write(
        Data("usage: sightline-bench suite|load|micro (see bench/README or docs/benchmarks.md)\n".utf8)
    )
    exit(2)
}
