import CodexSimulator
import Foundation
import Proxy

/// `sightline demo`: the Codex backend simulator with three simulated accounts and the proxy in front of
/// it, on fixed local ports, with instructions to try it. Ctrl-C stops both cleanly.
/// Every run starts from fresh account and continuity state, as its simulator does: it removes
/// `SightlineProxy.accountStateFileNames` from the state directory (`.sightline-demo`) before the proxy starts, and
/// keeps the pseudonym key and the log.
enum DemoCommand {
    static let flags: Set<String> = ["--port", "--simulator-port", "--state-dir", "--delta-delay-ms", "--log-stdout"]

    static func run(arguments: [String]) -> Int32 {
        let proxyPort: Int
        let simulatorPort: Int
        let stateDir: String
        let deltaDelayMs: Int
        let logStdout: Bool
        do throws(CommandOptions.UsageError) {
            let options = try CommandOptions(arguments, flags: flags)
            if options.helpRequested {
                print(Usage.demo)
                return 0
            }
            proxyPort = try options.port("--port") ?? 8787
            simulatorPort = try options.port("--simulator-port") ?? 8788
            stateDir = options.string("--state-dir") ?? ".sightline-demo"
            deltaDelayMs = try options.int("--delta-delay-ms", in: 0...60_000) ?? 40
            logStdout = try options.bool("--log-stdout") ?? true
        } catch {
            return CommandOptions.fail("demo", error, usage: Usage.demo)
        }
        var simConfig = SimulatorConfiguration.demo(accounts: 3)
        simConfig.port = simulatorPort
        simConfig.eventProfile.deltaDelayMs = deltaDelayMs
        // Before anything starts: a Ctrl-C during start-up is then a clean stop, not the default kill.
        let signals = TerminationSignal()
        let simulator = CodexSimulator(configuration: simConfig)
        do {
            try simulator.start()
        } catch {
            FileHandle.standardError.write(
                Data("sightline demo: simulator could not start on port \(simulatorPort): \(error)\n".utf8)
            )
            return 1
        }
        let base = "http://127.0.0.1:\(simulator.port)/backend-api/codex"
        let accounts: [[String: Any]] = simConfig.accounts.map { a in
            [
                "name": a.name, "kind": "chatgpt", "baseURL": base, "accountId": a.accountId,
                "accessToken": a.accessToken, "refreshToken": a.refreshToken,
            ]
        }
        let config: [String: Any] = [
            "listen": ["host": "127.0.0.1", "port": proxyPort],
            "stateDirectory": stateDir,
            "accounts": accounts,
            "upstream": ["tokenURL": "http://127.0.0.1:\(simulator.port)/oauth/token"],
            "log": ["stdout": logStdout, "file": stateDir + "/sightline.log"],
        ]
        let proxy: SightlineProxy
        do {
            try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
            // The simulator just started knows only its start-up tokens (`sim-access-acct1-0`) and none of the last
            // run's responses. Kept, a token the last run had rotated was refused, its refresh failed for good, and a
            // second `sightline demo` began with accounts out as `reauth_required`.
            try SightlineProxy.discardAccountState(stateDirectory: stateDir)
            let data = try JSONSerialization.data(withJSONObject: config)
            proxy = try SightlineProxy(configurationJSON: data, environment: ProcessInfo.processInfo.environment)
            // Even a second signal waits for a token refresh in flight (its rotated refresh token must be written)
            // and for the cooldowns queued for the state file.
            signals.beforeImmediateExit { [proxy] in
                proxy.awaitTokenRefreshes()
                proxy.awaitAccountStateWrites()
            }
            try proxy.start()
        } catch {
            FileHandle.standardError.write(
                Data("sightline demo: proxy could not start on port \(proxyPort): \(error)\n".utf8)
            )
            simulator.shutdown()
            return 1
        }
        FileHandle.standardError.write(
            Data(banner(proxy: proxy.port, simulator: simulator.port, stateDir: stateDir).utf8)
        )
        _ = signals.wait()
        FileHandle.standardError.write(Data("sightline demo: stopping\n".utf8))
        proxy.shutdown()
        simulator.shutdown()
        return 0
    }

    static func banner(proxy: Int, simulator: Int, stateDir: String) -> String {
        """

        Sightline demo is running.
          proxy      http://127.0.0.1:\(proxy)/v1   (also /backend-api/codex)
          metrics    http://127.0.0.1:\(proxy)/metrics
          simulator  http://127.0.0.1:\(simulator)   (3 simulated accounts; admin API under /__sim/)
          log        \(stateDir)/sightline.log (JSON lines; also on stdout)

        Try it:
          curl -N http://127.0.0.1:\(proxy)/v1/responses -H 'content-type: application/json' \\
            -d '{"model":"gpt-5.5","input":"Say hello","stream":true}'

        Codex CLI ($CODEX_HOME/config.toml):
          model = "gpt-5.5"
          model_provider = "sightline"
          [model_providers.sightline]
          name = "Sightline"
          base_url = "http://127.0.0.1:\(proxy)/v1"
          wire_api = "responses"
          env_key = "SIGHTLINE_KEY"      # any value: the demo has no client keys

        OpenAI Python SDK:
          from openai import OpenAI
          client = OpenAI(base_url="http://127.0.0.1:\(proxy)/v1", api_key="demo")
          print(client.responses.create(model="gpt-5.5", input="Say hello").output_text)

        Ctrl-C stops both (a second Ctrl-C without waiting for open streams).

        """
    }
}
