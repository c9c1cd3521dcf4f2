import Foundation
import XCTest

/// Runs Prometheus' `promtool` as a child process and reports its exit status and output.
///
/// Missing `promtool` is a test failure, never a skip: these checks are the only proof that the rules
/// and dashboard queries parse. Concurrency: each call owns its process; safe from any thread.
enum Promtool {
    struct Result {
        let status: Int32
        let output: String
    }

    static let missingMessage =
        "promtool not found on PATH: run ./scripts/test.sh (its setup step installs promtool), "
        + "or install the prometheus package"

    static var executable: URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":")
            .map { URL(fileURLWithPath: String($0)).appendingPathComponent("promtool") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Runs `promtool arguments…` in `directory`; nil (after an `XCTFail`) when promtool is missing.
    static func run(
        _ arguments: [String],
        in directory: URL,
        file: StaticString = #filePath,
        line: UInt = #line
    )
        throws -> Result?
    {
        guard let executable else {
            XCTFail(missingMessage, file: file, line: line)
            return nil
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self))
    }
}
