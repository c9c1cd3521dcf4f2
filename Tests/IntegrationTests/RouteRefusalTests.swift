import Foundation
import XCTest

/// The compact and models routes' refusals: each reaches the client with its own status and is counted by it,
/// and an account's refusal is recovered from as on the responses route. Until this test, an upstream 4xx there
/// was relayed as a 200 (Codex then failed to decode a compaction) and counted as a success.
final class RouteRefusalTests: XCTestCase {
    private var stack: SightlineStack!

    override func setUpWithError() throws { stack = try SightlineStack(label: "route-refusal") }
    override func tearDown() { stack?.stop() }

    func testACompactRequestTheUpstreamRefusesGetsItsStatus() throws {
        let r = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(path: "/v1/responses/compact", json: #"{"model":"gpt-5.5","input":5}"#)
        )
        XCTAssertEqual(r.status, 400, r.bodyText)
        XCTAssertTrue(r.bodyText.contains("Invalid type for 'input'"), r.bodyText)
        XCTAssertEqual(try compactRequests("4xx"), 1)
        XCTAssertEqual(try compactRequests("2xx"), 0)
        let record = stack.awaitLogRecords(event: "sightline.request", count: 1).first
        let attributes = record?["attributes"] as? [String: Any]
        XCTAssertEqual(attributes?["http.response.status_code"] as? Int, 400, "\(record ?? [:])")
        XCTAssertEqual(record?["severity_text"] as? String, "INFO")
    }

    /// A 403 from one account: the compaction goes to another, as a responses request would.
    func testACompactRequestAnAccountRefusesMovesToAnother() throws {
        try stack.injectFault(account: nil, "forbidden")
        let r = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(
                path: "/v1/responses/compact",
                json: #"{"model":"gpt-5.5","input":[{"role":"user","content":"hi"}]}"#
            )
        )
        XCTAssertEqual(r.status, 200, r.bodyText)
        XCTAssertTrue(r.bodyText.contains(#""object":"response.compaction""#), r.bodyText)
        XCTAssertEqual(try compactRequests("2xx"), 1)
        XCTAssertEqual(
            try stack.metricSum(prefix: "sightline_recovery_decisions_total{", containing: #"outcome="succeeded""#),
            1,
            "the move is a recovery decision, counted"
        )
        XCTAssertEqual(
            try stack.metricSum(prefix: "sightline_account_state{", containing: #"state="cooling""#),
            1,
            "the refusing account cools"
        )
    }

    private func compactRequests(_ statusClass: String) throws -> Double {
        try stack.metric(
            #"sightline_requests_total{route="responses_compact",status_class="\#(statusClass)",transport="http"}"#
        )
    }

    /// A 200 with an empty body (an upstream's `Content-Length: 0`): the client gets its head and the end. The head
    /// went out with the first body byte, so with none the client waited until it gave up. A stub upstream (a real
    /// HTTP server, Python's) answers what the simulator never does.
    func testAnEmptyAnswerReachesTheClient() throws {
        let script = """
            import http.server, sys
            class H(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                def log_message(self, *args):
                    pass
            server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
            print("stub listening", flush=True)
            server.serve_forever()
            """
        // A random port may be taken (by another run on the machine): up to five, as the simulator's start does.
        var stub: ChildProcess?
        var port = 0
        for attempt in 0..<5 {
            port = TestEnvironment.randomPort()
            let child = try ChildProcess(
                name: "empty-stub-\(attempt)",
                executable: "/usr/bin/env",
                arguments: ["python3", "-c", script, String(port)],
                directory: try TestEnvironment.tempDirectory("empty-stub")
            )
            if child.waitForOutput(timeout: 10, { $0.contains("stub listening") ? true : nil }) == true {
                stub = child
                break
            }
            child.stop()
        }
        guard let stub else { throw MissingPrerequisite(what: "a free port for the stub upstream after 5 tries") }
        defer { stub.stop() }
        stack.stop()
        stack = try SightlineStack(
            label: "route-empty",
            accounts: { _ in
                [
                    [
                        "name": "stub", "kind": "apikey", "baseURL": "http://127.0.0.1:\(port)/v1",
                        "apiKey": "sk-stub-FAKE",
                    ]
                ]
            }
        )
        let r = try HTTPTestClient.get(port: stack.proxyPort, path: "/v1/models")
        XCTAssertEqual(r.status, 200, r.bodyText)
        XCTAssertEqual(r.body.count, 0)
    }
}
