import Dispatch
import Glibc
import HTTPServer
import SightlineTestSupport
import Synchronization
import XCTest

/// Streaming, backpressure, disconnects, timeouts and shutdown over real loopback sockets.
final class HTTPServerStreamingTests: XCTestCase {
    func testClientSeesFirstChunkBeforeTheSecondIsWritten() throws {
        let secondMayGo = DispatchSemaphore(value: 0)
        let server = try startServer { _, responder in
            responder.beginStream(status: 200, headers: ["Content-Type": "text/event-stream"])
            responder.write(Array("first".utf8))
            DispatchQueue.global().async {
                secondMayGo.wait()
                responder.write(Array("second".utf8))
                responder.end()
            }
        }
        defer { server.shutdown(drainDeadlineSeconds: 1) }
        let client = try TestClient(port: server.port)
        client.send("GET /stream HTTP/1.1\r\n\r\n")
        let head = try client.readHead()
        XCTAssertEqual(head.header("transfer-encoding"), "chunked")
        XCTAssertEqual(try client.readChunk().map { String(decoding: $0, as: UTF8.self) }, "first")
        secondMayGo.signal()
        XCTAssertEqual(try client.readChunk().map { String(decoding: $0, as: UTF8.self) }, "second")
        XCTAssertNil(try client.readChunk())
    }

    func testAFlushedWriteLeavesBeforeTheLoopRoundEnds() throws {
        // The handler runs on the loop and does not return until the client has read the first chunk:
        // only a write that is sent at once (`flush: true`) can get there; a batched one waits for the
        // round to end, which here waits for the client.
        let clientReadFirst = Atomic<Bool>(false)
        let handlerSawIt = Atomic<Bool>(false)
        let server = try startServer { _, responder in
            responder.beginStream(status: 200, headers: ["Content-Type": "text/event-stream"])
            responder.write(Array("first".utf8), flush: true)
            handlerSawIt.store(
                pollUntil(timeout: 5) { clientReadFirst.load(ordering: .acquiring) },
                ordering: .releasing
            )
            responder.write(Array("second".utf8))
            responder.end()
        }
        defer { server.shutdown(drainDeadlineSeconds: 1) }
        let client = try TestClient(port: server.port)
        client.send("GET /stream HTTP/1.1\r\n\r\n")
        _ = try client.readHead()
        XCTAssertEqual(try client.readChunk().map { String(decoding: $0, as: UTF8.self) }, "first")
        clientReadFirst.store(true, ordering: .releasing)
        XCTAssertEqual(try client.readChunk().map { String(decoding: $0, as: UTF8.self) }, "second")
        XCTAssertTrue(handlerSawIt.load(ordering: .acquiring), "the flushed chunk waited for the loop round")
    }

    func testBackpressureBoundsTheQueueAndOnWritableFires() throws {
        let highWater = 64 * 1024
        let chunk = [UInt8](repeating: 0x61, count: 16 * 1024)
        let total = 16 * 1024 * 1024  // far more than loopback socket buffers hold
        let producer = BackpressuredProducer(chunk: chunk, total: total)
        let server = try startServer(configure: {
            $0.writeHighWaterMark = highWater
            $0.writeLowWaterMark = 16 * 1024
        }) { _, responder in
            responder.beginStream(status: 200, headers: [:])
            DispatchQueue.global().async { producer.produce(responder) }
        }
        defer { server.shutdown(drainDeadlineSeconds: 1) }
        let client = try TestClient(port: server.port, receiveBufferBytes: 16 * 1024)
        client.send("GET /big HTTP/1.1\r\n\r\n")
        // The client does not read: the producer must end up paused, well short of the total.
        // Stalled = paused with no progress for 300 ms (brief pauses happen while kernel buffers still fill).
        var lastProduced = -1
        var lastChange = DispatchTime.now().uptimeNanoseconds
        let stalled = pollUntil(timeout: 10) {
            let now = DispatchTime.now().uptimeNanoseconds
            if producer.produced != lastProduced || !producer.isPaused {
                lastProduced = producer.produced
                lastChange = now
            }
            return now - lastChange > 300_000_000
        }
        XCTAssertTrue(stalled, "producer never stalled")
        XCTAssertLessThan(producer.produced, total)
        XCTAssertLessThanOrEqual(producer.maxQueued, highWater + chunk.count + 64)
        // Now the client reads everything: onWritable resumes the producer until the end.
        let response = try client.readResponse(timeout: 10)
        XCTAssertEqual(response.body.count, total)
        XCTAssertGreaterThan(producer.resumes, 0)
        XCTAssertLessThanOrEqual(producer.maxQueued, highWater + chunk.count + 64)
    }

