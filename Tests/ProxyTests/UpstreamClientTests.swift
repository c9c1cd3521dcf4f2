import Dispatch
import Foundation
import Glibc
import HTTPServer
import Synchronization
import XCTest

@testable import Proxy

/// `UpstreamClient` against real loopback sockets: a scripted test server (`UpstreamTestServer`) and, for TLS,
/// a Python HTTPS server with a throwaway certificate (`UpstreamTLSTestServer`). Transfers run on the client's
/// own thread here; `UpstreamClientOnEventLoopTests` runs every case again on an HTTP server's event loop.
class UpstreamClientTests: XCTestCase {
    var client: UpstreamClient!
    private var servers: [UpstreamTestServer] = []

    /// The loop transfers run on; nil: the client's own thread.
    var eventLoop: EventLoopHandle? { nil }

    @discardableResult
    func start(_ request: UpstreamRequest, _ delegate: UpstreamTestDelegate) -> UpstreamTransfer {
        client.start(request, on: eventLoop, delegate: delegate)
    }

    func perform(_ request: UpstreamRequest) async throws -> UpstreamResponse {
        try await client.perform(request, on: eventLoop)
    }

    override func setUp() {
        client = UpstreamClient()
    }

    override func tearDown() {
        client.close()
        for server in servers { server.stop() }
    }

    private func serve(_ handler: @escaping @Sendable (UpstreamTestConnection) -> Void) throws -> UpstreamTestServer {
        let server = try UpstreamTestServer(handler: handler)
        servers.append(server)
        return server
    }

    private func url(_ server: UpstreamTestServer, _ path: String = "/") -> String {
        "http://127.0.0.1:\(server.port)\(path)"
    }

    private static let chunkedHead =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"

    func testDelegateSeesFirstChunkBeforeServerSendsSecond() throws {
        let firstChunkSeen = DispatchSemaphore(value: 0)
        let serverSawSignal = Atomic<Bool>(false)
        let server = try serve { connection in
            guard connection.readRequest() != nil else { return }
            connection.write(Self.chunkedHead)
            _ = connection.writeChunk("data: one\n\n")
            // Chunk two goes out only after the delegate has observed chunk one.
            serverSawSignal.store(firstChunkSeen.wait(timeout: .now() + 3) == .success, ordering: .releasing)
            _ = connection.writeChunk("data: two\n\n")
            connection.write("0\r\n\r\n")
        }
        let delegate = UpstreamTestDelegate(onConsumed: { body in
            if body == Array("data: one\n\n".utf8) { firstChunkSeen.signal() }
        })
        start(UpstreamRequest(url: url(server)), delegate)

        let result = try XCTUnwrap(delegate.waitForCompletion())
        XCTAssertTrue(serverSawSignal.load(ordering: .acquiring), "delegate did not see chunk 1 before chunk 2")
        let completion = try result.get()
        XCTAssertEqual(completion.status, 200)
        XCTAssertEqual(completion.bytesReceived, 22)
        XCTAssertEqual(delegate.state.withLock { $0.body }, Array("data: one\n\ndata: two\n\n".utf8))
        XCTAssertGreaterThanOrEqual(delegate.state.withLock { $0.bodyCalls }, 2)
    }

    func testDeliversFinalStatusAndRepeatedHeadersOnce() throws {
        let server = try serve { connection in
            guard connection.readRequest() != nil else { return }
            connection.write(
                "HTTP/1.1 100 Continue\r\n\r\n"
                    + "HTTP/1.1 201 Created\r\nX-Multi: a\r\nContent-Length: 2\r\nx-multi: b\r\n\r\nok"
            )
        }
        let delegate = UpstreamTestDelegate()
        start(UpstreamRequest(url: url(server)), delegate)

        XCTAssertEqual(try XCTUnwrap(delegate.waitForCompletion()).get().status, 201)
        let heads = delegate.state.withLock { $0.heads }
        XCTAssertEqual(heads.count, 1)
        XCTAssertEqual(heads.first?.status, 201)
        let multi = heads.first?.headers.filter { $0.0.lowercased() == "x-multi" }.map(\.1)
        XCTAssertEqual(multi, ["a", "b"])
        XCTAssertEqual(delegate.state.withLock { $0.body }, Array("ok".utf8))
    }

    /// A POST without a body goes with none of libcurl's own headers: it added a form `Content-Type` to an empty
    /// POST until 2026-12-07.
    func testAnEmptyPostCarriesNoContentTypeOfLibcurls() async throws {
        let received = Mutex<UpstreamTestRequest?>(nil)
        let server = try serve { connection in
            guard let request = connection.readRequest() else { return }
            received.withLock { $0 = request }
            connection.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        }
        let request = UpstreamRequest(
            url: url(server, "/v1/responses/resp_1/cancel"),
            method: "POST",
            headers: [],
            body: []
        )
        let response = try await perform(request)
        XCTAssertEqual(response.status, 200)
        let seen = try XCTUnwrap(received.withLock { $0 })
        XCTAssertEqual(seen.method, "POST")
        XCTAssertNil(seen.header("content-type"))
        XCTAssertEqual(seen.header("content-length"), "0")
        XCTAssertNil(seen.header("accept"))
    }

