import CodexSimulator
import Foundation
import Proxy

/// `sightline demo`: the Codex backend simulator with three simulated accounts and the proxy in front of
/// it, on fixed local ports, with instructions to try it. Ctrl-C stops both cleanly.
enum DemoCommand {
    static func run(arguments: [String]) -> Int32 {
        let proxyPort = value(arguments, "--port").flatMap(Int.init) ?? 8787
        let simulatorPort = value(arguments, "--simulator-port").flatMap(Int.init) ?? 8788
        let stateDir = value(arguments, "--state-dir") ?? ".sightline-demo"
        var simConfig = SimulatorConfiguration.demo(accounts: 3)
        simConfig.port = simulatorPort
        simConfig.eventProfile.deltaDelayMs = Int(value(arguments, "--delta-delay-ms") ?? "") ?? 40
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
        var config: [String: Any] = [
            "listen": ["host": "127.0.0.1", "port": proxyPort],
            "stateDirectory": stateDir,
            "accounts": accounts,
            "upstream": ["tokenURL": "http://127.0.0.1:\(simulator.port)/oauth/token"],
            "log": ["stdout": true, "file": stateDir + "/sightline.log"],
        ]
        if let logStdout = value(arguments, "--log-stdout") {
            config["log"] = ["stdout": logStdout == "true", "file": stateDir + "/sightline.log"]
        }
        let proxy: SightlineProxy
        do {
            try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
            let data = try JSONSerialization.data(withJSONObject: config)
            proxy = try SightlineProxy(configurationJSON: data, environment: ProcessInfo.processInfo.environment)
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

    static func value(_ arguments: [String], _ flag: String) -> String? {
        guard let i = arguments.firstIndex(of: flag), i + 1 < arguments.count else { return nil }
        return arguments[i + 1]
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
