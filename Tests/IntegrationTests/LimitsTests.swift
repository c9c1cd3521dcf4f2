import Foundation
import XCTest

/// The proxy's load limits end to end (docs/configuration.md `limits.*`, `upstream.*`): each rejection a
/// clear OpenAI-shape error and a `sightline_http_protocol_errors_total{reason}` increment.
final class LimitsTests: XCTestCase {
    var stack: SightlineStack?

    override func tearDown() { stack?.stop() }

    func testConnectionsPerClientAreCappedWith429AndFreedOnClose() throws {
        let stack = try SightlineStack(label: "limits-conn", extraConfig: ["limits": ["maxConnectionsPerClient": 2]])
        self.stack = stack
        var held: [HTTPTestClient] = []
        for _ in 0..<2 {
            // A request answered on each proves the connection was accepted and counted; keep-alive holds it.
            let c = try HTTPTestClient(port: stack.proxyPort, timeout: 5)
            try c.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            XCTAssertEqual(ParsedResponse.parse(try c.readUntil { ParsedResponse.parse($0) != nil })?.status, 200)
            held.append(c)
        }
        let rejected = try HTTPTestClient(port: stack.proxyPort, timeout: 5)
        let r = try XCTUnwrap(ParsedResponse.parse(try rejected.readUntil { _ in false }, closed: true))
        XCTAssertEqual(r.status, 429)
        XCTAssertEqual(r.headers["connection"], "close")
        XCTAssertEqual(r.headers["retry-after"], "1")
        XCTAssertEqual(r.errorObject?["code"] as? String, "too_many_connections")
        XCTAssertEqual(r.errorObject?["type"] as? String, "rate_limit_error")
        held.removeAll()  // closes both
        var text = ""
        XCTAssertTrue(
            poll(timeout: 5) {
                guard let m = try? HTTPTestClient.get(port: stack.proxyPort, path: "/metrics"), m.status == 200 else {
                    return false
                }
                text = m.bodyText
                return true
            },
            "a slot frees once the held connections close"
        )
        let series = #"sightline_http_protocol_errors_total{reason="too_many_client_connections"}"#
        XCTAssertGreaterThanOrEqual(SightlineStack.sample(series, in: text) ?? 0, 1, text)
    }

    func testInFlightLimitSheds503WithRetryAfterAndRecovers() throws {
        let stack = try SightlineStack(label: "limits-inflight", extraConfig: ["limits": ["maxInFlightRequests": 2]])
        self.stack = stack
        try stack.injectFault(account: nil, "silence", count: 2)
        let body = #"{"model":"gpt-5.5","input":"hold","stream":true}"#
        var silent: [HTTPTestClient] = []
        for _ in 0..<2 {
            let c = try HTTPTestClient(port: stack.proxyPort)
            try c.send(HTTPTestClient.post(path: "/v1/responses", json: body))
            silent.append(c)
        }
        XCTAssertTrue(
            try poll(timeout: 10) {
                SightlineStack.sample("sightline_in_flight_requests", in: try stack.scrape()) == 2
            }
        )
        let r = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(path: "/v1/responses", json: body)
        )
        XCTAssertEqual(r.status, 503, r.bodyText)
        XCTAssertEqual(r.errorObject?["code"] as? String, "proxy_at_capacity")
        XCTAssertEqual(r.headers["retry-after"], "1")
        let text = try stack.scrape()
        XCTAssertEqual(
            SightlineStack.sample(#"sightline_http_protocol_errors_total{reason="proxy_at_capacity"}"#, in: text),
            1
        )
        for c in silent { c.disconnect() }
        XCTAssertTrue(
            try poll(timeout: 10) {
                SightlineStack.sample("sightline_in_flight_requests", in: try stack.scrape()) == 0
            },
            "a client that leaves frees its slot"
        )
        let ok = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(path: "/v1/responses", json: body)
        )
        XCTAssertEqual(ok.status, 200)
        XCTAssertTrue(ok.bodyText.contains("response.completed"))
    }

    /// An upstream that answers headers and then nothing: the idle/first-byte timeouts from the config end
    /// each attempt, the client gets a retryable 502, and no account is cooled (silence is not the
    /// account's fault and says nothing about its quota).
    func testSilentUpstreamTimesOutTo502WithoutCoolingAnyAccount() throws {
        let stack = try SightlineStack(
            label: "limits-silence",
            extraConfig: [
                "upstream": [
                    "firstByteTimeoutSeconds": 1, "idleTimeoutSeconds": 1, "tokenURL": "http://127.0.0.1:1/oauth/token",
                ]
            ]
        )
        self.stack = stack
        for account in ["acct1", "acct2", "acct3"] { try stack.injectFault(account: account, "silence") }
        let started = Date()
        let r = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(path: "/v1/responses", json: #"{"model":"gpt-5.5","input":"hi","stream":true}"#)
        )
        XCTAssertEqual(r.status, 502, r.bodyText)
        XCTAssertEqual(r.errorObject?["code"] as? String, "upstream_unavailable")
        XCTAssertEqual(r.errorObject?["type"] as? String, "server_error")
        XCTAssertLessThan(Date().timeIntervalSince(started), 15, "three 1 s timeouts, not the 120 s default")
        XCTAssertEqual(try stack.coolingAccounts(), 0, "silence never cools an account")
        let output = stack.allOutput()
        XCTAssertTrue(
            output.contains("idle_timeout") || output.contains("first_byte_timeout"),
            "attempts logged as timeouts"
        )
        let ok = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(path: "/v1/responses", json: #"{"model":"gpt-5.5","input":"again","stream":true}"#)
        )
        XCTAssertEqual(ok.status, 200, "the pool is still whole")
    }
}
