import CodexSimulator
import Foundation
import HTTPServer
import Proxy
import SightlineTestSupport
import Synchronization
import WireFormats
import XCTest

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Records what an upstream socket delivers.
final class RecordingUpstreamDelegate: UpstreamWebSocketDelegate {
    struct Seen {
        var opened: HTTPHeaders?
        var texts: [String] = []
        /// `didReceiveTexts` calls: one per read of the socket, however many messages it held.
        var batches = 0
        var close: UInt16?
        var failure: (String, Int?)?
        var refusal: UpstreamHandshakeRefusal?
    }
    let seen = Mutex(Seen())
    func didOpen(headers: HTTPHeaders) { seen.withLock { $0.opened = headers } }
    func didReceiveTexts(_ texts: [[UInt8]]) {
        seen.withLock { s in
            s.batches += 1
            s.texts += texts.map { String(decoding: $0, as: UTF8.self) }
        }
    }
    func didClose(code: UInt16, reason: String) { seen.withLock { $0.close = code } }
    func didFail(reason: String, status: Int?, refusal: UpstreamHandshakeRefusal?) {
        seen.withLock {
            $0.failure = (reason, status)
            $0.refusal = refusal
        }
    }
    var snapshot: Seen { seen.withLock { $0 } }
}

final class UpstreamWebSocketTests: XCTestCase {
    var simulator: CodexSimulator!
    let auth: HTTPHeaders = [
        "Authorization": "Bearer sim-access-acct1-0", "chatgpt-account-id": "sim-account-1",
        "OpenAI-Beta": "responses_websockets=2026-02-06",
    ]

    override func setUpWithError() throws {
        simulator = try TestPorts.withFreePort { port in
            var configuration = SimulatorConfiguration.demo(accounts: 1)
            configuration.port = port
            let simulator = CodexSimulator(configuration: configuration)
            try simulator.start()
            return simulator
        }
    }

    override func tearDown() {
        simulator.shutdown()
        simulator = nil
    }

    func testResponseCreateOverUpstreamSocketThenClose() throws {
        let delegate = RecordingUpstreamDelegate()
        let url = URL(string: "http://127.0.0.1:\(simulator.port)/backend-api/codex/responses")!
        let written = Mutex<[Int]>([])
        let socket = UpstreamWebSocket(
            url: url,
            headers: auth,
            delegate: delegate,
            textWritten: { bytes in written.withLock { $0.append(bytes) } }
        )
        socket.start()
        XCTAssertTrue(pollUntil { delegate.snapshot.opened != nil })
        XCTAssertEqual(delegate.snapshot.opened?["x-models-etag"], "sim-models-1")
        let create = Array(#"{"type":"response.create","model":"gpt-test","input":"hi","stream":true}"#.utf8)
        socket.send(text: create)
        XCTAssertTrue(pollUntil { delegate.snapshot.texts.last?.contains("response.completed") == true })
        XCTAssertEqual(written.withLock { $0 }, [create.count], "the written message is reported with its payload size")
        // The backend's quota report, its turn state, then the response's events.
        XCTAssertTrue(delegate.snapshot.texts.first?.contains("codex.rate_limits") == true)
        XCTAssertTrue(delegate.snapshot.texts.dropFirst().first?.contains("response.metadata") == true)
        XCTAssertTrue(delegate.snapshot.texts.dropFirst(2).first?.contains("response.created") == true)
        socket.close()
        XCTAssertTrue(pollUntil { delegate.snapshot.close == 1000 })
        XCTAssertNil(delegate.snapshot.failure)
    }

    /// An unpaced stream arrives many frames per read: they reach the delegate in order, in fewer calls than
    /// frames (one hand-off per read is what keeps the bridge's cost per frame low).
    func testAnUnpacedStreamIsDeliveredInOrderInBatches() throws {
        let fast = try TestPorts.withFreePort { port in
            var configuration = SimulatorConfiguration.demo(accounts: 1)
            configuration.port = port
            configuration.eventProfile = .init(deltaCount: 200, deltaDelayMs: 0, textSize: 2000)
            let simulator = CodexSimulator(configuration: configuration)
            try simulator.start()
            return simulator
        }
        defer { fast.shutdown() }
        let delegate = RecordingUpstreamDelegate()
        let url = URL(string: "http://127.0.0.1:\(fast.port)/backend-api/codex/responses")!
        let socket = UpstreamWebSocket(url: url, headers: auth, delegate: delegate)
        socket.start()
        XCTAssertTrue(pollUntil { delegate.snapshot.opened != nil })
        socket.send(text: Array(#"{"type":"response.create","model":"gpt-test","input":"hi","stream":true}"#.utf8))
        XCTAssertTrue(pollUntil { delegate.snapshot.texts.last?.contains("response.completed") == true })
        let seen = delegate.snapshot
        XCTAssertTrue(seen.texts.first?.contains("codex.rate_limits") == true)
        XCTAssertTrue(seen.texts.dropFirst(2).first?.contains("response.created") == true)
        let deltas = seen.texts.filter { $0.contains("response.output_text.delta") }
        XCTAssertEqual(deltas.count, 200)
        // Each frame carries its sequence number: in order means 0, 1, 2, … with none missing.
        let numbers = seen.texts.compactMap { text -> Int? in
            guard let top = try? JSONTopLevel.scan(Array(text.utf8)) else { return nil }
            return top.int(forKey: "sequence_number")
        }
        XCTAssertEqual(numbers, Array(0..<seen.texts.count - 2), "every event after the quota report and turn state")
        XCTAssertLessThan(seen.batches, seen.texts.count, "every frame was handed over on its own")
        socket.close()
        XCTAssertTrue(pollUntil { delegate.snapshot.close == 1000 })
    }

    func testNonUpgradeStatusIsReportedForFallback() throws {
        let delegate = RecordingUpstreamDelegate()
        let url = URL(string: "http://127.0.0.1:\(simulator.port)/backend-api/codex/responses/compact")!
        UpstreamWebSocket(url: url, headers: auth, delegate: delegate).start()
        XCTAssertTrue(pollUntil { delegate.snapshot.failure != nil })
        XCTAssertEqual(delegate.snapshot.failure?.1, 426)
        XCTAssertEqual(delegate.snapshot.failure?.0, "websocket_status")
    }

    func testUpstreamCloseAllEndsTheSession() throws {
        let delegate = RecordingUpstreamDelegate()
        let url = URL(string: "http://127.0.0.1:\(simulator.port)/backend-api/codex/responses")!
        UpstreamWebSocket(url: url, headers: auth, delegate: delegate).start()
        XCTAssertTrue(pollUntil { delegate.snapshot.opened != nil })
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(simulator.port)/__sim/websocket/close-all")!)
        request.httpMethod = "POST"
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { _, _, _ in done.signal() }.resume()
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success)
        XCTAssertTrue(pollUntil { delegate.snapshot.close == 1001 })
    }
}
