import Foundation
import XCTest

/// Access control end to end: `/metrics` on its own listener behind a hashed bearer token, and
/// configuration and state files refused when others may read them (docs/configuration.md).
final class AccessControlTests: XCTestCase {
    var stack: SightlineStack?

    override func tearDown() { stack?.stop() }

    /// SHA-256 hex of "metrics-test-FAKE-token" (`printf %s metrics-test-FAKE-token | sha256sum`).
    static let metricsToken = "metrics-test-FAKE-token"

    static func sha256Hex(_ text: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["sha256sum"]
        let input = Pipe()
        let output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try p.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(String(decoding: data, as: UTF8.self).prefix(64))
    }

    /// A stack whose `metrics` section, made by `metrics` from a random port, has a listener of its own. The port is
    /// chosen here, so a taken one is retried here (the stack retries only its own port).
    private func stackWithMetricsListener(
        label: String,
        metrics: (Int) -> [String: Any]
    ) throws -> (stack: SightlineStack, port: Int) {
        for _ in 0..<5 {
            let port = TestEnvironment.randomPort()
            if let stack = try? SightlineStack(label: label, extraConfig: ["metrics": metrics(port)]) {
                return (stack, port)
            }
        }
        throw MissingPrerequisite(what: "a free port for the metrics listener after 5 tries")
    }

    func testMetricsMoveToTheirOwnListenerBehindAHashedToken() throws {
        let tokenSha256 = try Self.sha256Hex(Self.metricsToken)
        let (stack, metricsPort) = try stackWithMetricsListener(label: "access-metrics") { port in
            ["listen": ["host": "127.0.0.1", "port": port], "tokenSha256": tokenSha256]
        }
        self.stack = stack
        let onMain = try HTTPTestClient.get(port: stack.proxyPort, path: "/metrics")
        XCTAssertEqual(onMain.status, 404, "off the public listener by default once metrics.listen is set")
        XCTAssertFalse(onMain.bodyText.contains("sightline_"))
        let anonymous = try HTTPTestClient.get(port: metricsPort, path: "/metrics")
        XCTAssertEqual(anonymous.status, 401)
        XCTAssertEqual(anonymous.errorObject?["code"] as? String, "invalid_metrics_token")
        XCTAssertEqual(anonymous.headers["www-authenticate"], "Bearer")
        let wrong = try HTTPTestClient.get(
            port: metricsPort,
            path: "/metrics",
            headers: [("Authorization", "Bearer metrics-test-FAKE-tokeN")]
        )
        XCTAssertEqual(wrong.status, 401)
        let ok = try HTTPTestClient.get(
            port: metricsPort,
            path: "/metrics",
            headers: [("Authorization", "Bearer \(Self.metricsToken)")]
        )
        XCTAssertEqual(ok.status, 200)
        XCTAssertEqual(
            SightlineStack.sample(
                #"sightline_http_protocol_errors_total{reason="metrics_unauthorized"}"#,
                in: ok.bodyText
            ),
            2
        )
        XCTAssertEqual(try HTTPTestClient.get(port: metricsPort, path: "/healthz").status, 200, "health stays open")
        XCTAssertFalse(stack.allOutput().contains(Self.metricsToken), "the token is never logged")
    }

    func testMainListenerCanKeepMetricsWhenAsked() throws {
        let (stack, _) = try stackWithMetricsListener(label: "access-main") { port in
            ["listen": ["host": "127.0.0.1", "port": port], "onMainListener": true]
        }
        self.stack = stack
        let r = try HTTPTestClient.get(port: stack.proxyPort, path: "/metrics")
        XCTAssertEqual(r.status, 200)
        XCTAssertTrue(r.bodyText.contains("sightline_requests_total"))
    }

    /// `sightline check-config` applies the same permission rule as `serve`.
    func checkConfig(_ config: [String: Any], mode: Int) throws -> (status: Int32, stderr: String) {
        let directory = try TestEnvironment.tempDirectory("access-config")
        let file = directory.appendingPathComponent("sightline.json")
        try JSONSerialization.data(withJSONObject: config).write(to: file)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file.path)
        let child = try ChildProcess(
            name: "check-config",
            executable: TestEnvironment.sightlineBinary,
            arguments: ["check-config", "--config", file.path],
            environment: ["ACCESS_TEST_TOKEN": "sim-access-FAKE"],
            directory: directory
        )
        let status = try XCTUnwrap(child.waitForExit(timeout: 15))
        return (status, child.stderr + child.stdout)
    }

    func testConfigFilesOthersCanReadAreRefused() throws {
        let inline: [String: Any] = [
            "accounts": [
                ["name": "a", "kind": "chatgpt", "accountId": "sim-account-1", "accessToken": "sim-access-FAKE"]
            ]
        ]
        let viaEnv: [String: Any] = [
            "accounts": [
                [
                    "name": "a", "kind": "chatgpt", "accountIdEnv": "ACCESS_TEST_TOKEN",
                    "accessTokenEnv": "ACCESS_TEST_TOKEN",
                ]
            ]
        ]
        XCTAssertEqual(try checkConfig(inline, mode: 0o600).status, 0)
        let worldReadable = try checkConfig(inline, mode: 0o644)
        XCTAssertNotEqual(worldReadable.status, 0)
        XCTAssertTrue(worldReadable.stderr.contains("insecure_permissions"), worldReadable.stderr)
        XCTAssertFalse(worldReadable.stderr.contains("sim-access-FAKE"), "errors name the file, never a value")
        XCTAssertNotEqual(try checkConfig(inline, mode: 0o640).status, 0, "inline credentials: group read refused")
        XCTAssertEqual(try checkConfig(viaEnv, mode: 0o640).status, 0, "no inline credential: group read allowed")
        XCTAssertNotEqual(try checkConfig(viaEnv, mode: 0o604).status, 0, "other users: always refused")
        XCTAssertNotEqual(try checkConfig(viaEnv, mode: 0o660).status, 0, "group write: always refused")
    }

    func testWorldReadablePseudonymKeyStopsTheProxy() throws {
        let stack = try SightlineStack(label: "access-key")
        self.stack = stack
        stack.proxy.stop()
        let key = stack.directory.appendingPathComponent("state/pseudonym.key").path
        XCTAssertTrue(FileManager.default.fileExists(atPath: key))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: key)
        XCTAssertFalse(try stack.relaunchProxy(timeout: 5))
        XCTAssertNotNil(stack.proxy.waitForExit(timeout: 10), "refuses to start")
        XCTAssertTrue(stack.proxy.stderr.contains("insecure_permissions"), stack.proxy.stderr)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key)
        XCTAssertTrue(try stack.relaunchProxy(), "starts again once the key is private")
    }
}
