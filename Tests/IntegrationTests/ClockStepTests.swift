import Foundation
import XCTest

/// Durations against a wall-clock step: NTP stepping a drifted clock, a VM resumed from suspend, an operator's
/// `date -s`. The real proxy process runs with a small preload shim (`clockstep/clockstep.c`, built here with
/// `cc`) that adds the seconds written in a file to its wall clock and leaves its monotonic clock alone; a step
/// in the middle of a stream must not reach the duration histogram, the request's record or its span.
final class ClockStepTests: XCTestCase {
    private var stack: SightlineStack!
    private var stepFile: URL!

    /// A stack whose proxy runs under the shim, its offset at 0.
    private func startStack(extraConfig: [String: Any] = [:]) throws {
        let directory = try TestEnvironment.tempDirectory("clock-step-shim")
        let library = try Self.buildShim(into: directory)
        stepFile = directory.appendingPathComponent("offset")
        try Self.write("0", to: stepFile)
        // 20 deltas 60 ms apart: each answer takes about 1.2 s, time enough to step the clock in its middle.
        stack = try SightlineStack(
            label: "clock-step",
            extraConfig: extraConfig,
            simulator: ["eventProfile": ["deltaCount": 20, "deltaDelayMs": 60]],
            proxyEnvironment: ["LD_PRELOAD": library, "SIGHTLINE_CLOCK_STEP_FILE": stepFile.path]
        )
    }

    override func tearDown() { stack?.stop() }

    /// An hour forward during an HTTP stream, an hour back during a WebSocket turn: each still lasts the second
    /// or so it took, in the histogram, in `sightline.duration_seconds` and between its span's start and end.
    func testAWallClockStepDuringAStreamDoesNotChangeItsDuration() throws {
        try startStack()
        let client = try HTTPTestClient(port: stack.proxyPort)
        try client.send(
            HTTPTestClient.post(path: "/v1/responses", json: #"{"model":"gpt-5.5","input":"long","stream":true}"#)
        )
        let head = try client.readUntil { String(decoding: $0, as: UTF8.self).contains("response.output_text.delta") }
        XCTAssertTrue(String(decoding: head, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        try Self.write("3600", to: stepFile)
        _ = try client.readUntil { String(decoding: $0, as: UTF8.self).contains("response.completed") }
        client.disconnect()

        let ws = try WebSocketClient(port: stack.proxyPort, path: "/v1/responses")
        XCTAssertEqual(ws.status, 101)
        try ws.send(#"{"type":"response.create","model":"gpt-5.5","store":false,"stream":true,"input":"long"}"#)
        guard case .text = ws.next() else { return XCTFail("no first WebSocket event") }
        try Self.write("0", to: stepFile)
        let events = ws.readTurn()
        XCTAssertEqual(events.last?["type"] as? String, "response.completed")
        ws.close()

        for transport in ["http", "websocket"] {
            let series = #"sightline_request_duration_seconds_sum{route="responses",transport="\#(transport)"}"#
            var sum = 0.0
            XCTAssertTrue(
                poll(timeout: 5) {
                    sum = (try? stack.metric(series)) ?? 0; return sum > 0
                },
                series
            )
            XCTAssertGreaterThan(sum, 0.5, "\(series): the stream took over a second")
            XCTAssertLessThan(sum, 60, "\(series): the hour the clock stepped is not part of it")
        }
        let records = stack.awaitLogRecords(event: "sightline.request", count: 2)
        XCTAssertEqual(records.count, 2)
        for record in records {
            let attributes = record["attributes"] as? [String: Any] ?? [:]
            let duration = attributes["sightline.duration_seconds"] as? Double ?? -1
            XCTAssertTrue((0.5..<60).contains(duration), "\(attributes["sightline.transport"] ?? ""): \(duration)")
        }
        let spans = stack.awaitLogRecords(event: "sightline.span", count: 2).filter {
            $0["kind"] as? String == "server"
        }
        XCTAssertEqual(spans.count, 2)
        for span in spans {
            let start = UInt64(span["start_time_unix_nano"] as? String ?? "") ?? 0
            let end = UInt64(span["end_time_unix_nano"] as? String ?? "") ?? 0
            XCTAssertTrue(end > start && end - start < 60_000_000_000, "\(span["name"] ?? ""): \(start) → \(end)")
        }
    }

    /// An hour back during a request the HTTP bridge carries over an upstream WebSocket.
    func testAWallClockStepDuringABridgedRequestDoesNotChangeItsDuration() throws {
        try startStack(extraConfig: ["httpBridge": true])
        let client = try HTTPTestClient(port: stack.proxyPort)
        try client.send(
            HTTPTestClient.post(
                path: "/v1/responses",
                json: #"{"model":"gpt-5.5","input":"long","stream":true,"prompt_cache_key":"clock-step-bridge"}"#
            )
        )
        let head = try client.readUntil { String(decoding: $0, as: UTF8.self).contains("response.output_text.delta") }
        XCTAssertTrue(String(decoding: head, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        try Self.write("-3600", to: stepFile)
        _ = try client.readUntil { String(decoding: $0, as: UTF8.self).contains("response.completed") }
        client.disconnect()
        XCTAssertEqual(
            try stack.metric(#"sightline_websocket_upstream_turns_total{client="http_bridge",session="new"}"#),
            1,
            "the request went over the bridge"
        )
        let series = #"sightline_request_duration_seconds_sum{route="responses",transport="http"}"#
        var sum = 0.0
        XCTAssertTrue(
            poll(timeout: 5) {
                sum = (try? stack.metric(series)) ?? 0; return sum > 0
            },
            series
        )
        XCTAssertTrue((0.5..<60).contains(sum), "\(series): \(sum)")
    }

    /// Compiles the shim into `directory` and checks that it steps a process's wall clock (`date +%s`) and
    /// nothing else, so a passing test cannot come from a shim that does nothing.
    private static func buildShim(into directory: URL) throws -> String {
        let source = TestEnvironment.repoRoot.appendingPathComponent("Tests/IntegrationTests/clockstep/clockstep.c")
        let library = directory.appendingPathComponent("clockstep.so").path
        guard
            try run("/usr/bin/env", ["cc", "-shared", "-fPIC", "-O2", "-o", library, source.path, "-ldl"]).status == 0
        else { throw MissingPrerequisite(what: "a C compiler (cc) to build \(source.path)") }
        let probe = directory.appendingPathComponent("probe-offset")
        try write("86400", to: probe)
        let stepped = try run(
            "/bin/date",
            ["+%s"],
            environment: ["LD_PRELOAD": library, "SIGHTLINE_CLOCK_STEP_FILE": probe.path]
        )
        let shift =
            (Double(stepped.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0)
            - Date().timeIntervalSince1970
        guard (86_000..<86_800).contains(shift) else {
            throw MissingPrerequisite(what: "a clock-step shim that works: date moved by \(shift) s, not a day")
        }
        return library
    }

    private static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = [:]
    ) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Replaces the offset libfaketime reads on every clock call (`FAKETIME_NO_CACHE`).
    private static func write(_ offset: String, to file: URL) throws {
        try Data((offset + "\n").utf8).write(to: file, options: .atomic)
    }
}
