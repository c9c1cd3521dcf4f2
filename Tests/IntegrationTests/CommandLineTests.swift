import Foundation
import XCTest

/// The `sightline` executable's command line, run as an operator runs it: which stream each answer goes to, and
/// which exit status a mistake earns.
final class CommandLineTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws { directory = try TestEnvironment.tempDirectory("cli") }

    override func tearDown() { try? FileManager.default.removeItem(at: directory) }

    /// Runs `sightline arguments…` to its end (at most 15 s) and returns its status and both streams.
    private func sightline(
        _ arguments: [String],
        environment: [String: String] = [:]
    ) throws -> (status: Int32?, stdout: String, stderr: String) {
        // An operator's key in the test's own environment must not decide which key a test sees.
        var environment = environment
        environment["SIGHTLINE_PSEUDONYM_KEY"] = environment["SIGHTLINE_PSEUDONYM_KEY"] ?? ""
        let child = try ChildProcess(
            name: "sightline-\(UUID().uuidString.prefix(8))",
            executable: TestEnvironment.sightlineBinary,
            arguments: arguments,
            environment: environment,
            directory: directory
        )
        let status = child.waitForExit(timeout: 15)
        if status == nil { child.stop() }
        return (status, child.stdout, child.stderr)
    }

    /// `P=$(sightline hash-id …)` holds a pseudonym or nothing: a usage error or a missing key is reported on
    /// standard error. Both went to standard output, where a script took the message for the pseudonym.
    func testHashIDErrorsGoToStandardErrorNotStandardOutput() throws {
        let key = ["SIGHTLINE_PSEUDONYM_KEY": String(repeating: "ab", count: 32)]
        let usage = try sightline(["hash-id", "--kind", "nonsense", "user-1"], environment: key)
        XCTAssertEqual(usage.status, 2, usage.stderr)
        XCTAssertEqual(usage.stdout, "", "nothing a script could take for a pseudonym")
        XCTAssertTrue(usage.stderr.contains("unknown kind"), usage.stderr)

        let noKey = try sightline(["hash-id", "--kind", "account", "--state-dir", directory.path, "user-1"])
        XCTAssertEqual(noKey.status, 1, noKey.stderr)
        XCTAssertEqual(noKey.stdout, "")
        XCTAssertTrue(noKey.stderr.contains("not_found"), noKey.stderr)

        let ok = try sightline(["hash-id", "--kind", "account", "user-1"], environment: key)
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(ok.stdout.hasPrefix("acct_") && ok.stdout.hasSuffix("\n"), ok.stdout)
        XCTAssertEqual(ok.stderr, "")
    }

    /// A configuration `check-config` accepts: one API-key account that is never contacted.
    private func writeConfiguration() throws -> String {
        let path = directory.appendingPathComponent("sightline.json").path
        let config = """
            {"listen":{"host":"127.0.0.1","port":\(TestEnvironment.randomPort())},
             "stateDirectory":"\(directory.appendingPathComponent("state").path)","log":{"stdout":false},
             "accounts":[{"name":"a1","kind":"apikey","baseURL":"http://127.0.0.1:9/v1","apiKeyEnv":"CLI_TEST_KEY"}]}
            """
        try Data(config.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        return path
    }

    /// `serve`, `demo`, `check-config` and `simulator` read their options as `hash-id` and `accounts import` do: an
    /// unknown flag, a missing or malformed value, a repeated flag or a stray word is exit 2 with a message and the
    /// usage, and `--flag=value` is understood. They used to ignore what they did not know: `demo --port abc` bound
    /// 8787, `serve --config=x.json` said `--config` was required, and `simulator --port 1 --port 2` took the last.
    func testMistakenOptionsAreUsageErrors() throws {
        let config = try writeConfiguration()
        let mistakes: [(arguments: [String], message: String)] = [
            (["demo", "--port", "abc"], "--port must be a whole number"),
            (["demo", "--port=70000"], "--port must be a whole number"),
            (["demo", "--simulator-port"], "--simulator-port needs a value"),
            (["demo", "--log-stdout", "yes"], "--log-stdout must be true or false"),
            (["demo", "--verbose"], "unknown option --verbose"),
            (["demo", "now"], "unexpected now"),
            (["serve", "--config", config, "--port", "9000"], "unknown option --port"),
            (["serve", "--config", config, "--config", config], "--config given twice"),
            (["serve"], "--config FILE is required"),
            (["check-config", "--config"], "--config needs a value"),
            (["check-config", "--config=", config], "--config needs a value"),
            (["check-config", config], "unexpected \(config)"),
            (["simulator", "--port", "abc"], "--port must be a whole number"),
            (["simulator", "--accounts", "0"], "--accounts must be a whole number from 1 to 1000"),
            (["simulator", "--port", "0", "--port", "1"], "--port given twice"),
            (["simulator", "--host", "--port", "0"], "--host needs a value"),
            (["simulator", "--verbose"], "unknown option --verbose"),
            (["simulator", "now"], "unexpected now"),
        ]
        for mistake in mistakes {
            let r = try sightline(mistake.arguments)
            XCTAssertEqual(r.status, 2, "\(mistake.arguments): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(mistake.message), "\(mistake.arguments): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("usage: sightline"), "\(mistake.arguments): \(r.stderr)")
        }
        let checked = try sightline(
            ["check-config", "--config=\(config)"],
            environment: ["CLI_TEST_KEY": "sk-FAKE-cli"]
        )
        XCTAssertEqual(checked.status, 0, checked.stderr)
        XCTAssertTrue(checked.stdout.contains("configuration ok"))
        let missing = try sightline(["serve", "--config=\(directory.path)/absent.json"])
        XCTAssertEqual(missing.status, 1, "the file is read, not reported missing: \(missing.stderr)")
        XCTAssertFalse(missing.stderr.contains("required"), missing.stderr)
    }

    /// `simulator --port=0 --accounts=2` starts (it was an unknown argument), on a port the system chose.
    func testSimulatorTakesOptionsWrittenWithEquals() throws {
        let simulator = try ChildProcess(
            name: "simulator-equals",
            executable: TestEnvironment.sightlineBinary,
            arguments: ["simulator", "--port=0", "--accounts=2", "--host=127.0.0.1"],
            directory: directory
        )
        defer { simulator.stop() }
        let port = simulator.waitForOutput(timeout: 15) { text -> Int? in
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("simulator listening on ") })
            else { return nil }
            return line.split(separator: ":").last.flatMap { Int($0) }
        }
        let listening = try XCTUnwrap(port, simulator.stderr)
        let accounts = try HTTPTestClient.get(port: listening, path: "/__sim/accounts")
        XCTAssertEqual(accounts.status, 200)
        XCTAssertTrue(accounts.bodyText.contains("acct2") && !accounts.bodyText.contains("acct3"), accounts.bodyText)
        simulator.signal(SIGINT)
        XCTAssertEqual(simulator.waitForExit(timeout: 15), 0, simulator.stderr)
    }

    /// `demo --port=P` listens on P (it bound 8787 whatever the value after `=`).
    func testDemoTakesPortsWrittenWithEquals() throws {
        let state = directory.appendingPathComponent("demo-state").path
        for attempt in 0..<5 {
            let (proxyPort, simulatorPort) = (TestEnvironment.randomPort(), TestEnvironment.randomPort())
            let demo = try ChildProcess(
                name: "demo-\(attempt)",
                executable: TestEnvironment.sightlineBinary,
                arguments: [
                    "demo", "--port=\(proxyPort)", "--simulator-port=\(simulatorPort)", "--state-dir=\(state)",
                    "--log-stdout=false",
                ],
                directory: directory
            )
            defer { demo.stop() }
            let banner = demo.waitForOutput(timeout: 15) { text -> String? in
                text.contains("Sightline demo is running") || text.contains("could not start") ? text : nil
            }
            if banner?.contains("could not start") == true { continue }  // a port taken: another pair
            XCTAssertTrue(banner?.contains("http://127.0.0.1:\(proxyPort)/v1") == true, banner ?? demo.stderr)
            XCTAssertEqual(try HTTPTestClient.get(port: proxyPort, path: "/healthz").status, 200)
            XCTAssertEqual(demo.stdout, "", "--log-stdout=false")
            demo.signal(SIGINT)
            XCTAssertEqual(demo.waitForExit(timeout: 15), 0, demo.stderr)
            return
        }
        XCTFail("no free pair of ports after 5 tries")
    }
}
