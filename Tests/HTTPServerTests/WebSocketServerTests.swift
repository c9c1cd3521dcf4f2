import Foundation
import Glibc
import HTTPServer
import SightlineTestSupport
import Synchronization
import XCTest

/// Echoes every message; `close-me` makes the server close with 4001; records what it saw.
final class EchoWebSocketHandler: WebSocketHandler {
    struct Seen {
        var connection: WebSocketConnection?
        var texts: [String] = []
        var binaries = 0
        var close: (UInt16, String)?
        var closeCalls = 0
    }
    let seen = Mutex(Seen())

    var connection: WebSocketConnection? { seen.withLock { $0.connection } }
    var close: (UInt16, String)? { seen.withLock { $0.close } }

    func didOpen(_ connection: WebSocketConnection) { seen.withLock { $0.connection = connection } }

    func didReceiveText(_ text: [UInt8]) {
        let string = String(decoding: text, as: UTF8.self)
        let connection = seen.withLock {
            $0.texts.append(string)
            return $0.connection
        }
        if string == "close-me" {
            connection?.close(code: 4001, reason: "asked")
        } else if string.hasPrefix("burst:") {
            connection?.sendTexts(string.dropFirst(6).split(separator: ",").map { Array($0.utf8) })
        } else {
            connection?.sendText(text)
        }
    }

    func didReceiveBinary(_ bytes: [UInt8]) {
        let connection = seen.withLock {
            $0.binaries += 1
            return $0.connection
        }
        connection?.sendBinary(bytes)
    }

    func didClose(code: UInt16, reason: String) {
        seen.withLock {
            $0.close = (code, reason)
            $0.closeCalls += 1
        }
    }
}

final class WebSocketServerTests: XCTestCase {
    private var server: HTTPServer?
    private let handlers = HandlerList()
    private let observer = RecordingObserver()

    override func tearDown() {
        server?.shutdown(drainDeadlineSeconds: 2)
        server = nil
    }

    private func start(
        configuration: WebSocketConfiguration = WebSocketConfiguration(maxMessageBytes: 1 << 20),
        configure: (inout HTTPServerConfiguration) -> Void = { _ in }
    ) throws -> Int {
        let handlers = self.handlers
        let s = try startServer(loops: 1, observer: observer, configure: configure) { request, responder in
            guard request.isWebSocketUpgrade else {
                responder.respond(status: 200, headers: [:], body: Array("plain".utf8))
                return
            }
            let handler = EchoWebSocketHandler()
            handlers.list.withLock { $0.append(handler) }
            responder.upgradeToWebSocket(
                request: request,
                headers: ["x-models-etag": "etag-1"],
                configuration: configuration,
                handler: handler
            )
        }
        server = s
        return s.port
    }

    private var handler: EchoWebSocketHandler? { handlers.list.withLock { $0.last } }

    func testHandshakeAndTextEcho() throws {
        let client = try WebSocketTestClient(port: try start())
        let extensions: HTTPHeaders = ["Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits"]
        XCTAssertEqual(try client.handshake(headers: extensions), 101)
        XCTAssertEqual(client.responseHeaders["x-models-etag"], "etag-1")
        XCTAssertNil(client.responseHeaders["sec-websocket-extensions"], "permessage-deflate must be declined")
        client.sendText("hello ✓")
        XCTAssertEqual(try client.next(), .event(.text(Array("hello ✓".utf8))))
        client.send(.binary, [0, 1, 2, 255])
        XCTAssertEqual(try client.next(), .event(.binary([0, 1, 2, 255])))
    }

    func testSendTextsDeliversEveryMessageInOrderAsItsOwnFrame() throws {
        let client = try WebSocketTestClient(port: try start())
        XCTAssertEqual(try client.handshake(), 101)
        let long = String(repeating: "x", count: 70_000)  // a 64-bit length among short ones
        client.sendText("burst:one,two ✓,\(long),three")
        XCTAssertEqual(try client.next(), .event(.text(Array("one".utf8))))
        XCTAssertEqual(try client.next(), .event(.text(Array("two ✓".utf8))))
        XCTAssertEqual(try client.next(), .event(.text(Array(long.utf8))))
        XCTAssertEqual(try client.next(), .event(.text(Array("three".utf8))))
        client.sendText("after")
        XCTAssertEqual(try client.next(), .event(.text(Array("after".utf8))))
    }

