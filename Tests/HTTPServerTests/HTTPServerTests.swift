import Dispatch
import Glibc
import HTTPServer
import SightlineTestSupport
import Synchronization
import XCTest

/// The server over real loopback sockets: framing, keep-alive, pipelining, limits.
final class HTTPServerTests: XCTestCase {
    private func echoServer(
        observer: any HTTPServerObserver = NoHTTPServerObserver(),
        configure: (inout HTTPServerConfiguration) -> Void = { _ in }
    ) throws -> HTTPServer {
        let server = try startServer(observer: observer, configure: configure) { request, responder in
            let text =
                "\(request.method) \(request.target) \(request.body.count):"
                + String(decoding: request.body, as: UTF8.self)
            responder.respond(status: 200, headers: ["Content-Type": "text/plain"], body: Array(text.utf8))
        }
        addTeardownBlock { server.shutdown(drainDeadlineSeconds: 1) }
        return server
    }

    func testKeepAliveServesTwoRequestsOnOneConnection() throws {
        let server = try echoServer()
        let client = try TestClient(port: server.port)
        client.send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n")
        let first = try client.readResponse()
        client.send("GET /two HTTP/1.1\r\nHost: x\r\n\r\n")
        let second = try client.readResponse()
        XCTAssertEqual(first.text, "GET /one 0:")
        XCTAssertEqual(first.header("content-length"), "11")
        XCTAssertNil(first.header("connection"))
        XCTAssertEqual(second.text, "GET /two 0:")
        XCTAssertEqual(server.openConnections, 1)
    }

    func testPipelinedRequestsAreAnsweredInOrder() throws {
        let server = try echoServer()
        let client = try TestClient(port: server.port)
        client.send(
            "GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyzGET /c HTTP/1.1\r\nConnection: close\r\n\r\n"
        )
        XCTAssertEqual(try client.readResponse().text, "GET /a 0:")
        XCTAssertEqual(try client.readResponse().text, "POST /b 3:xyz")
        let last = try client.readResponse()
        XCTAssertEqual(last.text, "GET /c 0:")
        XCTAssertEqual(last.header("connection"), "close")
        XCTAssertTrue(client.waitForClose())
    }

    func testPipelinedRequestWaitsForTheStreamBeforeIt() throws {
        let release = DispatchSemaphore(value: 0)
        let server = try startServer { request, responder in
            if request.path == "/slow" {
                responder.beginStream(status: 200, headers: [:])
                DispatchQueue.global().async {
                    release.wait()
                    responder.write(Array("late".utf8))
                    responder.end()
                }
            } else {
                responder.respond(status: 200, headers: [:], body: Array("fast".utf8))
            }
        }
        defer { server.shutdown(drainDeadlineSeconds: 1) }
        let client = try TestClient(port: server.port)
        client.send("GET /slow HTTP/1.1\r\n\r\nGET /fast HTTP/1.1\r\n\r\n")
        XCTAssertEqual(try client.readHead().status, 200)
        release.signal()
        var body: [UInt8] = []
        while let chunk = try client.readChunk() { body += chunk }
        XCTAssertEqual(String(decoding: body, as: UTF8.self), "late")
        XCTAssertEqual(try client.readResponse().text, "fast")
    }

