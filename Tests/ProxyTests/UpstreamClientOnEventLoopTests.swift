import Dispatch
import Foundation
import HTTPServer
import SightlineTestSupport
import Synchronization
import XCTest

@testable import Proxy

/// Every `UpstreamClientTests` case again, with the transfers on an HTTP server's event loop
/// (`CurlLoopDriver`, the path proxied requests take), plus what only that path has: callbacks on the loop
/// thread, and transfers completed when the loop stops.
final class UpstreamClientOnEventLoopTests: UpstreamClientTests {
    private var server: HTTPServer!
    private var loop: EventLoopHandle!

    override var eventLoop: EventLoopHandle? { loop }

    override func setUpWithError() throws {
        try super.setUpWithError()
        server = try TestPorts.withFreePort { port in
            var configuration = HTTPServerConfiguration()
            configuration.port = port
            configuration.eventLoops = 1
            let server = HTTPServer(configuration: configuration, handler: NoContentHandler())
            try server.start()
            return server
        }
        loop = try XCTUnwrap(server.eventLoops.first)
    }

    override func tearDown() {
        super.tearDown()
        server.shutdown(drainDeadlineSeconds: 1)
    }

    // The inherited cases, declared so that test discovery lists them for this class too.
    override func testDelegateSeesFirstChunkBeforeServerSendsSecond() throws {
        try super.testDelegateSeesFirstChunkBeforeServerSendsSecond()
    }
    override func testDeliversFinalStatusAndRepeatedHeadersOnce() throws {
        try super.testDeliversFinalStatusAndRepeatedHeadersOnce()
    }
    override func testPostBodyOfOneMegabyteArrivesIntact() async throws {
        try await super.testPostBodyOfOneMegabyteArrivesIntact()
    }
    override func testBodyIsResentWhenAReusedConnectionDiesUnderTheRequest() async throws {
        try await super.testBodyIsResentWhenAReusedConnectionDiesUnderTheRequest()
    }
    override func testSmallBodyIsResentWhenAReusedConnectionDiesUnderTheRequest() async throws {
        try await super.testSmallBodyIsResentWhenAReusedConnectionDiesUnderTheRequest()
    }
    override func testConnectionRefusedFailsPromptlyAsConnectFailed() throws {
        try super.testConnectionRefusedFailsPromptlyAsConnectFailed()
    }
    override func testCancelMidStreamCompletesAsCancelledAndClosesTheConnection() throws {
        try super.testCancelMidStreamCompletesAsCancelledAndClosesTheConnection()
    }
    override func testPauseAndResumeDeliverEveryByteInOrder() throws {
        try super.testPauseAndResumeDeliverEveryByteInOrder()
    }
    override func testUpstreamDropMidBodyIsConnectionReset() throws {
        try super.testUpstreamDropMidBodyIsConnectionReset()
    }
    override func testCancelWhilePausedCompletesAsCancelled() throws {
        try super.testCancelWhilePausedCompletesAsCancelled()
    }
    override func testFirstByteTimeout() throws { try super.testFirstByteTimeout() }
    override func testIdleTimeoutAfterFirstChunk() throws { try super.testIdleTimeoutAfterFirstChunk() }
    override func testIdleTimeoutShorterThanTheFirstByteTimeoutFiresOnTime() throws {
        try super.testIdleTimeoutShorterThanTheFirstByteTimeoutFiresOnTime()
    }
    override func testWaitingForTheFirstByteWithAShortIdleTimeoutDoesNotSpin() throws {
        try super.testWaitingForTheFirstByteWithAShortIdleTimeoutDoesNotSpin()
    }
    override func testSequentialRequestsReuseOneKeepAliveConnection() async throws {
        try await super.testSequentialRequestsReuseOneKeepAliveConnection()
    }
    override func testCloseCompletesInFlightTransfersAsCancelled() throws {
        try super.testCloseCompletesInFlightTransfersAsCancelled()
    }
    override func testTLSVerificationFailsByDefaultAndSucceedsWithCAFile() async throws {
        try await super.testTLSVerificationFailsByDefaultAndSucceedsWithCAFile()
    }

    func testEveryCallbackRunsOnTheLoopThread() throws {
        let upstream = try UpstreamTestServer { connection in
            guard connection.readRequest() != nil else { return }
            connection.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            for i in 0..<20 { _ = connection.writeChunk("data: \(i)\n\n") }
            connection.write("0\r\n\r\n")
        }
        defer { upstream.stop() }
        let delegate = ThreadCheckingDelegate(loop: loop)
        client.start(UpstreamRequest(url: "http://127.0.0.1:\(upstream.port)/"), on: loop, delegate: delegate)

        XCTAssertEqual(delegate.done.wait(timeout: .now() + 5), .success)
        let seen = delegate.seen.withLock { $0 }
        XCTAssertEqual(seen.completions, 1)
        XCTAssertGreaterThan(seen.calls, 2)
        XCTAssertEqual(seen.offLoop, 0, "a delegate callback ran off the loop thread")
    }

    func testStoppingTheLoopCompletesItsTransfersAsCancelled() throws {
        let upstream = try UpstreamTestServer { connection in
            guard connection.readRequest() != nil else { return }
            _ = connection.waitForClose(timeoutSeconds: 5)
        }
        defer { upstream.stop() }
        let delegate = UpstreamTestDelegate()
        let transfer = start(UpstreamRequest(url: "http://127.0.0.1:\(upstream.port)/"), delegate)
        XCTAssertTrue(
            pollUntil { upstream.accepts == 1 },
            "the transfer never reached the upstream"
        )

        server.shutdown(drainDeadlineSeconds: 1)
        let failure = try XCTUnwrap(delegate.waitForCompletion(timeoutSeconds: 1))
        if case .failure(let f) = failure { XCTAssertEqual(f.reason, .cancelled) } else { XCTFail("not cancelled") }
        // Commands for a stopped loop are dropped, and a new transfer there is cancelled at once.
        transfer.cancel()
        let late = UpstreamTestDelegate()
        start(UpstreamRequest(url: "http://127.0.0.1:\(upstream.port)/"), late)
        XCTAssertNotNil(late.waitForCompletion(timeoutSeconds: 0))
        XCTAssertEqual(delegate.state.withLock { $0.completions.count }, 1)
    }
}

/// Answers every request with 204: the server is here for its event loop, not its requests.
private struct NoContentHandler: HTTPHandler {
    func handle(_ request: HTTPRequest, responder: HTTPResponder) {
        responder.respond(status: 204, headers: HTTPHeaders(), body: [])
    }
}

/// Counts the callbacks that ran off its loop's thread.
private final class ThreadCheckingDelegate: UpstreamDelegate {
    struct Seen {
        var calls = 0
        var offLoop = 0
        var completions = 0
    }

    let loop: EventLoopHandle
    let seen = Mutex(Seen())
    let done = DispatchSemaphore(value: 0)

    init(loop: EventLoopHandle) { self.loop = loop }

    private func note() {
        let onLoop = loop.isCurrent
        seen.withLock { s in
            s.calls += 1
            if !onLoop { s.offLoop += 1 }
        }
    }

    func upstreamDidReceiveHead(status: Int, headers: [(String, String)]) { note() }

    func upstreamDidReceive(_ bytes: UnsafeRawBufferPointer) -> UpstreamFlow {
        note()
        return .proceed
    }

    func upstreamDidComplete(_ result: Result<UpstreamCompletion, UpstreamFailure>) {
        note()
        seen.withLock { $0.completions += 1 }
        done.signal()
    }
}