    func testFragmentsWithPingBetweenThem() throws {
        let client = try WebSocketTestClient(port: try start())
        try client.handshake()
        client.send(.text, Array("frag".utf8), fin: false)
        client.send(.ping, Array("p1".utf8))
        client.send(.continuation, Array("ment".utf8))
        XCTAssertEqual(try client.next(), .event(.pong(Array("p1".utf8))))
        XCTAssertEqual(try client.next(), .event(.text(Array("fragment".utf8))))
    }

    /// A client that floods pings and never reads the pongs: once the pongs queued for it pass `writeHighWaterMark`
    /// the server stops reading its frames, so the flood stops at the sockets' buffers instead of growing the
    /// server's memory; read again, the pongs drain and the server reads on. (Documented in docs/reliability.md
    /// since the backlog fix; until 2026-12-07 only pipelined HTTP requests had a test.)
    func testAPingFloodStopsBeingReadWhileItsPongsPileUp() throws {
        let client = try WebSocketTestClient(port: try start())
        XCTAssertEqual(try client.handshake(), 101)
        var small: Int32 = 16 * 1024
        setsockopt(client.fd, SOL_SOCKET, SO_SNDBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(client.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        _ = fcntl(client.fd, F_SETFL, fcntl(client.fd, F_GETFL) | O_NONBLOCK)
        let ping = WebSocketFrameEncoder.client(.ping, [UInt8](repeating: 0x70, count: 125))
        var flood: [UInt8] = []
        flood.reserveCapacity(24 << 20)
        while flood.count + ping.count <= 24 << 20 { flood.append(contentsOf: ping) }
        var written = 0
        /// Writes what the socket takes until `timeout` passes with nothing taken; returns the bytes taken.
        func push(timeout: Double) -> Int {
            var taken = 0
            var lastProgress = Date()
            while written < flood.count, Date().timeIntervalSince(lastProgress) < timeout {
                let n = flood.withUnsafeBytes {
                    Glibc.send(client.fd, $0.baseAddress! + written, $0.count - written, Int32(MSG_NOSIGNAL))
                }
                if n > 0 {
                    written += n
                    taken += n
                    lastProgress = Date()
                } else {
                    var p = pollfd(fd: client.fd, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&p, 1, 50)
                }
            }
            return taken
        }
        // Bounded wait for what must not happen: the whole flood taken while the client reads nothing.
        _ = push(timeout: 1)
        XCTAssertLessThan(written, flood.count, "the server kept reading pings whose pongs nobody read")
        // Polled: a loop starved on a busy machine also stops taking bytes for a while, before it paused.
        XCTAssertTrue(pollUntil(timeout: 10) { !self.observer.pauses.isEmpty }, "the pause is reported")
        XCTAssertEqual(observer.pauses, ["websocket"], "one pause, reported as the WebSocket's")
        // Reading the pongs lets the server read on: read until nothing more comes for half a second.
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var drained = 0
        var lastRead = Date()
        while Date().timeIntervalSince(lastRead) < 0.5 {
            let n = buffer.withUnsafeMutableBytes { Glibc.recv(client.fd, $0.baseAddress!, $0.count, 0) }
            if n > 0 {
                drained += n
                lastRead = Date()
            } else {
                var p = pollfd(fd: client.fd, events: Int16(POLLIN), revents: 0)
                _ = poll(&p, 1, 50)
            }
        }
        XCTAssertGreaterThan(drained, 256 * 1024, "the pongs came once read")
        XCTAssertGreaterThan(push(timeout: 1), 0, "and the server read more pings")
    }

    func testClientCloseIsEchoedThenTCPCloses() throws {
        let client = try WebSocketTestClient(port: try start())
        try client.handshake()
        client.send(.close, WebSocketFrameEncoder.closePayload(code: 4005, reason: "done"))
        XCTAssertEqual(try client.next(), .event(.close(code: 4005, reason: "")))
        XCTAssertTrue(try client.waitForEOF())
        XCTAssertTrue(pollUntil { self.handler?.close?.0 == 4005 })
        XCTAssertEqual(handler?.close?.1, "done")
    }

    func testEmptyCloseIsEchoedEmpty() throws {
        let client = try WebSocketTestClient(port: try start())
        try client.handshake()
        client.send(.close, [])
        XCTAssertEqual(try client.next(), .event(.close(code: nil, reason: "")))
        XCTAssertTrue(pollUntil { self.handler?.close?.0 == 1005 })
    }

    private func assertFailure(
        _ bytes: [UInt8],
        code: UInt16,
        reason: String,
        file: StaticString = #filePath,
        line: UInt = #line
    )
        throws
    {
        let client = try WebSocketTestClient(
            port: try start(configuration: WebSocketConfiguration(maxMessageBytes: 1000))
        )
        try client.handshake()
        client.sendRaw(bytes)
        XCTAssertEqual(try client.next(), .event(.close(code: code, reason: reason)), file: file, line: line)
        XCTAssertTrue(try client.waitForEOF(), file: file, line: line)
        XCTAssertTrue(pollUntil { self.handler?.close?.0 == code }, file: file, line: line)
    }

    func testUnmaskedClientFrameCloses1002() throws {
        try assertFailure([0x81, 0x02, 0x68, 0x69], code: 1002, reason: "unmasked_client_frame")
    }

    func testOversizeMessageCloses1009() throws {
        try assertFailure(
            WebSocketFrameEncoder.client(.text, [UInt8](repeating: 0x61, count: 1001)),
            code: 1009,
            reason: "frame_too_big"
        )
    }

    func testBadUTF8Closes1007() throws {
        try assertFailure(WebSocketFrameEncoder.client(.text, [0x68, 0xFF]), code: 1007, reason: "invalid_utf8")
    }

    func testInvalidCloseCodeCloses1002() throws {
        try assertFailure(WebSocketFrameEncoder.client(.close, [0x03, 0xEE]), code: 1002, reason: "invalid_close_code")
    }

    func testServerInitiatedClose() throws {
        let client = try WebSocketTestClient(port: try start())
        try client.handshake()
        client.sendText("close-me")
        XCTAssertEqual(try client.next(), .event(.close(code: 4001, reason: "asked")))
        XCTAssertTrue(pollUntil { self.handler?.close?.0 == 4001 })
        XCTAssertEqual(handler?.connection?.sendText("late"), false, "sends after close are refused")
        client.send(.close, WebSocketFrameEncoder.closePayload(code: 4001, reason: ""))
        XCTAssertTrue(try client.waitForEOF())
        XCTAssertEqual(handler?.seen.withLock { $0.closeCalls }, 1)
    }

    func testServerCloseWithoutReplyDropsTCPAfterTimeout() throws {
        var configuration = WebSocketConfiguration(maxMessageBytes: 1000)
        configuration.closeTimeoutSeconds = 0.2
        let client = try WebSocketTestClient(port: try start(configuration: configuration))
        try client.handshake()
        client.sendText("close-me")
        XCTAssertEqual(try client.next(), .event(.close(code: 4001, reason: "asked")))
        XCTAssertTrue(try client.waitForEOF(timeout: 3))
    }

    func testIdleTimeoutClosesWith1001() throws {
        let client = try WebSocketTestClient(
            port: try start(configuration: WebSocketConfiguration(maxMessageBytes: 1000, idleTimeoutSeconds: 0.3))
        )
        try client.handshake()
        XCTAssertEqual(try client.next(timeout: 3), .event(.close(code: 1001, reason: "idle timeout")))
    }

    func testAbruptDisconnectReports1006() throws {
        var client: WebSocketTestClient? = try WebSocketTestClient(port: try start())
        try client?.handshake()
        XCTAssertTrue(pollUntil { self.handler?.connection != nil })
        client = nil
        XCTAssertTrue(pollUntil { self.handler?.close?.0 == 1006 })
    }

    func testBadHandshakeIsRefused() throws {
        let port = try start()
        let client = TestClientWrapper(try TestClient(port: port))
        client.raw.send(
            "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        )
        let head = try client.raw.readHead()
        XCTAssertEqual(head.status, 426)
        XCTAssertEqual(head.header("sec-websocket-version"), "13")
    }

    func testFramesSentRightAfterTheRequestAreNotLost() throws {
        let client = try WebSocketTestClient(port: try start())
        let key = WebSocketHandshake.makeKey()
        client.sendRaw(
            WebSocketHandshake.requestHead(host: "h", path: "/ws", key: key, headers: [:])
                + WebSocketFrameEncoder.client(.text, Array("early".utf8))
        )
        XCTAssertTrue(pollUntil { self.handler?.seen.withLock { $0.texts } == ["early"] })
    }

    func testBackpressureReportsFullBufferAndOnWritableFires() throws {
        let port = try start { $0.writeHighWaterMark = 64 * 1024 }
        let client = try WebSocketTestClient(port: port)
        try client.handshake()
        XCTAssertTrue(pollUntil { self.handler?.connection != nil })
        let connection = try XCTUnwrap(handler?.connection)
        // The client does not read: the socket buffers fill and send eventually reports a full queue.
        var accepted = 0
        let chunk = [UInt8](repeating: 0x61, count: 32 * 1024)
        while connection.sendText(chunk) && accepted < 10_000 { accepted += 1 }
        XCTAssertLessThan(accepted, 10_000, "sendText must report backpressure")
        let writable = Box<Bool>()
        connection.onWritable { writable.set(true) }
        // Reading everything lets the queue drain below the low-water mark.
        var received = 0
        while received < accepted + 1, case .event(.text(let t)) = try client.next() {
            XCTAssertEqual(t.count, chunk.count)
            received += 1
        }
        XCTAssertEqual(received, accepted + 1)
        XCTAssertTrue(pollUntil { writable.value == true })
    }
}

/// The handlers a test server created, newest last.
final class HandlerList: Sendable {
    let list = Mutex<[EchoWebSocketHandler]>([])
}

/// Gives tests a name for the plain HTTP client next to the WebSocket one.
struct TestClientWrapper {
    let raw: TestClient
    init(_ raw: TestClient) { self.raw = raw }
}

/// An independent peer: Python's `websockets` library (Debian `python3-websockets`) against our server.
final class WebSocketPythonPeerTests: XCTestCase {
    static let script = """
        import asyncio, json, sys, websockets
        async def main(port):
            out = {}
            async with websockets.connect(f"ws://127.0.0.1:{port}/ws", compression="deflate") as ws:
                await ws.send("hello ✓")
                out["text"] = await ws.recv()
                await ws.send(bytes([0, 1, 254]))
                out["binary"] = list(await ws.recv())
                big = "x" * 70000
                await ws.send(big)
                out["big"] = len(await ws.recv())
                pong = await ws.ping(b"p")
                await asyncio.wait_for(pong, 5)
                out["pong"] = True
                await ws.close(code=4002, reason="bye")
                out["close_code"] = ws.close_code
            print(json.dumps(out))
        asyncio.run(asyncio.wait_for(main(int(sys.argv[1])), 10))
        """

    func testEchoWithPythonWebsockets() throws {
        let python = "/usr/bin/python3"
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: python)
        probe.arguments = ["-c", "import websockets"]
        try probe.run()
        probe.waitUntilExit()
        try XCTSkipIf(probe.terminationStatus != 0, "python3-websockets is not installed")

        let handler = HandlerList()
        let server = try startServer(loops: 1) { request, responder in
            let echo = EchoWebSocketHandler()
            handler.list.withLock { $0.append(echo) }
            responder.upgradeToWebSocket(request: request, handler: echo)
        }
        defer { server.shutdown(drainDeadlineSeconds: 2) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", Self.script, String(server.port)]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        let result = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(result["text"] as? String, "hello ✓")
        XCTAssertEqual(result["binary"] as? [Int], [0, 1, 254])
        XCTAssertEqual(result["big"] as? Int, 70000)
        XCTAssertEqual(result["pong"] as? Bool, true)
        XCTAssertEqual(result["close_code"] as? Int, 4002)
        XCTAssertTrue(pollUntil { handler.list.withLock { $0.last?.close?.0 } == 4002 })
    }
}
