import Foundation
import Glibc
import HTTPServer
import SightlineTestSupport
import XCTest

/// How a connection ends when the client closes its side, or stops reading, while an answer is still going out.
final class HTTPServerPeerCloseTests: XCTestCase {
    /// A client that half-closes after its request (`shutdown(SHUT_WR)`) still gets the whole answer, which was
    /// complete in the output buffer; then the connection closes. Until 2026-12-07 the answer got one write and
    /// the rest was dropped without an error: 3.5 of 4 MiB arrived.
    func testAClientThatHalfClosesAfterItsRequestGetsTheWholeAnswer() throws {
        let body = [UInt8](repeating: UInt8(ascii: "a"), count: 4 << 20)
        let server = try startServer { _, responder in responder.respond(status: 200, headers: [:], body: body) }
        defer { server.shutdown(drainDeadlineSeconds: 1) }
        let client = try TestClient(port: server.port, receiveBufferBytes: 16 * 1024)
        client.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertTrue(pollUntil { server.openConnections == 1 }, "accepted")
        XCTAssertEqual(shutdown(client.fd, Int32(SHUT_WR)), 0)
        let received = client.drain(timeout: 10)  // until EOF: the server closes once the answer is out
        XCTAssertGreaterThan(received, body.count, "head and body: \(received) bytes")
        XCTAssertLessThan(received, body.count + 1024)
        XCTAssertTrue(pollUntil { server.openConnections == 0 }, "closed once the answer was written")
    }

    /// A stream cut with `abortAfterFlush` to a client that reads nothing is closed by the idle timeout, as a
    /// finished answer is. Until 2026-12-07 it held the connection for good.
    func testACutStreamToAClientThatStopsReadingIsClosedByTheIdleTimeout() throws {
        let observer = RecordingObserver()
        let chunk = [UInt8](repeating: UInt8(ascii: "b"), count: 1 << 20)
        let server = try startServer(loops: 1, observer: observer, configure: { $0.idleTimeoutSeconds = 1 }) {
            _,
            responder in
            responder.beginStream(status: 200, headers: [:])
            // 32 MiB: more than any kernel send buffer takes (tcp_wmem's maximum is 4 MiB by default).
            for _ in 0..<32 { responder.write(chunk) }
            responder.abortAfterFlush()
        }
        defer { server.shutdown(drainDeadlineSeconds: 1) }
        let client = try TestClient(port: server.port, receiveBufferBytes: 4 * 1024)
        client.send("GET /cut HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertTrue(pollUntil { server.openConnections == 1 }, "accepted")
        XCTAssertTrue(pollUntil(timeout: 10) { server.openConnections == 0 }, "the connection is still held")
        XCTAssertEqual(observer.errors, ["idle_timeout 0"])
        withExtendedLifetime(client) {}
    }

    /// A body cut short by the client's end of stream is bad input: answered 400 `incomplete_request` (the client
    /// half-closed, so it can read it) and counted. Until 2026-12-07 the connection closed with neither.
    func testARequestCutShortByTheClientsEndIsAnsweredAndCounted() throws {
        let observer = RecordingObserver()
        let server = try startServer(loops: 1, observer: observer) { _, responder in
            responder.respond(status: 200, headers: [:], body: [])
        }
        defer { server.shutdown(drainDeadlineSeconds: 1) }
        for partial in ["POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc", "POST / HTTP/1.1\r\nContent-Le"] {
            let client = try TestClient(port: server.port)
            client.send(partial)
            XCTAssertEqual(shutdown(client.fd, Int32(SHUT_WR)), 0)
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 400, partial)
            XCTAssertTrue(response.text.contains("incomplete_request"), response.text)
            XCTAssertTrue(client.waitForClose(), partial)
        }
        XCTAssertEqual(observer.errors, ["incomplete_request 400", "incomplete_request 400"])
    }

    /// A whole request followed at once by the client's half-close is served, however many reads it takes, and
    /// line breaks after it are not a request: neither is answered `incomplete_request`.
    func testAWholeRequestThenAHalfCloseIsServed() throws {
        let observer = RecordingObserver()
        let server = try startServer(loops: 1, observer: observer) { request, responder in
            responder.respond(status: 200, headers: [:], body: Array("got \(request.body.count)".utf8))
        }
        defer { server.shutdown(drainDeadlineSeconds: 1) }
        let body = String(repeating: "z", count: 1 << 20)  // four reads of 256 KiB and more
        for trailer in ["", "\r\n"] {
            let client = try TestClient(port: server.port)
            client.send("POST / HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body + trailer)
            XCTAssertEqual(shutdown(client.fd, Int32(SHUT_WR)), 0)
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.text, "got \(body.utf8.count)")
            XCTAssertTrue(client.waitForClose())
        }
        XCTAssertEqual(observer.errors, [])
    }

    /// A POST that carries a stray `Upgrade: websocket` is an ordinary request, not a handshake.
    func testOnlyAGetAsksForAWebSocketUpgrade() {
        let headers: HTTPHeaders = ["Upgrade": "websocket", "Connection": "Upgrade"]
        XCTAssertTrue(HTTPRequest(method: "GET", target: "/v1/responses", headers: headers).isWebSocketUpgrade)
        XCTAssertFalse(HTTPRequest(method: "POST", target: "/v1/responses", headers: headers).isWebSocketUpgrade)
    }
}
