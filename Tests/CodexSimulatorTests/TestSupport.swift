import Foundation
import HTTPServer
import Synchronization
import XCTest

@testable import CodexSimulator

/// In-memory twin of `HTTPResponder`: records everything the simulator writes.
final class RecordingSink: SimulatorResponseSink {
    struct State {
        var status: Int?
        var headers = HTTPHeaders()
        var body: [UInt8] = []
        var writes = 0
        var ended = false
        var aborted = false
        var streamed = false
        var writable: [@Sendable () -> Void] = []
        var closers: [@Sendable () -> Void] = []
        /// Number of writes to accept before reporting a full buffer.
        var acceptBeforeFull = Int.max
    }

    let state = Mutex(State())

    init(acceptBeforeFull: Int = Int.max) { state.withLock { $0.acceptBeforeFull = acceptBeforeFull } }

    func respond(status: Int, headers: HTTPHeaders, body: [UInt8]) {
        state.withLock {
            $0.status = status
            $0.headers = headers
            $0.body = body
            $0.ended = true
        }
    }
    func beginStream(status: Int, headers: HTTPHeaders) {
        state.withLock {
            $0.status = status
            $0.headers = headers
            $0.streamed = true
        }
    }
    func write(_ bytes: [UInt8]) -> Bool {
        state.withLock {
            $0.body += bytes
            $0.writes += 1
            return $0.writes < $0.acceptBeforeFull
        }
    }
    func end() { state.withLock { $0.ended = true } }
    func abortAfterFlush() { abort() }

    func abort() {
        let closers = state.withLock { s -> [@Sendable () -> Void] in
            s.aborted = true
            defer { s.closers = [] }
            return s.closers
        }
        for c in closers { c() }
    }
    func onWritable(_ callback: @escaping @Sendable () -> Void) { state.withLock { $0.writable.append(callback) } }
    func onClose(_ callback: @escaping @Sendable () -> Void) { state.withLock { $0.closers.append(callback) } }

    /// Simulates the client draining its buffer.
    func drain() {
        let callbacks = state.withLock { s -> [@Sendable () -> Void] in
            s.acceptBeforeFull = Int.max
            defer { s.writable = [] }
            return s.writable
        }
        for c in callbacks { c() }
    }

    var snapshot: State { state.withLock { $0 } }
    var bodyText: String { String(decoding: snapshot.body, as: UTF8.self) }
    var isFinished: Bool { snapshot.ended || snapshot.aborted }

    func waitFinished(timeout: Double = 5, file: StaticString = #filePath, line: UInt = #line) {
        let deadline = Date().addingTimeInterval(timeout)
        while !isFinished && Date() < deadline { usleep(2000) }
        XCTAssertTrue(isFinished, "stream did not finish in time", file: file, line: line)
    }

    /// The decoded `data:` JSON objects of the SSE body.
    var events: [[String: Any]] { SSE.events(bodyText) }

    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(snapshot.body))) as? [String: Any] ?? [:]
    }
}

enum SSE {
    static func events(_ text: String) -> [[String: Any]] {
        text.components(separatedBy: "\n\n").compactMap { block in
            guard let line = block.split(separator: "\n").first(where: { $0.hasPrefix("data: ") }) else { return nil }
            return (try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8))) as? [String: Any]
        }
    }
}

/// A clock tests move by hand.
final class TestClock: Sendable {
    let now = Mutex<Double>(1_700_000_000)
    func advance(_ seconds: Double) { now.withLock { $0 += seconds } }
    var read: @Sendable () -> Double { { [self] in now.withLock { $0 } } }
}

/// Builds Responses request bodies and headers for the demo accounts.
enum Requests {
    static func body(
        input: Any = "hi",
        stream: Bool? = true,
        key: String? = "pck-1",
        extra: [String: Any] = [:]
    ) -> [UInt8] {
        var object: [String: Any] = ["model": "gpt-test", "input": input, "store": false]
        if let stream { object["stream"] = stream }
        if let key { object["prompt_cache_key"] = key }
        for (k, v) in extra { object[k] = v }
        return Array(try! JSONSerialization.data(withJSONObject: object))
    }

    static func chatgpt(_ n: Int, _ more: [(String, String)] = []) -> HTTPHeaders {
        HTTPHeaders(
            [("Authorization", "Bearer sim-access-acct\(n)-0"), ("chatgpt-account-id", "sim-account-\(n)")] + more
        )
    }

    static func message(_ role: String, _ text: String) -> [String: Any] {
        ["type": "message", "role": role, "content": [["type": "input_text", "text": text]]]
    }

    static var execTool: [String: Any] {
        [
            "type": "function", "name": "exec_command",
            "parameters": ["type": "object", "properties": ["cmd": ["type": "string"]]],
        ]
    }
}

/// A handler over a fresh engine with a test clock, driven without sockets.
struct Harness {
    let clock = TestClock()
    let handler: SimulatorHTTPHandler

    init(_ configuration: SimulatorConfiguration = .demo(accounts: 3)) {
        handler = SimulatorHTTPHandler(engine: SimulatorEngine(configuration: configuration, clock: clock.read))
    }

    @discardableResult
    func send(
        _ method: String,
        _ path: String,
        headers: HTTPHeaders = HTTPHeaders(),
        body: [UInt8] = [],
        sink: RecordingSink = RecordingSink()
    ) -> RecordingSink {
        handler.route(HTTPRequest(method: method, target: path, headers: headers, body: body), sink: sink)
        return sink
    }

    func post(_ path: String, json: String) -> RecordingSink { send("POST", path, body: Array(json.utf8)) }

    var requests: [[String: Any]] {
        let sink = send("GET", "/__sim/requests")
        return (try? JSONSerialization.jsonObject(with: Data(sink.snapshot.body))) as? [[String: Any]] ?? []
    }
}
