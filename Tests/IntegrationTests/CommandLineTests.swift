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
}
