import CodexSimulator
import Dispatch
import Foundation
import Glibc

/// `sightline simulator [--port N] [--accounts 3] [--config FILE] [--host H]`: runs a `CodexSimulator` until
/// SIGINT or SIGTERM.
///
/// Reads its options strictly, as `serve` and `demo` do (`CommandOptions`): an unknown flag, a missing or malformed
/// value, a repeated flag or a stray word is a usage error (exit 2, with the usage). Until 2026-12-07 it parsed them
/// itself: `--port=8788` was an unknown argument, `--port 1 --port 2` took the last, and `--host --port 8788` took
/// `--port` as the host.
/// Prints exactly one line on stdout once listening: `simulator listening on http://127.0.0.1:PORT`.
/// A configuration file that cannot be read is exit 2, a simulator that cannot start exit 1.
enum SimulatorCommand {
    /// The most demo accounts `--accounts` makes: each is a few strings, but an absurd count would build them all.
    static let maximumAccounts = 1_000

    static let flags: Set<String> = ["--port", "--accounts", "--config", "--host"]

    static func run(arguments: [String]) -> Int32 {
        let port: Int?
        let accounts: Int
        let configPath: String?
        let host: String?
        do throws(CommandOptions.UsageError) {
            let options = try CommandOptions(arguments, flags: flags)
            if options.helpRequested {
                print(Usage.simulator)
                return 0
            }
            port = try options.port("--port")
            accounts = try options.int("--accounts", in: 1...maximumAccounts) ?? 3
            configPath = options.string("--config")
            host = options.string("--host")
        } catch {
            return CommandOptions.fail("simulator", error, usage: Usage.simulator)
        }
        var configuration = SimulatorConfiguration.demo(accounts: accounts)  // port 0: the system chooses
        if let configPath {
            do {
                let data = try Data(contentsOf: URL(fileURLWithPath: configPath))
                configuration = try JSONDecoder().decode(SimulatorConfiguration.self, from: data)
            } catch {
                return fail("cannot read config \(configPath): \(error)", status: 2)
            }
        }
        if let port { configuration.port = port }  // over the file's
        if let host { configuration.host = host }
        signal(SIGPIPE, SIG_IGN)
        let simulator = CodexSimulator(configuration: configuration)
        do {
            try simulator.start()
        } catch {
            return fail("cannot start: \(error)", status: 1)
        }
        print("simulator listening on http://\(configuration.host):\(simulator.port)")
        fflush(nil)
        waitForTerminationSignal()
        simulator.shutdown()
        return 0
    }

    private static func fail(_ message: String, status: Int32) -> Int32 {
        FileHandle.standardError.write(Data("sightline simulator: \(message)\n".utf8))
        return status
    }

    /// Blocks until SIGINT or SIGTERM. Sources are created here, in a nonisolated function, so their
    /// handlers are not inferred main-actor (swift-on-linux-notes §5), and kept referenced while waiting.
    nonisolated static func waitForTerminationSignal() {
        let done = DispatchSemaphore(value: 0)
        let queue = DispatchQueue(label: "codex-simulator.signals")
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { @Sendable in done.signal() }
            source.resume()
            sources.append(source)
        }
        done.wait()
        withExtendedLifetime(sources) {}
    }
}
