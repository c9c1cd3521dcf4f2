import Foundation
import HTTPServer
import Proxy
import SightlineTestSupport
import XCTest

/// How `UpstreamWebSocket` reads the upstream's answer to its upgrade when that answer is not the simulator's:
/// scripted byte for byte by an `UpstreamTestServer`.
final class UpstreamWebSocketHandshakeTests: XCTestCase {
    let headers: HTTPHeaders = ["Authorization": "Bearer sim-access-FAKE"]

    func url(_ server: UpstreamTestServer) -> URL {
        URL(string: "http://127.0.0.1:\(server.port)/backend-api/codex/responses")!
    }

    /// A refusal followed at once by the end of the connection keeps its status and body: the read that
    /// delivers the answer usually sees the EOF too, and the answer used to be lost as `handshake_no_response`
    /// (a 426 then never fell back to HTTP, a 429 lost its reset). Several rounds, since whether the answer and
    /// the EOF arrive in one read depends on timing.
    func testARefusalThatClosesTheConnectionKeepsItsStatusAndBody() throws {
        let cases: [(answer: String, status: Int, body: String)] = [
            ("HTTP/1.1 426 Upgrade Required\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}", 426, "{}"),
            // No length: the body runs to the end of the connection.
            (
                "HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\n\r\n{\"error\":{\"resets_in_seconds\":60}}",
                429, "{\"error\":{\"resets_in_seconds\":60}}"
            ),
        ]
        for (answer, status, body) in cases {
            let server = try UpstreamTestServer { connection in
                guard connection.readRequest() != nil else { return }
                connection.write(answer)
            }
            defer { server.stop() }
            for round in 0..<5 {
                let delegate = RecordingUpstreamDelegate()
                UpstreamWebSocket(url: url(server), headers: headers, delegate: delegate).start()
                XCTAssertTrue(pollUntil { delegate.snapshot.failure != nil }, "status \(status), round \(round)")
                XCTAssertEqual(delegate.snapshot.failure?.0, "websocket_status", "status \(status), round \(round)")
                XCTAssertEqual(delegate.snapshot.failure?.1, status, "round \(round)")
                XCTAssertEqual(delegate.snapshot.refusal.map { String(decoding: $0.body, as: UTF8.self) }, body)
            }
        }
    }

    /// An upstream that starts a 101 and never ends its headers: the socket fails as soon as the head passes
    /// 64 KiB, not at the connect timeout (15 s) with everything received so far buffered and searched again
    /// on every read.
    func testAHeadThatNeverEndsFailsAtTheHeadLimit() throws {
        let server = try UpstreamTestServer { connection in
            guard connection.readRequest() != nil, connection.write("HTTP/1.1 101 Switching Protocols\r\n") else {
                return
            }
            let lines = String(repeating: "X: y\r\n", count: 1000)
            var sent = 0
            // Until the client goes (the write fails), at most 64 MiB.
            while sent < 64 << 20, connection.write(lines) { sent += lines.utf8.count }
        }
        defer { server.stop() }
        let delegate = RecordingUpstreamDelegate()
        UpstreamWebSocket(url: url(server), headers: headers, delegate: delegate).start()
        XCTAssertTrue(pollUntil { delegate.snapshot.failure != nil }, "still reading the head")
        XCTAssertEqual(delegate.snapshot.failure?.0, "handshake_too_large")
        XCTAssertNil(delegate.snapshot.failure?.1, "no status: nothing was answered")
        XCTAssertNil(delegate.snapshot.opened)
    }
}