    func testChunkedRequestBody() throws {
        let server = try echoServer()
        let client = try TestClient(port: server.port)
        client.send("POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n")
        client.send("5;x=y\r\npedia\r\n0\r\nTrailer: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().text, "POST /c 9:Wikipedia")
    }

    func testExpectContinueSends100ThenTheResponse() throws {
        let server = try echoServer()
        let client = try TestClient(port: server.port)
        client.send("POST /e HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        let interim = try client.readResponse()
        XCTAssertEqual(interim.status, 100)
        client.send("body")
        let final = try client.readResponse()
        XCTAssertEqual(final.status, 200)
        XCTAssertEqual(final.text, "POST /e 4:body")
    }

    func testOversizedContentLengthWithExpectIs413WithoutReadingTheBody() throws {
        let observer = RecordingObserver()
        let server = try echoServer(observer: observer) { $0.maxBodyBytes = 100 }
        let client = try TestClient(port: server.port)
        client.send("POST /e HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 101\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 413)
        XCTAssertEqual(response.header("connection"), "close")
        XCTAssertEqual(response.header("content-type"), "application/json")
        XCTAssertTrue(response.text.contains(#""code":"body_too_large""#), response.text)
        XCTAssertTrue(client.waitForClose())
        XCTAssertEqual(observer.errors, ["body_too_large 413"])
    }

    func testOversizedHeadersAre431() throws {
        let observer = RecordingObserver()
        let server = try echoServer(observer: observer) { $0.maxHeaderBytes = 1024 }
        let client = try TestClient(port: server.port)
        client.send("GET / HTTP/1.1\r\nX-Big: \(String(repeating: "a", count: 2000))\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 431)
        XCTAssertTrue(response.text.contains(#""type":"invalid_request_error""#))
        XCTAssertTrue(client.waitForClose())
        XCTAssertEqual(observer.errors, ["header_too_large 431"])
    }

    func testMalformedRequestIs400InTheOpenAIShape() throws {
        let server = try echoServer()
        let client = try TestClient(port: server.port)
        client.send("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 400)
        XCTAssertTrue(response.text.hasPrefix(#"{"error":{"message":"#))
        XCTAssertTrue(response.text.hasSuffix(#""param":null,"code":"malformed_request"}}"#))
    }

    func testHTTP10ResponseIsCloseDelimitedWhenStreamed() throws {
        let server = try startServer { _, responder in
            responder.beginStream(status: 200, headers: ["Content-Type": "text/event-stream"])
            responder.write(Array("data: 1\n\n".utf8))
            responder.write(Array("data: 2\n\n".utf8))
            responder.end()
        }
        defer { server.shutdown(drainDeadlineSeconds: 1) }
        let client = try TestClient(port: server.port)
        client.send("GET /s HTTP/1.0\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertNil(response.header("transfer-encoding"))
        XCTAssertNil(response.header("content-length"))
        XCTAssertEqual(response.header("connection"), "close")
        XCTAssertEqual(response.text, "data: 1\n\ndata: 2\n\n")
    }

    func testHTTP10KeepAliveWithContentLength() throws {
        let server = try echoServer()
        let client = try TestClient(port: server.port)
        client.send("GET /k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.header("connection"), "keep-alive")
        client.send("GET /k2 HTTP/1.0\r\n\r\n")
        XCTAssertEqual(try client.readResponse().text, "GET /k2 0:")
        XCTAssertTrue(client.waitForClose())
    }

    func testHeadHasNoBodyBytes() throws {
        let server = try echoServer()
        let client = try TestClient(port: server.port)
        client.send("HEAD /h HTTP/1.1\r\n\r\nGET /after HTTP/1.1\r\n\r\n")
        let head = try client.readResponse(head: true)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.header("content-length"), "10")  // "HEAD /h 0:"
        // The next response starts right after the head: no body bytes came in between.
        XCTAssertEqual(try client.readResponse().text, "GET /after 0:")
    }

    func testHandlerHeadersAreNotDuplicated() throws {
        let server = try startServer { _, responder in
            responder.respond(
                status: 201,
                headers: ["Content-Length": "2", "Connection": "close"],
                body: Array("ok".utf8)
            )
        }
        defer { server.shutdown(drainDeadlineSeconds: 1) }
        let client = try TestClient(port: server.port)
        client.send("GET / HTTP/1.1\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 201)
        XCTAssertEqual(response.headers.filter { $0.0.lowercased() == "content-length" }.count, 1)
        XCTAssertEqual(response.headers.filter { $0.0.lowercased() == "connection" }.count, 1)
        XCTAssertTrue(client.waitForClose())
    }

    func testManyClientThreadsWithKeepAlive() throws {
        let server = try echoServer()
        let failures = Atomic<Int>(0)
        let answered = Atomic<Int>(0)
        let port = server.port
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            guard let client = try? TestClient(port: port) else {
                failures.add(1, ordering: .relaxed)
                return
            }
            for i in 0..<200 {
                let body = "t\(thread)-\(i)"
                client.send("POST /s HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
                if let response = try? client.readResponse(), response.text == "POST /s \(body.utf8.count):\(body)" {
                    answered.add(1, ordering: .relaxed)
                } else {
                    failures.add(1, ordering: .relaxed)
                }
            }
        }
        XCTAssertEqual(failures.load(ordering: .relaxed), 0)
        XCTAssertEqual(answered.load(ordering: .relaxed), 800)
    }

    func testTooManyConnectionsAre503() throws {
        let observer = RecordingObserver()
        let server = try echoServer(observer: observer) { $0.maxConnections = 1 }
        let first = try TestClient(port: server.port)
        first.send("GET / HTTP/1.1\r\n\r\n")
        _ = try first.readResponse()
        let second = try TestClient(port: server.port)
        XCTAssertEqual(try second.readResponse().status, 503)
        XCTAssertTrue(pollUntil { observer.errors == ["too_many_connections 503"] })
    }
}
