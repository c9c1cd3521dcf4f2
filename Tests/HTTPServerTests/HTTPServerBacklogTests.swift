import Foundation
import Glibc
import HTTPServer
import SightlineTestSupport
import Synchronization
import XCTest

/// Output a client has not read yet: it bounds how much more the server parses, it does not start the idle clock,
/// and shutdown lets it go out. Each case was a way for one client to cost memory or lose an answer.
final class HTTPServerBacklogTests: XCTestCase {
    /// A client that pipelines requests and never reads: once their answers pass the write high-water mark the
    /// server parses no more (they grew its memory without bound: 1.2 GB in 10 s of `/metrics`), and it answers
    /// the rest as the client reads.
    func testPipelinedRequestsWaitWhileTheirAnswersPileUp() throws {
        let handled = Atomic<Int>(0)
        let observer = RecordingObserver()
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 64 * 1024)
        let server = try startServer(observer: observer) { _, r in
            handled.add(1, ordering: .relaxed)
            r.respond(status: 200, headers: [:], body: body)
        }
        defer { server.shutdown(drainDeadlineSeconds: 1) }
        let client = try TestClient(port: server.port, receiveBufferBytes: 8192)
        let count = 200
        client.send(String(repeating: "GET /x HTTP/1.1\r\nHost: t\r\n\r\n", count: count))
        // Bounded wait for what must not happen: every request answered while the client reads nothing.
        XCTAssertFalse(pollUntil(timeout: 2) { handled.load(ordering: .relaxed) == count })
        XCTAssertLessThan(handled.load(ordering: .relaxed), count / 2)
        XCTAssertTrue(pollUntil(timeout: 10) { !observer.pauses.isEmpty }, "the pause is reported")
        XCTAssertEqual(observer.pauses.first, "http")
        for i in 0..<count {
            let response = try client.readResponse(timeout: 10)
            XCTAssertEqual(response.body.count, body.count, "response \(i)")
        }
        XCTAssertEqual(handled.load(ordering: .relaxed), count)
    }

    /// An answer sent with `Connection: close` to a client that never reads it: the connection is given up after
    /// the idle timeout, which its writes renew. It had no deadline at all, and held its buffered answer (and
    /// shutdown) for as long as the client stayed. Nothing is answered, so it is reported with status 0.
    func testAnUnreadAnswerBeforeCloseIsGivenUp() throws {
        let observer = RecordingObserver()
        let body = [UInt8](repeating: UInt8(ascii: "y"), count: 4 << 20)
        let server = try startServer(observer: observer, configure: { $0.idleTimeoutSeconds = 0.5 }) { _, r in
            r.respond(status: 200, headers: [:], body: body)
        }
        defer { server.shutdown(drainDeadlineSeconds: 1) }
        let client = try TestClient(port: server.port, receiveBufferBytes: 8192)
        client.send("GET /big HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        XCTAssertTrue(pollUntil(timeout: 5) { observer.errors == ["idle_timeout 0"] }, "\(observer.errors)")
    }

    /// Part of a second request's head arrives with the first: it is timed by the header timeout (a 408), not
    /// by the longer keep-alive idle timeout, which let a slowloris hold the connection for it.
    func testAPartialHeadAfterAPipelinedRequestMeetsTheHeaderTimeout() throws {
        let server = try startServer(configure: {
            $0.headerReadTimeoutSeconds = 0.3
            $0.idleTimeoutSeconds = 30
        }) { _, r in r.respond(status: 204, headers: [:], body: []) }
        defer { server.shutdown(drainDeadlineSeconds: 1) }
        let client = try TestClient(port: server.port)
        client.send("GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nX-Slow: ")
        XCTAssertEqual(try client.readResponse().status, 204)
        XCTAssertEqual(try client.readResponse(timeout: 5).status, 408)
    }

    /// Shutdown with an answer finished but not yet sent: it goes out before the connection closes. It was cut off.
    func testShutdownLetsAQueuedAnswerGoOut() throws {
        let body = [UInt8](repeating: UInt8(ascii: "z"), count: 4 << 20)
        let answered = Atomic<Bool>(false)
        let server = try startServer { _, r in
            r.respond(status: 200, headers: [:], body: body)
            answered.store(true, ordering: .relaxed)
        }
        let client = try TestClient(port: server.port, receiveBufferBytes: 65536)
        client.send("GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertTrue(pollUntil { answered.load(ordering: .relaxed) })
        let done = Atomic<Bool>(false)
        DispatchQueue.global().async {
            server.shutdown(drainDeadlineSeconds: 10)
            done.store(true, ordering: .relaxed)
        }
        let response = try client.readResponse(timeout: 10)
        XCTAssertEqual(response.body.count, body.count)
        XCTAssertTrue(pollUntil(timeout: 10) { done.load(ordering: .relaxed) })
    }
}
