import Foundation
import XCTest

/// A real simulator process and a real proxy process in front of it, on loopback ports below 32768.
///
/// Each test gets its own stack, state directory and log file. Ports are random and retried when a
/// bind fails, so parallel runs on one machine do not collide.
final class SightlineStack: @unchecked Sendable {
    let directory: URL
    private(set) var simulator: ChildProcess!
    private(set) var proxy: ChildProcess!
    private(set) var simulatorPort = 0
    private(set) var proxyPort = 0
    let logFile: URL
    let configFile: URL
    /// Added to every proxy process's environment (e.g. `LD_PRELOAD` of libfaketime for a clock step).
    let proxyEnvironment: [String: String]

    var proxyURL: String { "http://127.0.0.1:\(proxyPort)" }
    var simulatorURL: String { "http://127.0.0.1:\(simulatorPort)" }

    /// `accountsJSON` builds the proxy's `accounts` array from the simulator's base URL; by default the
    /// three demo accounts of `SimulatorConfiguration.demo` in ChatGPT mode.
    init(
        label: String,
        extraConfig: [String: Any] = [:],
        simulator simulatorSettings: [String: Any] = [:],
        accounts: ((String) -> [[String: Any]])? = nil,
        proxyEnvironment: [String: String] = [:]
    ) throws {
        self.proxyEnvironment = proxyEnvironment
        directory = try TestEnvironment.tempDirectory(label)
        logFile = directory.appendingPathComponent("sightline.log")
        configFile = directory.appendingPathComponent("sightline.json")
        try startSimulator(settings: simulatorSettings)
        let base = "http://127.0.0.1:\(simulatorPort)/backend-api/codex"
        let accountList = accounts?(base) ?? Self.demoAccounts(base: base)
        do {
            try startProxy(accounts: accountList, extra: extraConfig)
        } catch {
            simulator.stop()  // no stack comes of it: its simulator must not outlive the attempt
            throw error
        }
    }

    static func demoAccounts(base: String) -> [[String: Any]] {
        (1...3).map { i in
            [
                "name": "acct\(i)", "kind": "chatgpt", "baseURL": base,
                "accountId": "sim-account-\(i)", "accessToken": "sim-access-acct\(i)-0",
                "refreshToken": "sim-refresh-acct\(i)-0",
            ]
        }
    }

    /// `count` API-key accounts `api1…` on the simulator's `/v1` (its `acct1…` by key), for `init(accounts:)`.
    static func apiKeyAccounts(_ count: Int) -> (String) -> [[String: Any]] {
        { base in
            (1...count).map { i in
                [
                    "name": "api\(i)", "kind": "apikey",
                    "baseURL": base.replacingOccurrences(of: "/backend-api/codex", with: "/v1"),
                    "apiKey": "sk-sim-FAKE-acct\(i)",
                ]
            }
        }
    }

    /// The simulator's three accounts, with obviously fake credentials (as `SimulatedAccount.demo`).
    static var simulatorAccounts: [[String: Any]] {
        (1...3).map { i in
            [
                "name": "acct\(i)", "accountId": "sim-account-\(i)", "accessToken": "sim-access-acct\(i)-0",
                "refreshToken": "sim-refresh-acct\(i)-0", "apiKey": "sk-sim-FAKE-acct\(i)", "plan": "plus",
            ]
        }
    }

    private func startSimulator(settings: [String: Any]) throws {
        var config: [String: Any] = ["accounts": Self.simulatorAccounts]
        for (k, v) in settings { config[k] = v }
        let simConfig = directory.appendingPathComponent("simulator.json")
        try JSONSerialization.data(withJSONObject: config).write(to: simConfig)
        for attempt in 0..<5 {
            let port = TestEnvironment.randomPort()
            let child = try ChildProcess(
                name: "simulator-\(attempt)",
                executable: TestEnvironment.sightlineBinary,
                arguments: ["simulator", "--config", simConfig.path, "--port", String(port)],
                directory: directory
            )
            let up = child.waitForOutput(timeout: 15) { $0.contains("simulator listening on") ? true : nil }
            if up == true {
                simulator = child
                simulatorPort = port
                return
            }
            child.stop()
        }
        throw MissingPrerequisite(what: "a free port for the simulator after 5 tries")
    }