    func testClientDisconnectMidStreamFiresOnCloseWithinOneSecond() throws {
        let closed = Atomic<UInt64>(0)
        let started = Atomic<Bool>(false)
        let server = try startServer { _, responder in
            responder.onClose { closed.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed) }
            responder.beginStream(status: 200, headers: [:])
            responder.write(Array("hello".utf8))
            started.store(true, ordering: .relaxed)
        }
        defer { server.shutdown(drainDeadlineSeconds: 1) }
        var client: TestClient? = try TestClient(port: server.port)
        client?.send("GET /s HTTP/1.1\r\n\r\n")
        _ = try client?.readHead()
        XCTAssertTrue(pollUntil { started.load(ordering: .relaxed) })
        let disconnectedAt = DispatchTime.now().uptimeNanoseconds
        client = nil
        XCTAssertTrue(pollUntil(timeout: 1) { closed.load(ordering: .relaxed) != 0 })
        XCTAssertLessThan(closed.load(ordering: .relaxed) &- disconnectedAt, 1_000_000_000)
        XCTAssertTrue(pollUntil { server.openConnections == 0 })
    }

    func testWritesAfterDisconnectAreDropped() throws {
        let responderBox = Box<HTTPResponder>()
        let server = try startServer { _, responder in
            responder.beginStream(status: 200, headers: [:])
            responderBox.set(responder)
        }
        defer { server.shutdown(drainDeadlineSeconds: 1) }
        var client: TestClient? = try TestClient(port: server.port)
        client?.send("GET / HTTP/1.1\r\n\r\n")
        _ = try client?.readHead()
        client = nil
        let responder = try XCTUnwrap(responderBox.value)
        XCTAssertTrue(pollUntil { responder.isFinished })
        XCTAssertFalse(responder.write(Array("x".utf8)))
        let ranAtOnce = Atomic<Bool>(false)
        responder.onClose { ranAtOnce.store(true, ordering: .relaxed) }
        XCTAssertTrue(ranAtOnce.load(ordering: .relaxed))
    }

    func testSlowlorisGets408WithinTheHeaderTimeout() throws {
        let observer = RecordingObserver()
        let server = try startServer(observer: observer, configure: { $0.headerReadTimeoutSeconds = 0.3 }) { _, r in
            r.respond(status: 200, headers: [:], body: [])
        }
        defer { server.shutdown(drainDeadlineSeconds: 1) }
        let client = try TestClient(port: server.port)
        let start = DispatchTime.now().uptimeNanoseconds
        client.send("GET / HTTP/1.1\r\nX-Slow: ")
        let response = try client.readResponse(timeout: 3)
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        XCTAssertEqual(response.status, 408)
        XCTAssertTrue(response.text.contains("header_timeout"))
        XCTAssertLessThan(elapsed, 1.5)
        XCTAssertTrue(client.waitForClose())
        XCTAssertEqual(observer.errors, ["header_timeout 408"])
    }

    func testIdleKeepAliveConnectionIsClosed() throws {
        let server = try startServer(configure: { $0.idleTimeoutSeconds = 0.2 }) { _, r in
            r.respond(status: 204, headers: [:], body: [])
        }
        defer { server.shutdown(drainDeadlineSeconds: 1) }
        let client = try TestClient(port: server.port)
        client.send("GET / HTTP/1.1\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 204)
        XCTAssertTrue(client.waitForClose(timeout: 2))
    }

    func testGracefulShutdownFinishesInFlightStreamAndRefusesNewConnections() throws {
        let finish = DispatchSemaphore(value: 0)
        let server = try startServer { _, responder in
            responder.beginStream(status: 200, headers: [:])
            responder.write(Array("part1".utf8))
            DispatchQueue.global().async {
                finish.wait()
                responder.write(Array("part2".utf8))
                responder.end()
            }
        }
        let port = server.port
        let idle = try TestClient(port: port)
        let client = try TestClient(port: port)
        client.send("GET / HTTP/1.1\r\n\r\n")
        _ = try client.readHead()
        XCTAssertEqual(try client.readChunk(), Array("part1".utf8))
        let shutdownDone = Atomic<Bool>(false)
        DispatchQueue.global().async {
            server.shutdown(drainDeadlineSeconds: 5)
            shutdownDone.store(true, ordering: .relaxed)
        }
        XCTAssertTrue(pollUntil { TestClient.isRefused(port: port) }, "new connections must be refused")
        XCTAssertTrue(idle.waitForClose(), "idle keep-alive connections close at once")
        XCTAssertFalse(shutdownDone.load(ordering: .relaxed))
        finish.signal()
        XCTAssertEqual(try client.readChunk(), Array("part2".utf8))
        XCTAssertNil(try client.readChunk())
        XCTAssertTrue(client.waitForClose())
        XCTAssertTrue(pollUntil { shutdownDone.load(ordering: .relaxed) })
    }

    func testShutdownDeadlineAbortsStreamsAndRunsOnClose() throws {
        let closed = Atomic<Bool>(false)
        let server = try startServer { _, responder in
            responder.onClose { closed.store(true, ordering: .relaxed) }
            responder.beginStream(status: 200, headers: [:])
        }
        let client = try TestClient(port: server.port)
        client.send("GET / HTTP/1.1\r\n\r\n")
        _ = try client.readHead()
        server.shutdown(drainDeadlineSeconds: 0.2)
        XCTAssertTrue(closed.load(ordering: .relaxed))
        XCTAssertTrue(client.waitForClose())
        server.shutdown(drainDeadlineSeconds: 0.2)  // idempotent
    }
}

