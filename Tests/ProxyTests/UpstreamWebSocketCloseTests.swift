import Foundation
import HTTPServer
import SightlineTestSupport
import Synchronization
import XCTest

@testable import Proxy

/// `UpstreamWebSocket.close` against upstreams that never answer it: the socket still ends, within
/// `closeTimeoutSeconds`, as a 1006 `close_timeout`, and drops its connection.
final class UpstreamWebSocketCloseTests: XCTestCase {
    let headers: HTTPHeaders = ["Authorization": "Bearer sim-access-FAKE"]

    /// A socket opened on the upstream at `port`, and the delegate recording it.
    private func openSocket(
        port: Int,
        file: StaticString = #filePath,
        line: UInt = #line
    ) -> (UpstreamWebSocket, RecordingUpstreamDelegate) {
        let delegate = RecordingUpstreamDelegate()
        let socket = UpstreamWebSocket(
            url: URL(string: "http://127.0.0.1:\(port)/backend-api/codex/responses")!,
            headers: headers,
            delegate: delegate
        )
        socket.start()
        XCTAssertTrue(pollUntil { delegate.snapshot.opened != nil }, file: file, line: line)
        return (socket, delegate)
    }

    /// A frame queued while the upgrade is in progress is dropped by `close`: the upstream, answering its 101 only
    /// once the socket was closed, gets the close frame and nothing before it. Until 2026-12-07 the queued
    /// `response.create` went out first, a turn started upstream for a client that had left.
    func testCloseDropsAFrameQueuedWhileTheUpgradeWasInProgress() throws {
        let closed = DispatchSemaphore(value: 0)
        let seen = Mutex<(texts: [String], closed: Bool)?>(nil)
        let upstream = try UpstreamTestServer { connection in
            guard let request = connection.readRequest() else { return }
            _ = closed.wait(timeout: .now() + 10)  // the 101 only after `close()` was called
            let key = request.header("sec-websocket-key") ?? ""
            connection.write(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: \(WebSocketHandshake.acceptValue(forKey: key))\r\n\r\n"
            )
            let read = connection.readWebSocketTexts(timeoutSeconds: 10)
            seen.withLock { $0 = read }
        }
        defer { upstream.stop() }
        let written = Mutex<[Int]>([])
        let socket = UpstreamWebSocket(
            url: URL(string: "http://127.0.0.1:\(upstream.port)/backend-api/codex/responses")!,
            headers: headers,
            delegate: RecordingUpstreamDelegate(),
            textWritten: { bytes in written.withLock { $0.append(bytes) } }
        )
        socket.start()
        XCTAssertTrue(socket.send(text: Array(#"{"type":"response.create","model":"m","input":"hi"}"#.utf8)))
        socket.close(code: WebSocketCloseCode.normal, reason: "client closed")
        closed.signal()
        XCTAssertTrue(pollUntil(timeout: 15) { seen.withLock { $0 } != nil }, "the upstream never saw the end")
        XCTAssertEqual(seen.withLock { $0?.texts }, [], "no frame before the close")
        XCTAssertEqual(seen.withLock { $0?.closed }, true, "the close frame itself was sent")
        XCTAssertEqual(written.withLock { $0 }, [], "a dropped frame is not reported written (nor counted as sent)")
    }

    /// The upstream reads the upgrade and never answers it; the socket is closed meanwhile (the client left, or the
    /// request moved on). The upstream gets `closeTimeoutSeconds` to answer, as after an upgrade, then the connection
    /// is dropped. Until 2026-12-08 the wait for the 101 ignored `close` and ran its whole connect timeout (15 s by
    /// default), holding the upstream connection and its thread for nobody.
    func testCloseDuringAnUnansweredUpgradeEndsAfterTheCloseTimeout() throws {
        let asked = Atomic<Bool>(false)
        let disconnected = Atomic<Bool>(false)
        let upstream = try UpstreamTestServer { connection in
            guard connection.readRequest() != nil else { return }
            asked.store(true, ordering: .releasing)
            if connection.waitForClose(timeoutSeconds: 60) { disconnected.store(true, ordering: .releasing) }
        }
        defer { upstream.stop() }
        let delegate = RecordingUpstreamDelegate()
        let socket = UpstreamWebSocket(
            url: URL(string: "http://127.0.0.1:\(upstream.port)/backend-api/codex/responses")!,
            headers: headers,
            delegate: delegate,
            connectTimeoutSeconds: 30
        )
        socket.start()
        XCTAssertTrue(pollUntil { asked.load(ordering: .acquiring) }, "the upgrade never reached the upstream")
        socket.close()
        XCTAssertTrue(
            pollUntil(timeout: socket.closeTimeoutSeconds + 3) { delegate.snapshot.failure != nil },
            "still waiting for the 101"
        )
        XCTAssertEqual(delegate.snapshot.failure?.0, UpstreamWebSocket.closeTimeoutReason)
        XCTAssertNil(delegate.snapshot.opened)
        XCTAssertTrue(pollUntil { disconnected.load(ordering: .acquiring) }, "the connection is dropped")
    }

    /// The upstream completes the upgrade, then reads (and ignores) everything, our close frame included,
    /// without ever sending its own.
    func testAnUpstreamThatNeverAnswersTheCloseIsDroppedAfterTheCloseTimeout() throws {
        let disconnected = Atomic<Bool>(false)
        let upstream = try UpstreamTestServer { connection in
            guard let request = connection.readRequest() else { return }
            let key = request.header("sec-websocket-key") ?? ""
            connection.write(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: \(WebSocketHandshake.acceptValue(forKey: key))\r\n\r\n"
            )
            if connection.waitForClose(timeoutSeconds: 60) { disconnected.store(true, ordering: .releasing) }
        }
        defer { upstream.stop() }
        let (socket, delegate) = openSocket(port: Int(upstream.port))
        socket.close()
        XCTAssertTrue(
            pollUntil(timeout: socket.closeTimeoutSeconds + 3) { delegate.snapshot.close != nil },
            "still waiting for the upstream's close"
        )
        XCTAssertEqual(delegate.snapshot.close, WebSocketCloseCode.abnormal)
        XCTAssertNil(delegate.snapshot.failure)
        XCTAssertTrue(pollUntil { disconnected.load(ordering: .acquiring) }, "the connection is dropped")
    }

    /// The upstream completes the upgrade and stops reading: the close frame itself cannot be written, and the
    /// blocked write is abandoned at the same deadline.
    func testAnUpstreamThatStoppedReadingIsDroppedAfterTheCloseTimeout() throws {
        let upstream = try StalledUpstream(upgrade: true)
        defer { upstream.stop() }
        let (socket, delegate) = openSocket(port: Int(upstream.port))
        // Frames until one stays queued: the thread is then blocked writing (loopback buffers take a few MiB).
        let frame = [UInt8](repeating: UInt8(ascii: "z"), count: 64 << 10)
        var written = 0
        while written < 1000 {
            XCTAssertTrue(socket.send(text: frame))
            guard pollUntil(timeout: 0.2, { socket.queuedByteCount == 0 }) else { break }
            written += 1
        }
        XCTAssertLessThan(written, 1000, "65 MiB never blocked the writer")
        socket.close()
        XCTAssertTrue(
            pollUntil(timeout: socket.closeTimeoutSeconds + 3) { delegate.snapshot.close != nil },
            "still blocked writing to the upstream"
        )
        XCTAssertEqual(delegate.snapshot.close, WebSocketCloseCode.abnormal)
        XCTAssertNil(delegate.snapshot.failure)
        // Not asserted: that the upstream sees the end. Our FIN waits in the kernel behind the megabytes the
        // upstream never reads.
    }
}