    /// Starts a new proxy process on the same configuration file, port and state directory, without
    /// stopping anything (the previous one already exited or was killed) and without retrying. Returns
    /// false if it did not come up within the timeout.
    func relaunchProxy(timeout: TimeInterval = 15) throws -> Bool {
        let child = try ChildProcess(
            name: "proxy-restart-\(UUID().uuidString.prefix(8))",
            executable: TestEnvironment.sightlineBinary,
            arguments: ["serve", "--config", configFile.path],
            environment: proxyEnvironment,
            directory: directory
        )
        proxy = child
        return child.waitForOutput(timeout: timeout) { $0.contains("\"proxy listening\"") ? true : nil } == true
    }

    private var lastAccounts: [[String: Any]] = []
    private var lastExtra: [String: Any] = [:]
    private var proxyGeneration = 0

    /// Stops the proxy (SIGTERM, or SIGKILL when `crash`) and starts a new one on the same state directory,
    /// with its `accounts` list passed through `accounts` when given (e.g. reordered).
    func restartProxy(crash: Bool = false, accounts: (([[String: Any]]) -> [[String: Any]])? = nil) throws {
        if crash {
            proxy.signal(SIGKILL)
            _ = proxy.waitForExit(timeout: 10)
        } else {
            proxy.stop()
        }
        try startProxy(accounts: accounts?(lastAccounts) ?? lastAccounts, extra: lastExtra)
    }

    private func startProxy(accounts: [[String: Any]], extra: [String: Any]) throws {
        lastAccounts = accounts
        lastExtra = extra
        proxyGeneration += 1
        for attempt in 0..<5 {
            let port = TestEnvironment.randomPort()
            var config: [String: Any] = [
                "listen": ["host": "127.0.0.1", "port": port],
                "stateDirectory": directory.appendingPathComponent("state").path,
                "accounts": accounts,
                "log": ["stdout": true, "file": logFile.path],
                "upstream": ["tokenURL": "http://127.0.0.1:\(simulatorPort)/oauth/token"],
            ]
            for (k, v) in extra { config[k] = v }
            try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted]).write(to: configFile)
            // The proxy refuses a configuration with inline credentials that others may read.
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: configFile.path)
            let child = try ChildProcess(
                name: "proxy-\(proxyGeneration)-\(attempt)",
                executable: TestEnvironment.sightlineBinary,
                arguments: ["serve", "--config", configFile.path],
                environment: proxyEnvironment,
                directory: directory
            )
            let up = child.waitForOutput(timeout: 15) { $0.contains("\"proxy listening\"") ? true : nil }
            if up == true {
                proxy = child
                proxyPort = port
                return
            }
            child.stop()
        }
        throw MissingPrerequisite(what: "a running proxy after 5 tries; see \(directory.path)")
    }

    func stop() {
        proxy?.stop()
        simulator?.stop()
    }

    /// The proxy's JSON log records (from the log file).
    func logRecords() -> [[String: Any]] {
        guard let text = try? String(contentsOf: logFile, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// The log records of `event`, once there are at least `count` of them (polled for up to `timeout`
    /// seconds; whatever there is then, if fewer). A request's record is written as it finishes, which may be
    /// just after the client has read the end of its answer.
    func awaitLogRecords(event: String, count: Int, timeout: TimeInterval = 5) -> [[String: Any]] {
        var records: [[String: Any]] = []
        _ = poll(timeout: timeout) {
            records = logRecords().filter { $0["event_name"] as? String == event }
            return records.count >= count
        }
        return records
    }

    /// Everything the stack wrote: for failure messages and leak scans.
    func allOutput() -> String {
        var out = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
        out += proxy?.stdout ?? ""
        out += proxy?.stderr ?? ""
        return out
    }
}
