import Foundation
import XCTest

/// The compact and models routes' refusals: each reaches the client with its own status and is counted by it,
/// and an account's refusal is recovered from as on the responses route. Until this test, an upstream 4xx there
/// was relayed as a 200 (Codex then failed to decode a compaction) and counted as a success.
final class RouteRefusalTests: XCTestCase {
    private var stack: SightlineStack!
    private var stubs: [ChildProcess] = []

    override func setUpWithError() throws { stack = try SightlineStack(label: "route-refusal") }
    override func tearDown() {
        stack?.stop()
        for stub in stubs { stub.stop() }
    }

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
        try startStub(
            name: "empty-stub",
            handler: """
                def do_GET(self):
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                """
        )
        let r = try HTTPTestClient.get(port: stack.proxyPort, path: "/v1/models")
        XCTAssertEqual(r.status, 200, r.bodyText)
        XCTAssertEqual(r.body.count, 0)
    }

    /// A compaction cut mid-body after its 200 head went out: the client's body is cut too (no end chunk), so its
    /// HTTP library reports the cut. Until 2026-12-08 the proxy appended an SSE `response.failed` event to the JSON
    /// and ended the body cleanly: a client got a well-formed end around a body no JSON parser can read.
    func testACompactionCutMidBodyReachesTheClientCut() throws {
        try startStub(
            name: "cut-stub",
            handler: """
                def do_POST(self):
                    self.rfile.read(int(self.headers.get("Content-Length", "0")))
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    self.wfile.write(b'{"id":"cmp_FAKE","object":"response.compaction","output":[')
                    self.wfile.flush()
                    self.close_connection = True
                """
        )
        let client = try HTTPTestClient(port: stack.proxyPort, timeout: 30)
        try client.send(
            HTTPTestClient.post(path: "/v1/responses/compact", json: #"{"model":"gpt-5.5","input":"hi"}"#)
        )
        var all: [UInt8] = []
        while true {
            let chunk = try client.readSome()
            if chunk.isEmpty { break }
            all += chunk
        }
        let text = String(decoding: all, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 200"), text)
        XCTAssertTrue(text.contains(#""object":"response.compaction""#), "what arrived is relayed: \(text)")
        XCTAssertFalse(text.contains("response.failed"), "no SSE event inside a JSON body: \(text)")
        XCTAssertFalse(text.hasSuffix("0\r\n\r\n"), "no end chunk: the body is cut: \(text)")
        XCTAssertEqual(
            try stack.metric(
                #"sightline_requests_total{route="responses_compact",status_class="5xx",transport="http"}"#
            ),
            1,
            "counted as the failure it is"
        )
    }

    /// Starts a stub upstream (Python's `http.server`, its request handler's methods `handler`) and replaces the
    /// stack with one whose only account is an API key on it.
    private func startStub(name: String, handler: String) throws {
        let indented = handler.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }
        let script = """
            import http.server, sys
            class H(http.server.BaseHTTPRequestHandler):
                protocol_version = "HTTP/1.1"
            \(indented.joined(separator: "\n"))
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
                name: "\(name)-\(attempt)",
                executable: "/usr/bin/env",
                arguments: ["python3", "-c", script, String(port)],
                directory: try TestEnvironment.tempDirectory(name)
            )
            if child.waitForOutput(timeout: 10, { $0.contains("stub listening") ? true : nil }) == true {
                stub = child
                break
            }
            child.stop()
        }
        guard let stub else { throw MissingPrerequisite(what: "a free port for the stub upstream after 5 tries") }
        stubs.append(stub)
        stack.stop()
        stack = try SightlineStack(
            label: "route-\(name)",
            accounts: { _ in
                [
                    [
                        "name": "stub", "kind": "apikey", "baseURL": "http://127.0.0.1:\(port)/v1",
                        "apiKey": "sk-stub-FAKE",
                    ]
                ]
            }
        )
    }
}
