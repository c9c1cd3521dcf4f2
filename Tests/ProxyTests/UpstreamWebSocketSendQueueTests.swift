import Foundation
import Glibc
import HTTPServer
import Metrics
import SightlineTestSupport
import Synchronization
import XCTest

@testable import Proxy

/// `UpstreamWebSocket.maxQueuedBytes`: frames pile up only while the socket's thread cannot write them, and
/// past the bound the socket fails once, counted, instead of growing without limit.
final class UpstreamWebSocketSendQueueTests: XCTestCase {
    let metrics = SightlineMetrics(registry: MetricRegistry(), version: "v", revision: "r", swiftVersion: "6.3")

    func makeSocket(port: UInt16, delegate: RecordingUpstreamDelegate, maxQueuedBytes: Int) -> UpstreamWebSocket {
        UpstreamWebSocket(
            url: URL(string: "http://127.0.0.1:\(port)/backend-api/codex/responses")!,
            headers: ["Authorization": "Bearer sim-access-FAKE"],
            delegate: delegate,
            connectTimeoutSeconds: 30,
            maxQueuedBytes: maxQueuedBytes,
            sendQueueOverflows: metrics.webSocket.sendQueueOverflows
        )
    }

    /// The upstream accepts TCP and never answers the upgrade: every frame waits in the queue.
    func testFramesQueuedDuringAHangingHandshakeOverflowAtTheBoundAndFailTheSocketOnce() throws {
        let upstream = try StalledUpstream(upgrade: false)
        defer { upstream.stop() }
        let delegate = RecordingUpstreamDelegate()
        let socket = makeSocket(port: upstream.port, delegate: delegate, maxQueuedBytes: 4096)
        socket.start()
        let frame = [UInt8](repeating: UInt8(ascii: "x"), count: 1000)  // 1008 bytes encoded
        XCTAssertEqual((0..<5).map { _ in socket.send(text: frame) }, [true, true, true, true, false])
        XCTAssertFalse(socket.send(text: frame), "a failed socket queues nothing more")
        XCTAssertFalse(socket.send(text: []))
        XCTAssertTrue(pollUntil { delegate.snapshot.failure != nil }, "failed long before the 30 s connect timeout")
        XCTAssertEqual(delegate.snapshot.failure?.0, UpstreamWebSocket.sendQueueFullReason)
        XCTAssertNil(delegate.snapshot.failure?.1)
        XCTAssertNil(delegate.snapshot.opened)
        XCTAssertNil(delegate.snapshot.close, "failed, not closed: one terminal event")
        XCTAssertEqual(metrics.webSocket.sendQueueOverflows.value, 1)
        XCTAssertTrue(pollUntil { upstream.peerClosed }, "the socket's TCP connection is dropped")
    }

    /// The upstream completes the upgrade, then stops reading: the thread blocks writing and the queue fills
    /// behind it.
    func testAnUpstreamThatStopsReadingFailsTheSocketWhenTheQueueOverflows() throws {
        let upstream = try StalledUpstream(upgrade: true)
        defer { upstream.stop() }
        let delegate = RecordingUpstreamDelegate()
        let socket = makeSocket(port: upstream.port, delegate: delegate, maxQueuedBytes: 256 << 10)
        socket.start()
        XCTAssertTrue(pollUntil { delegate.snapshot.opened != nil })
        let frame = [UInt8](repeating: UInt8(ascii: "y"), count: 64 << 10)  // 65 550 bytes encoded
        // One frame at a time while the thread keeps taking them: loopback buffers absorb a few MiB. Once a
        // frame stays queued for 200 ms, the thread is blocked writing to the upstream that stopped reading.
        var written = 0
        while written < 1000 {
            XCTAssertTrue(socket.send(text: frame))
            guard pollUntil(timeout: 0.2, { socket.queuedByteCount == 0 }) else { break }
            written += 1
        }
        XCTAssertGreaterThan(written, 4, "the thread wrote frames before the upstream's buffers filled")
        XCTAssertLessThan(written, 1000, "65 MiB never blocked the writer")
        XCTAssertNil(delegate.snapshot.failure, "a blocked writer alone fails nothing")
        // One frame waits behind the blocked write and 256 KiB hold three: the queue overflows within a few
        // sends (the kernel may still let a trickle through, so not necessarily at the third).
        var accepted = 0
        while socket.send(text: frame), accepted < 64 { accepted += 1 }
        XCTAssertLessThan(accepted, 64, "the queue never overflowed")
        XCTAssertFalse(socket.send(text: frame), "nothing is queued after the overflow")
        XCTAssertTrue(pollUntil { delegate.snapshot.failure != nil }, "the blocked write is abandoned")
        XCTAssertEqual(delegate.snapshot.failure?.0, UpstreamWebSocket.sendQueueFullReason)
        XCTAssertNil(delegate.snapshot.close)
        XCTAssertEqual(metrics.webSocket.sendQueueOverflows.value, 1)
    }

    func testTheCounterIsPreinitialisedAndDocumented() throws {
        XCTAssertTrue(metrics.registry.render().contains("\nsightline_websocket_send_queue_overflows_total 0\n"))
    }

}

/// A one-connection upstream that stalls: it accepts, optionally answers the WebSocket upgrade with a
/// valid 101, and then never reads again (its receive buffer is 4 KiB, so the client's writes block soon).
/// Listens on a random loopback port in 20000–31999, retried on a collision. Records when the client
/// closed its end. Concurrency: `Sendable`; the flag is an `Atomic`.
final class StalledUpstream: Sendable {
    let port: UInt16
    private let listenFD: Int32
    private let closed = Atomic<Bool>(false)
    private let connection = Atomic<Int32>(-1)

    var peerClosed: Bool { closed.load(ordering: .acquiring) }

    init(upgrade: Bool) throws {
        signal(SIGPIPE, SIG_IGN)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var small: Int32 = 4096
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        guard let port = TestPorts.bindLoopback(fd), listen(fd, 1) == 0 else {
            close(fd)
            throw UpstreamTestError("no free loopback port below 32000")
        }
        listenFD = fd
        self.port = port
        let thread = Thread { [self] in serve(upgrade: upgrade) }
        thread.name = "stalled-upstream"
        thread.start()
    }

    func stop() {
        shutdown(listenFD, Int32(SHUT_RDWR))
        let fd = connection.load(ordering: .acquiring)
        if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private func serve(upgrade: Bool) {
        let fd = accept(listenFD, nil, nil)
        close(listenFD)
        guard fd >= 0 else { return }
        connection.store(fd, ordering: .releasing)
        defer { close(fd) }
        if upgrade {
            var head: [UInt8] = []
            var byte: UInt8 = 0
            while !head.suffix(4).elementsEqual([13, 10, 13, 10]), recv(fd, &byte, 1, 0) == 1 { head.append(byte) }
            let text = String(decoding: head, as: UTF8.self)
            let key =
                text.split(separator: "\r\n").first { $0.lowercased().hasPrefix("sec-websocket-key:") }
                .map { $0.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces) } ?? ""
            let response =
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: \(WebSocketHandshake.acceptValue(forKey: key))\r\n\r\n"
            _ = Array(response.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        // Never read: wait for the client to go away (poll reports POLLHUP/POLLRDHUP, or stop() shuts us).
        var fds = pollfd(fd: fd, events: 0x2000, revents: 0)  // POLLRDHUP (a _GNU_SOURCE name Glibc does not export)
        while Glibc.poll(&fds, 1, 100) == 0 || fds.revents == 0 {}
        closed.store(true, ordering: .releasing)
    }
}
