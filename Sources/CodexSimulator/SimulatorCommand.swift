import Dispatch
import Foundation
import Glibc

/// `sightline simulator --port N [--config FILE] [--accounts 3] [--host H]`: runs a `CodexSimulator` until
/// SIGINT or SIGTERM.
///
/// Prints exactly one line on stdout once listening: `simulator listening on http://127.0.0.1:PORT`.
/// Errors go to stderr with exit status 2 (usage) or 1 (start failure).
public enum SimulatorCommand {
    public static func run(arguments: [String]) -> Int32 {
        var port = 0
        var accounts = 3
        var configPath: String?
        var host: String?
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            let value = i + 1 < arguments.count ? arguments[i + 1] : nil
            switch arg {
            case "--port": port = value.flatMap { Int($0) } ?? -1
            case "--accounts": accounts = value.flatMap { Int($0) } ?? -1
            case "--config": configPath = value
            case "--host": host = value
            case "-h", "--help":
                print("usage: sightline simulator [--port N] [--config FILE] [--accounts N] [--host H]")
                return 0
            default:
                return fail("unknown argument \(arg)", status: 2)
            }
            guard value != nil else { return fail("\(arg) needs a value", status: 2) }
            i += 2
        }
        guard port >= 0, port < 65536, accounts > 0 else { return fail("invalid --port or --accounts", status: 2) }
        var configuration = SimulatorConfiguration.demo(accounts: accounts)
        if let configPath {
            do {
                let data = try Data(contentsOf: URL(fileURLWithPath: configPath))
                configuration = try JSONDecoder().decode(SimulatorConfiguration.self, from: data)
            } catch {
                return fail("cannot read config \(configPath): \(error)", status: 2)
            }
            if arguments.contains("--port") { configuration.port = port }
        } else {
            configuration.port = port
        }
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
