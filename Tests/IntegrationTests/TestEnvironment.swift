import Foundation
import XCTest

/// Where the integration tests find the things scripts/test.sh prepared: the `sightline` binary and the
/// Python venv with the OpenAI SDK and the Codex CLI. A missing prerequisite fails the test with a
/// message naming the README command; it is never silently skipped.
enum TestEnvironment {
    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    static var sightlineBinary: String {
        if let explicit = ProcessInfo.processInfo.environment["SIGHTLINE_BIN"] { return explicit }
        // The test bundle runs from the same bin directory the package's products are built into.
        let bin = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [bin, bin.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("sightline").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return repoRoot.appendingPathComponent(".build/debug/sightline").path
    }

    static var venv: URL {
        if let explicit = ProcessInfo.processInfo.environment["SIGHTLINE_VENV"] {
            return URL(fileURLWithPath: explicit)
        }
        return repoRoot.appendingPathComponent(".venv")
    }

    static func venvTool(_ name: String) throws -> String {
        let path = venv.appendingPathComponent("bin/\(name)").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw MissingPrerequisite(what: "\(path): run ./scripts/test.sh, it installs the clients")
        }
        return path
    }

    static func tempDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sightline-\(label)-\(UUID().uuidString.prefix(8))"
        )
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A port below 32768 (outside Linux's ephemeral range), random so parallel runs rarely collide; the
    /// caller retries with another if the bind fails.
    static func randomPort() -> Int { Int.random(in: 20_000..<32_000) }
}

/// A prerequisite the README's test command installs is missing: the test fails (never skips).
struct MissingPrerequisite: Error, CustomStringConvertible {
    var what: String
    var description: String { "missing prerequisite: \(what)" }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes: the one way the integration tests wait
/// for something (never a bare sleep).
func poll(timeout: TimeInterval, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    repeat {
        if try condition() { return true }
        usleep(20_000)
    } while Date() < deadline
    return try condition()
}
