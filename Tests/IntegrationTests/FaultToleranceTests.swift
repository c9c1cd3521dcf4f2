import Foundation
import XCTest

/// Faults outside the request path the simulator's HTTP faults cover: transport failures of every kind,
/// a log file and a state directory that cannot be written, SIGTERM and kill -9 under load
/// (docs/reliability.md, "Faults, limits and soak").
final class FaultToleranceTests: XCTestCase {
    var stack: SightlineStack?
    var extraProcesses: [ChildProcess] = []

    override func tearDown() {
        stack?.stop()
        for p in extraProcesses { p.stop() }
    }

    static let streamBody = #"{"model":"gpt-5.5","input":"hi","stream":true}"#

    func post(_ stack: SightlineStack, _ json: String = streamBody, timeout: TimeInterval = 30) throws -> ParsedResponse
    {
        try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(path: "/v1/responses", json: json),
            timeout: timeout
        )
    }

    /// A well-formed retryable 502: OpenAI error shape, a known code, no upstream detail.
    func assertRetryable502(_ r: ParsedResponse, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 502, r.bodyText, file: file, line: line)
        XCTAssertEqual(r.errorObject?["type"] as? String, "server_error", r.bodyText, file: file, line: line)
        XCTAssertEqual(r.errorObject?["code"] as? String, "upstream_unavailable", r.bodyText, file: file, line: line)
        XCTAssertFalse(r.bodyText.contains("resp_"), file: file, line: line)
    }

    func testConnectionResetFailsOverAndAnExhaustedPoolAnswersA502() throws {
        let stack = try SightlineStack(label: "fault-reset")
        self.stack = stack
        try stack.injectFault(account: "acct1", "connection_reset")
        let saved = try post(stack)
        XCTAssertEqual(saved.status, 200)
        XCTAssertTrue(saved.bodyText.contains("response.completed"), "failover hides one reset")
        // libcurl transparently resends once on a reused keep-alive connection that turns out dead, so
        // each account gets enough resets to fail that resend as well.
        for account in ["acct1", "acct2", "acct3"] {
            try stack.injectFault(account: account, "connection_reset", count: 2)
        }
        assertRetryable502(try post(stack))
        XCTAssertEqual(try stack.coolingAccounts(), 0, "a reset is transient: nobody is cooled for it")
        // Drop resets a fresh connection did not consume (no resend happened there).
        _ = try HTTPTestClient.exchange(
            port: stack.simulatorPort,
            HTTPTestClient.post(path: "/__sim/reset", json: "{}")
        )
        let r = try post(stack)
        XCTAssertEqual(r.status, 200, "requests after the resets are served: \(r.bodyText)")
    }

    /// A self-signed HTTPS upstream with `verifyTLS` on: the handshake fails, the client gets a 502, the
    /// log says `tls_failed`, and nothing hangs.
    func testUntrustedUpstreamCertificateIsA502CountedAsTLSFailure() throws {
        let directory = try TestEnvironment.tempDirectory("fault-tls")
        let cert = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let gen = try ChildProcess(
            name: "openssl-req",
            executable: "/usr/bin/env",
            arguments: [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert,
            ],
            directory: directory
        )
        guard gen.waitForExit(timeout: 30) == 0 else { throw XCTSkip("openssl unavailable: \(gen.stderr)") }
        var tlsPort = 0
        for attempt in 0..<5 {
            let port = TestEnvironment.randomPort()
            let server = try ChildProcess(
                name: "s_server-\(attempt)",
                executable: "/usr/bin/env",
                arguments: [
                    "openssl", "s_server", "-quiet", "-accept", "127.0.0.1:\(port)", "-cert", cert, "-key", key, "-www",
                ],
                directory: directory
            )
            extraProcesses.append(server)
            if HTTPTestClientProbe.connects(port: port, within: 5) {
                tlsPort = port
                break
            }
            server.stop()
        }
        XCTAssertNotEqual(tlsPort, 0, "openssl s_server did not start")
        let stack = try SightlineStack(label: "fault-tls") { _ in
            [
                [
                    "name": "tls", "kind": "chatgpt", "baseURL": "https://127.0.0.1:\(tlsPort)/backend-api/codex",
                    "accountId": "sim-account-1", "accessToken": "sim-access-acct1-0",
                ]
            ]
        }
        self.stack = stack
        let started = Date()
        assertRetryable502(try post(stack))
        XCTAssertLessThan(Date().timeIntervalSince(started), 15)
        XCTAssertTrue(stack.allOutput().contains("tls_failed"), "the attempt is logged as tls_failed")
        XCTAssertFalse(stack.allOutput().contains("sim-access-acct1-0"), "no credential in logs")
    }

    func testUnresolvableUpstreamIsA502AndFailsOverWhenAnotherAccountWorks() throws {
        let stack = try SightlineStack(label: "fault-dns") { base in
            [
                [
                    "name": "nowhere", "kind": "chatgpt", "baseURL": "http://sightline-test.invalid/backend-api/codex",
                    "accountId": "sim-account-1", "accessToken": "sim-access-acct1-0",
                ]
            ] + Array(SightlineStack.demoAccounts(base: base).dropFirst())
        }
        self.stack = stack
        let started = Date()
        for _ in 0..<4 { XCTAssertEqual(try post(stack).status, 200, "the unresolvable account is failed over") }
        XCTAssertLessThan(Date().timeIntervalSince(started), 30, "nothing hangs on DNS")
        XCTAssertTrue(stack.allOutput().contains("dns_failed"))
    }

    func testUnresolvableOnlyUpstreamAnswersA502Promptly() throws {
        let stack = try SightlineStack(label: "fault-dns-only") { _ in
            [
                [
                    "name": "nowhere", "kind": "chatgpt", "baseURL": "http://sightline-test.invalid/backend-api/codex",
                    "accountId": "sim-account-1", "accessToken": "sim-access-acct1-0",
                ]
            ]
        }
        self.stack = stack
        let started = Date()
        assertRetryable502(try post(stack, timeout: 20))
        XCTAssertLessThan(Date().timeIntervalSince(started), 15)
    }

    /// The log file on a full disk (`/dev/full`, through a symlink so rotation could only ever rename
    /// the link): requests are still served and the records go to standard error.
    func testFullDiskForTheLogFileKeepsServingAndFallsBackToStderr() throws {
        let directory = try TestEnvironment.tempDirectory("fault-logfull")
        let link = directory.appendingPathComponent("full.log")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "/dev/full")
        let stack = try SightlineStack(
            label: "fault-logfull",
            extraConfig: ["log": ["stdout": false, "file": link.path, "maxBytes": 4096]]
        )
        self.stack = stack
        for i in 0..<5 {
            let r = try post(stack, #"{"model":"gpt-5.5","input":"full disk \#(i)","stream":true}"#)
            XCTAssertEqual(r.status, 200)
        }
        XCTAssertTrue(
            poll(timeout: 5) { stack.proxy.stderr.contains("\"request finished\"") },
            "records reach stderr"
        )
        let stderr = stack.proxy.stderr
        XCTAssertEqual(stderr.components(separatedBy: "sightline.log.file_write_failed").count - 1, 1, "reported once")
        XCTAssertTrue(stderr.contains("\"proxy listening\""))
        let attributes = try FileManager.default.attributesOfItem(atPath: "/dev/full")
        XCTAssertEqual(attributes[.type] as? FileAttributeType, .typeCharacterSpecial, "/dev/full untouched")
    }

    /// A state directory nothing can be written to (made immutable with `chattr +i`, which stops root
    /// too): requests keep being served, including one whose access token the upstream revoked (a token
    /// refresh then cannot persist; the rotated token is kept in memory — docs/reliability.md). The rotation's
    /// failed write is counted and logged as a failed state write (until 2026-12-07 only its refresh record said so).
    func testUnwritableStateDirectoryKeepsServing() throws {
        let stack = try SightlineStack(label: "fault-statefull")
        self.stack = stack
        try stack.freezeStateDirectory(until: self)
        let invalidate = try HTTPTestClient.exchange(
            port: stack.simulatorPort,
            HTTPTestClient.post(path: "/__sim/accounts/acct1/invalidate-access", json: "{}")
        )
        XCTAssertEqual(invalidate.status, 200)
        for i in 0..<6 {
            let r = try post(stack, #"{"model":"gpt-5.5","input":"state \#(i)","stream":true}"#)
            XCTAssertEqual(r.status, 200, r.bodyText)
            XCTAssertTrue(r.bodyText.contains("response.completed"))
        }
        XCTAssertEqual(try HTTPTestClient.get(port: stack.proxyPort, path: "/readyz").status, 200)
        var rotation: [String: Any]?
        _ = poll(timeout: 5) {
            rotation = stack.logRecords().first {
                $0["event_name"] as? String == "sightline.state_write"
                    && ($0["attributes"] as? [String: Any])?["sightline.state.write"] as? String == "token_rotation"
            }
            return rotation != nil
        }
        let attributes = try XCTUnwrap(rotation?["attributes"] as? [String: Any], "the rotation's failed write")
        XCTAssertEqual(attributes["sightline.state.file"] as? String, "accounts")
        XCTAssertEqual(attributes["error.type"] as? String, "permission_denied")
        XCTAssertEqual((attributes["sightline.account"] as? String)?.hasPrefix("acct_"), true)
        let refresh = stack.awaitLogRecords(event: "sightline.token_refresh", count: 1).first
        XCTAssertEqual(
            (refresh?["attributes"] as? [String: Any])?["sightline.token_refresh.persist_error"] as? String,
            "permission_denied"
        )
        XCTAssertGreaterThanOrEqual(
            try stack.metric(#"sightline_state_write_failures_total{file="accounts",reason="permission_denied"}"#),
            1
        )
    }
}

/// Connect-only probe: whether something listens on a loopback port yet.
enum HTTPTestClientProbe {
    static func connects(port: Int, within timeout: TimeInterval) -> Bool {
        poll(timeout: timeout) { (try? HTTPTestClient(port: port, timeout: 1)) != nil }
    }
}