    func testPostBodyOfOneMegabyteArrivesIntact() async throws {
        let received = Mutex<UpstreamTestRequest?>(nil)
        let server = try serve { connection in
            guard let request = connection.readRequest() else { return }
            received.withLock { $0 = request }
            connection.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        }
        let body = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        let request = UpstreamRequest(
            url: url(server, "/v1/responses"),
            method: "POST",
            headers: [("Content-Type", "application/json"), ("X-Empty", ""), ("Content-Length", "1")],
            body: body
        )
        let response = try await perform(request)

        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.completion.bytesSent, body.count)
        let seen = try XCTUnwrap(received.withLock { $0 })
        XCTAssertEqual(seen.method, "POST")
        XCTAssertEqual(seen.target, "/v1/responses")
        XCTAssertEqual(seen.body.count, body.count)
        XCTAssertTrue(seen.body == body, "request body differs")
        XCTAssertEqual(seen.header("content-type"), "application/json")
        XCTAssertEqual(seen.header("x-empty"), "")
        XCTAssertEqual(seen.header("content-length"), String(body.count))
        XCTAssertNil(seen.header("expect"))
        XCTAssertNil(seen.header("accept"))
    }

    func testBodyIsResentWhenAReusedConnectionDiesUnderTheRequest() async throws {
        // Over 64 KiB: libcurl sends the body through its upload buffer, after the head.
        try await assertResentWhenAReusedConnectionDies(bodyBytes: 200 * 1024)
    }

    func testSmallBodyIsResentWhenAReusedConnectionDiesUnderTheRequest() async throws {
        // Under 64 KiB: libcurl sends the body in one buffer with the head.
        try await assertResentWhenAReusedConnectionDies(bodyBytes: 40 * 1024)
    }

    /// The first connection answers one request, then reads the next one whole and closes without a word:
    /// libcurl retries on a fresh connection and must send the body, read in place from the caller's buffer,
    /// again from its start.
    func assertResentWhenAReusedConnectionDies(bodyBytes: Int) async throws {
        let bodies = Mutex<[[UInt8]]>([])
        let server = try serve { connection in
            var served = 0
            while let request = connection.readRequest() {
                bodies.withLock { $0.append(request.body) }
                served += 1
                if served == 2 && bodies.withLock({ $0.count }) == 2 { return }
                connection.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            }
        }
        let body = (0..<bodyBytes).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let post = UpstreamRequest(url: url(server, "/v1/responses"), method: "POST", body: body)
        _ = try await perform(post)
        let retried = try await perform(post)

        XCTAssertEqual(retried.status, 200)
        XCTAssertEqual(retried.body, Array("ok".utf8))
        XCTAssertEqual(server.accepts, 2, "the retry did not take a fresh connection")
        let seen = bodies.withLock { $0 }
        XCTAssertEqual(seen.count, 3)
        XCTAssertTrue(seen.allSatisfy { $0 == body }, "a resent body differs from the original")
    }

    func testConnectionRefusedFailsPromptlyAsConnectFailed() throws {
        // A bound but non-listening socket: connecting to its port is refused, and nobody else can take it.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        let port = try XCTUnwrap(UpstreamTestServer.bindLoopback(fd))
        let delegate = UpstreamTestDelegate()
        let started = Date()
        start(UpstreamRequest(url: "http://127.0.0.1:\(port)/"), delegate)

        let failure = try XCTUnwrap(delegate.waitForCompletion()).failure()
        XCTAssertLessThan(Date().timeIntervalSince(started), 1)
        XCTAssertEqual(failure?.reason, .connectFailed)
        XCTAssertEqual(failure?.curlCode, 7)
        XCTAssertEqual(delegate.state.withLock { $0.heads.count }, 0)
    }

    func testCancelMidStreamCompletesAsCancelledAndClosesTheConnection() throws {
        let serverSawClose = DispatchSemaphore(value: 0)
        let server = try serve { connection in
            guard connection.readRequest() != nil else { return }
            connection.write(Self.chunkedHead)
            _ = connection.writeChunk("data: one\n\n")
            if connection.waitForClose(timeoutSeconds: 3) { serverSawClose.signal() }
        }
        let firstChunk = DispatchSemaphore(value: 0)
        let delegate = UpstreamTestDelegate(onConsumed: { _ in firstChunk.signal() })
        let transfer = start(UpstreamRequest(url: url(server)), delegate)
        XCTAssertEqual(firstChunk.wait(timeout: .now() + 3), .success)

        let cancelledAt = Date()
        transfer.cancel()
        transfer.cancel()  // idempotent
        let failure = try XCTUnwrap(delegate.waitForCompletion(timeoutSeconds: 1)).failure()
        XCTAssertLessThan(Date().timeIntervalSince(cancelledAt), 1)
        XCTAssertEqual(failure?.reason, .cancelled)
        XCTAssertNil(failure?.curlCode)
        XCTAssertEqual(failure?.bytesReceived, 11)
        XCTAssertEqual(serverSawClose.wait(timeout: .now() + 2), .success, "server did not observe the close")
        XCTAssertEqual(delegate.state.withLock { $0.completions.count }, 1)
    }

    func testPauseAndResumeDeliverEveryByteInOrder() throws {
        let payload = (0..<(512 * 1024)).map { UInt8(truncatingIfNeeded: $0 % 251) }
        let transferStored = DispatchSemaphore(value: 0)
        let server = try serve { connection in
            guard connection.readRequest() != nil else { return }
            // The delegate can only pause once it holds the transfer handle it must later resume.
            guard transferStored.wait(timeout: .now() + 3) == .success else { return }
            connection.write("HTTP/1.1 200 OK\r\nContent-Length: \(payload.count)\r\n\r\n")
            var offset = 0
            while offset < payload.count {
                let end = min(offset + 7000, payload.count)
                guard connection.write(Array(payload[offset..<end])) else { return }
                offset = end
            }
        }
        // Pause every third call and resume from another thread; the withheld bytes must come back.
        let delegate = UpstreamTestDelegate(decide: { call, _, delegate in
            guard call % 3 == 0, let transfer = delegate.transfer else { return .proceed }
            DispatchQueue.global().async { transfer.resume() }
            return .pause
        })
        delegate.transfer = start(UpstreamRequest(url: url(server)), delegate)
        transferStored.signal()

        let completion = try XCTUnwrap(delegate.waitForCompletion()).get()
        XCTAssertEqual(completion.bytesReceived, payload.count)
        XCTAssertGreaterThan(delegate.state.withLock { $0.pauses }, 0)
        XCTAssertTrue(delegate.state.withLock { $0.body } == payload, "bytes lost, duplicated or reordered")
    }

    func testUpstreamDropMidBodyIsConnectionReset() throws {
        let server = try serve { connection in
            guard connection.readRequest() != nil else { return }
            connection.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        }
        let delegate = UpstreamTestDelegate()
        start(UpstreamRequest(url: url(server)), delegate)

        let failure = try XCTUnwrap(delegate.waitForCompletion()).failure()
        XCTAssertEqual(failure?.reason, .connectionReset)
        XCTAssertEqual(failure?.bytesReceived, 7)
    }

    func testCancelWhilePausedCompletesAsCancelled() throws {
        let server = try serve { connection in
            guard connection.readRequest() != nil else { return }
            connection.write(Self.chunkedHead)
            _ = connection.writeChunk("data: one\n\n")
            _ = connection.waitForClose(timeoutSeconds: 3)
        }
        let paused = DispatchSemaphore(value: 0)
        let delegate = UpstreamTestDelegate(decide: { _, _, _ in
            paused.signal()
            return .pause
        })
        let transfer = start(UpstreamRequest(url: url(server), idleTimeoutSeconds: 0.2), delegate)
        XCTAssertEqual(paused.wait(timeout: .now() + 3), .success)
        // Paused time does not count as idle: three idle periods pass without a completion.
        XCTAssertNil(delegate.waitForCompletion(timeoutSeconds: 0.6), "idle timer fired while paused")
        transfer.cancel()

        XCTAssertEqual(try XCTUnwrap(delegate.waitForCompletion(timeoutSeconds: 1)).failure()?.reason, .cancelled)
        XCTAssertEqual(delegate.state.withLock { $0.body }, [])
    }

    func testFirstByteTimeout() throws {
        let server = try serve { connection in
            guard connection.readRequest() != nil else { return }
            _ = connection.waitForClose(timeoutSeconds: 3)
        }
        let delegate = UpstreamTestDelegate()
        let started = Date()
        start(UpstreamRequest(url: url(server), firstByteTimeoutSeconds: 0.3), delegate)

        let failure = try XCTUnwrap(delegate.waitForCompletion()).failure()
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertEqual(failure?.reason, .firstByteTimeout)
        XCTAssertGreaterThanOrEqual(elapsed, 0.29)
        XCTAssertLessThan(elapsed, 2)
    }

    func testIdleTimeoutAfterFirstChunk() throws {
        let server = try serve { connection in
            guard connection.readRequest() != nil else { return }
            connection.write(Self.chunkedHead)
            _ = connection.writeChunk("data: one\n\n")
            _ = connection.waitForClose(timeoutSeconds: 3)
        }
        let delegate = UpstreamTestDelegate()
        let request = UpstreamRequest(url: url(server), firstByteTimeoutSeconds: 0.2, idleTimeoutSeconds: 0.4)
        start(request, delegate)

        let failure = try XCTUnwrap(delegate.waitForCompletion()).failure()
        XCTAssertEqual(failure?.reason, .idleTimeout)
        XCTAssertEqual(failure?.bytesReceived, 11)
        XCTAssertEqual(delegate.state.withLock { $0.heads.first?.status }, 200)
    }

    func testIdleTimeoutShorterThanTheFirstByteTimeoutFiresOnTime() throws {
        // The idle deadline (first byte + 0.3 s) comes long before the first-byte one (5 s): the client must
        // wake for it, not for the first-byte deadline it knew when the transfer started.
        let server = try serve { connection in
            guard connection.readRequest() != nil else { return }
            connection.write(Self.chunkedHead)
            _ = connection.writeChunk("data: one\n\n")
            _ = connection.waitForClose(timeoutSeconds: 6)
        }
        let delegate = UpstreamTestDelegate()
        let started = Date()
        start(UpstreamRequest(url: url(server), firstByteTimeoutSeconds: 5, idleTimeoutSeconds: 0.3), delegate)

        let failure = try XCTUnwrap(delegate.waitForCompletion(timeoutSeconds: 6)).failure()
        XCTAssertEqual(failure?.reason, .idleTimeout)
        XCTAssertLessThan(Date().timeIntervalSince(started), 2, "the idle timer fired late")
    }

    func testWaitingForTheFirstByteWithAShortIdleTimeoutDoesNotSpin() throws {
        // No byte ever comes: the first-byte timeout (1 s) ends it, and the short idle timeout (0.05 s) must
        // not turn the wait into a busy loop of timer wakeups.
        let server = try serve { connection in
            guard connection.readRequest() != nil else { return }
            _ = connection.waitForClose(timeoutSeconds: 3)
        }
        let delegate = UpstreamTestDelegate()
        let cpuBefore = Self.processCPUSeconds()
        start(UpstreamRequest(url: url(server), firstByteTimeoutSeconds: 1, idleTimeoutSeconds: 0.05), delegate)

        let failure = try XCTUnwrap(delegate.waitForCompletion(timeoutSeconds: 3)).failure()
        XCTAssertEqual(failure?.reason, .firstByteTimeout)
        XCTAssertLessThan(Self.processCPUSeconds() - cpuBefore, 0.5, "the client spun while waiting")
    }

    private static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    func testSequentialRequestsReuseOneKeepAliveConnection() async throws {
        let server = try serve { connection in
            while let request = connection.readRequest() {
                let body = "hello \(request.target)"
                connection.write("HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            }
        }
        let first = try await perform(UpstreamRequest(url: url(server, "/a")))
        let second = try await perform(UpstreamRequest(url: url(server, "/b")))

        XCTAssertEqual(first.body, Array("hello /a".utf8))
        XCTAssertEqual(second.body, Array("hello /b".utf8))
        XCTAssertFalse(first.completion.reusedConnection)
        XCTAssertTrue(second.completion.reusedConnection)
        XCTAssertEqual(server.accepts, 1)
    }

    func testCloseCompletesInFlightTransfersAsCancelled() throws {
        let server = try serve { connection in
            guard connection.readRequest() != nil else { return }
            _ = connection.waitForClose(timeoutSeconds: 3)
        }
        let delegate = UpstreamTestDelegate()
        start(UpstreamRequest(url: url(server)), delegate)
        client.close()

        XCTAssertEqual(try XCTUnwrap(delegate.waitForCompletion(timeoutSeconds: 1)).failure()?.reason, .cancelled)
        let late = UpstreamTestDelegate()
        start(UpstreamRequest(url: url(server)), late)
        XCTAssertEqual(try XCTUnwrap(late.waitForCompletion(timeoutSeconds: 0)).failure()?.reason, .cancelled)
    }

    func testTLSVerificationFailsByDefaultAndSucceedsWithCAFile() async throws {
        let tls = try UpstreamTLSTestServer()
        defer { tls.stop() }
        let request = UpstreamRequest(url: "https://127.0.0.1:\(tls.port)/")

        do {
            _ = try await perform(request)
            XCTFail("self-signed certificate was accepted without a CA file")
        } catch let failure as UpstreamFailure {
            XCTAssertEqual(failure.reason, .tlsFailed)
        }

        let trusting = UpstreamClient(configuration: UpstreamClientConfiguration(caFile: tls.certificatePath))
        defer { trusting.close() }
        let response = try await trusting.perform(request, on: eventLoop)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body, Array("tls-ok".utf8))
    }
}

extension Result {
    fileprivate func failure() -> Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
