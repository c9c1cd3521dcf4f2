import Foundation
import XCTest

/// A child process for integration tests: stdout and stderr go to files in a temp dir so a test can
/// poll them with a deadline (never sleep to synchronise) and dump them when it fails.
final class ChildProcess: @unchecked Sendable {
    // Confined to the test thread that created it; Process itself is thread-safe enough for terminate().
    let process = Process()
    let stdoutURL: URL
    let stderrURL: URL
    let name: String

    init(
        name: String,
        executable: String,
        arguments: [String],
        environment: [String: String]? = nil,
        directory: URL
    ) throws {
        self.name = name
        stdoutURL = directory.appendingPathComponent("\(name).stdout")
        stderrURL = directory.appendingPathComponent("\(name).stderr")
        FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment ?? [:] { env[k] = v }
        process.environment = env
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// Polls stdout (and stderr) until `match` returns a value or the deadline passes.
    func waitForOutput<T>(timeout: TimeInterval, _ match: (String) -> T?) -> T? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if let v = match(stdout + stderr) { return v }
            if !process.isRunning { return match(stdout + stderr) }
            usleep(20_000)
        } while Date() < deadline
        return nil
    }

    /// Waits for exit up to `timeout`; returns the status or nil if still running.
    func waitForExit(timeout: TimeInterval) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    func signal(_ sig: Int32) { if process.isRunning { kill(process.processIdentifier, sig) } }

    func stop() {
        signal(SIGTERM)
        if waitForExit(timeout: 10) == nil {
            signal(SIGKILL)
            _ = waitForExit(timeout: 5)
        }
    }
}