/// Writes `total` bytes in `chunk`s, honouring `write`'s answer: pauses on false, resumes on `onWritable`.
final class BackpressuredProducer: Sendable {
    let chunk: [UInt8]
    let total: Int
    private let producedBytes = Atomic<Int>(0)
    private let paused = Atomic<Bool>(false)
    private let resumeCount = Atomic<Int>(0)
    private let maxQueuedBytes = Atomic<Int>(0)

    init(chunk: [UInt8], total: Int) {
        self.chunk = chunk
        self.total = total
    }

    var produced: Int { producedBytes.load(ordering: .relaxed) }
    var isPaused: Bool { paused.load(ordering: .relaxed) }
    var resumes: Int { resumeCount.load(ordering: .relaxed) }
    var maxQueued: Int { maxQueuedBytes.load(ordering: .relaxed) }

    func produce(_ responder: HTTPResponder) {
        while producedBytes.load(ordering: .relaxed) < total {
            producedBytes.add(chunk.count, ordering: .relaxed)
            let accepted = responder.write(chunk)
            maxQueuedBytes.max(responder.queuedBytes, ordering: .relaxed)
            if !accepted {
                paused.store(true, ordering: .relaxed)
                responder.onWritable {
                    self.paused.store(false, ordering: .relaxed)
                    self.resumeCount.add(1, ordering: .relaxed)
                    DispatchQueue.global().async { self.produce(responder) }
                }
                return
            }
        }
        responder.end()
    }
}
