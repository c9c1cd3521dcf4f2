import Foundation
import XCTest

/// Runs the real clients the integration tests drive, the same way everywhere: the Codex CLI with its own
/// `CODEX_HOME` pointed at the stack's proxy, and Python scripts of the OpenAI SDK that print one JSON line.
enum RealClients {
    /// `codex exec` against `stack`; returns the finished process (it is stopped if it outlives `timeout`).
    static func codexExec(
        _ stack: SightlineStack,
        webSockets: Bool,
        arguments: [String],
        name: String = "codex",
        home: URL? = nil,
        timeout: TimeInterval = 120
    ) throws -> (process: ChildProcess, status: Int32?) {
        let codex = try TestEnvironment.venvTool("codex")
        let home = home ?? stack.directory.appendingPathComponent("codex-home")
        let work = stack.directory.appendingPathComponent("work")
        for dir in [home, work] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
        try CodexConfig.toml(proxyURL: stack.proxyURL, webSockets: webSockets)
            .write(to: home.appendingPathComponent("config.toml"), atomically: true, encoding: .utf8)
        let run = try ChildProcess(
            name: name,
            executable: codex,
            arguments: ["exec", "--skip-git-repo-check", "--color", "never", "-C", work.path] + arguments,
            environment: ["CODEX_HOME": home.path, "SIGHTLINE_CLIENT_KEY": "codex-test-key-FAKE", "RUST_LOG": "error"],
            directory: stack.directory
        )
        let status = run.waitForExit(timeout: timeout)
        if status == nil { run.stop() }
        return (run, status)
    }

    /// Runs `Tests/IntegrationTests/clients/<script>` with the venv's Python against the proxy's `/v1` and
    /// returns the JSON object of its last output line.
    static func sdkScript(
        _ stack: SightlineStack,
        _ script: String,
        arguments: [String] = [],
        timeout: TimeInterval = 60
    ) throws -> [String: Any] {
        let python = try TestEnvironment.venvTool("python")
        let path = TestEnvironment.repoRoot.appendingPathComponent("Tests/IntegrationTests/clients/\(script)").path
        let run = try ChildProcess(
            name: (script as NSString).deletingPathExtension,
            executable: python,
            arguments: [path, stack.proxyURL + "/v1", "sdk-test-key-FAKE"] + arguments,
            directory: stack.directory
        )
        let status = run.waitForExit(timeout: timeout)
        if status == nil { run.stop() }
        XCTAssertEqual(status, 0, run.stderr)
        let line = try XCTUnwrap(run.stdout.split(separator: "\n").last, run.stderr)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    /// A Codex turn with a tool call (`[[tool:echo <marker>]]`): asserts the CLI exits 0 and shows the
    /// simulator's answer to the tool's output.
    static func codexToolTurn(
        _ stack: SightlineStack,
        webSockets: Bool,
        marker: String,
        file: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        let (run, status) = try codexExec(
            stack,
            webSockets: webSockets,
            arguments: [
                "--ephemeral", "--dangerously-bypass-approvals-and-sandbox", "Please run this: [[tool:echo \(marker)]]",
            ]
        )
        XCTAssertEqual(status, 0, "codex stderr:\n\(run.stderr)\nstdout:\n\(run.stdout)", file: file, line: line)
        XCTAssertTrue(
            run.stdout.contains("Tool said: \(marker)"),
            "stdout:\n\(run.stdout)\nstderr:\n\(run.stderr)",
            file: file,
            line: line
        )
    }
}
