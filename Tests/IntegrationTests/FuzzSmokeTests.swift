import Foundation
import XCTest

/// Runs every libFuzzer target for a few seconds through `scripts/fuzz.sh` (the same script the longer runs in
/// docs/reliability.md use) and fails if any target crashes, hangs, breaks one of its invariants, or cannot be
/// built with this toolchain. Fuzz binaries are cached in `.build-fuzz/`, so only the first run pays for the
/// build. A failure names the kept crash input under `Tests/Fuzz/crashes/`.
final class FuzzSmokeTests: XCTestCase {
    func testEveryFuzzTargetRunsCleanForTenSeconds() throws {
        let root = TestEnvironment.repoRoot
        let script = root.appendingPathComponent("scripts/fuzz.sh").path
        guard FileManager.default.isExecutableFile(atPath: script) else {
            throw MissingPrerequisite(what: "\(script) is missing or not executable")
        }
        let directory = try TestEnvironment.tempDirectory("fuzz")
        defer { try? FileManager.default.removeItem(at: directory) }
        // setsid makes the script a process-group leader, so a timeout can stop the fuzzers it started too.
        let child = try ChildProcess(
            name: "fuzz",
            executable: "/usr/bin/setsid",
            arguments: ["/bin/bash", script, "--seconds", "10"],
            directory: directory
        )
        let started = Date()
        // Eight targets of 10 s, two at a time, plus a cold build on a loaded 2-core machine: minutes, not more.
        let status = child.waitForExit(timeout: 600)
        if status == nil { kill(-child.process.processIdentifier, SIGKILL) }
        let output = child.stdout + child.stderr
        let summaries = output.split(separator: "\n").filter { $0.hasPrefix("fuzz: ") }
        XCTAssertNotNil(status, "scripts/fuzz.sh did not finish within 600 s:\n\(output)")
        XCTAssertEqual(status, 0, "scripts/fuzz.sh failed:\n\(output)")
        for target in ["http_request", "chunked", "websocket", "sse", "json", "response_event", "config", "zstd"] {
            XCTAssertTrue(
                summaries.contains { $0.hasPrefix("fuzz: \(target) ") && $0.hasSuffix(" ok") },
                "no clean summary line for \(target):\n\(output)"
            )
        }
        print("FuzzSmokeTests: scripts/fuzz.sh --seconds 10 took \(Int(Date().timeIntervalSince(started))) s")
    }
}
