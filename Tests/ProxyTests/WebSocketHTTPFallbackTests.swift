import Foundation
import Glibc
import HTTPServer
import SightlineTestSupport
import Synchronization
import XCTest

@testable import Proxy

/// An upstream that answers the WebSocket upgrade with 426: the proxy carries the session's turns over
/// HTTP for that account, converting SSE events to frames, and replays anchored turns in full (over
/// HTTP no anchor survives).
final class WebSocketHTTPFallbackTests: XCTestCase {
    func testRefusedUpgradeFallsBackToHTTPAndReplaysAnchoredTurns() throws {
        let posts = Mutex<[String]>([])
        let upstream = try UpstreamTestServer { conn in
            while let request = conn.readRequest() {
                if request.method == "GET" {
                    conn.write("HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n")
                    continue
                }
                let n = posts.withLock { p -> Int in
                    p.append(String(decoding: request.body, as: UTF8.self))
                    return p.count
                }
                let item =
                    #"{"type":"message","id":"msg_\#(n)","role":"assistant","content":[{"type":"output_text","text":"answer \#(n)"}]}"#
                let events = [
                    #"{"type":"response.created","response":{"id":"resp_http_\#(n)","status":"in_progress"}}"#,
                    #"{"type":"response.output_item.done","output_index":0,"item":\#(item)}"#,
                    #"{"type":"response.completed","response":{"id":"resp_http_\#(n)","status":"completed","output":[\#(item)],"usage":{"input_tokens":10,"output_tokens":2,"total_tokens":12}}}"#,
                ]
                let body = events.map { "event: \(Self.type(of: $0))\ndata: \($0)\n\n" }.joined()
                conn.write(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
                        + body
                )
            }
        }
        defer { upstream.stop() }
        let proxy = try proxy(upstream: upstream)
        defer { proxy.shutdown() }

        let client = try FallbackTestClient(port: proxy.port, path: "/backend-api/codex/responses")
        let prewarm = try client.turn(#"{"type":"response.create","model":"m","input":[],"generate":false}"#)
        XCTAssertEqual(prewarm.last?["type"] as? String, "response.completed", "\(prewarm)")
        XCTAssertEqual(posts.withLock { $0.count }, 0, "a prewarm is answered locally over HTTP")
        let r0 = try XCTUnwrap((prewarm.last?["response"] as? [String: Any])?["id"] as? String)

        let first = try client.turn(
            #"{"type":"response.create","model":"m","previous_response_id":"\#(r0)","input":[{"type":"message","role":"user","content":"q1"}]}"#
        )
        XCTAssertEqual(first.last?["type"] as? String, "response.completed", "\(first)")
        let second = try client.turn(
            #"{"type":"response.create","model":"m","previous_response_id":"resp_http_1","input":[{"type":"message","role":"user","content":"q2"}]}"#
        )
        XCTAssertEqual(second.last?["type"] as? String, "response.completed", "\(second)")

        let bodies = posts.withLock { $0 }
        XCTAssertEqual(bodies.count, 2)
        XCTAssertFalse(bodies.contains { $0.contains("previous_response_id") }, "no anchor over HTTP: \(bodies)")
        XCTAssertFalse(bodies.contains { $0.contains(#""type":"response.create""#) })
        XCTAssertTrue(bodies[1].contains("q1") && bodies[1].contains("msg_1") && bodies[1].contains("q2"), bodies[1])
        XCTAssertEqual(proxy.ctx.metrics.webSocket.httpFallbacks.value, 2)
        XCTAssertEqual(proxy.ctx.metrics.webSocket.upgradeFailures(side: "upstream", reason: "status_426").value, 1)
    }

    /// The turn state crosses the HTTP fallback both ways, as over a WebSocket upstream: the answer's
    /// `x-codex-turn-state` header reaches the client as a `response.metadata` frame before `response.created`, and
    /// the token the client echoes in its frame's `client_metadata` goes upstream as that request header. Until
    /// 2026-12-07 a turn carried over HTTP lost it both ways.
    func testTheTurnStateCrossesTheHTTPFallbackBothWays() throws {
        let echoed = Mutex<[String?]>([])
        let upstream = try UpstreamTestServer { conn in
            while let request = conn.readRequest() {
                if request.method == "GET" {
                    conn.write("HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n")
                    continue
                }
                echoed.withLock { $0.append(request.header("x-codex-turn-state")) }
                let events = [
                    #"{"type":"response.created","response":{"id":"resp_ts","status":"in_progress"}}"#,
                    #"{"type":"response.completed","response":{"id":"resp_ts","status":"completed","output":[]}}"#,
                ]
                let body = events.map { "event: \(Self.type(of: $0))\ndata: \($0)\n\n" }.joined()
                conn.write(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nx-codex-turn-state: ts-FAKE-1\r\n"
                        + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
                )
            }
        }
        defer { upstream.stop() }
        let proxy = try proxy(upstream: upstream)
        defer { proxy.shutdown() }
        let client = try FallbackTestClient(port: proxy.port, path: "/backend-api/codex/responses")
        let first = try client.turn(#"{"type":"response.create","model":"m","input":[]}"#)
        let types = first.map { $0["type"] as? String ?? "" }
        XCTAssertEqual(types.first, "response.metadata", "\(first)")
        XCTAssertEqual((first.first?["headers"] as? [String: Any])?["x-codex-turn-state"] as? String, "ts-FAKE-1")
        _ = try client.turn(
            #"{"type":"response.create","model":"m","input":[],"client_metadata":{"x-codex-turn-state":"ts-FAKE-1"}}"#
        )
        XCTAssertEqual(echoed.withLock { $0 }, [nil, "ts-FAKE-1"])
    }

    /// A proxy with one ChatGPT account on `upstream`, started on a free port.
    private func proxy(upstream: UpstreamTestServer) throws -> SightlineProxy {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("ws-fallback-\(UUID().uuidString)")
        return try TestPorts.withFreePort { port in
            let config = """
                {"listen":{"host":"127.0.0.1","port":\(port)},"stateDirectory":"\(state.path)","log":{"stdout":false},
                 "accounts":[{"name":"a1","kind":"chatgpt","baseURL":"http://127.0.0.1:\(upstream.port)/backend-api/codex",
                              "accountId":"acct-FAKE-1","accessToken":"access-FAKE-1"}]}
                """
            let proxy = try SightlineProxy(configurationJSON: Data(config.utf8), environment: [:])
            try proxy.start()
            return proxy
        }
    }

    /// One turn through a proxy on `upstream`, which ends in an error frame; then the account's state and how many
    /// seconds its cooldown runs from the turn's start.
    private func cooldownAfterARefusedTurn(
        upstream: UpstreamTestServer
    ) throws -> (state: AccountSnapshot.State, seconds: Double) {
        let proxy = try proxy(upstream: upstream)
        defer { proxy.shutdown() }
        let before = Date().timeIntervalSince1970
        let client = try FallbackTestClient(port: proxy.port, path: "/backend-api/codex/responses")
        let turn = try client.turn(#"{"type":"response.create","model":"m","input":[]}"#)
        XCTAssertEqual(turn.last?["type"] as? String, "error", "\(turn)")
        let account = proxy.ctx.pool.snapshot(0)
        return (account.state, account.cooldownUntil - before)
    }

    /// A 429 refusing the upgrade, its body chunked: the body's reset decides the cooldown, as over HTTP. The
    /// refusal used to be read as a bare status: 30 s.
    func testAHandshakeRefusalIsReadWholeEvenChunked() throws {
        let body = #"{"error":{"type":"usage_limit_reached","message":"limit","resets_in_seconds":1200}}"#
        let chunks = [body.prefix(20), body.dropFirst(20)].map { "\(String($0.utf8.count, radix: 16))\r\n\($0)\r\n" }
        let upstream = try UpstreamTestServer { conn in
            while let request = conn.readRequest() {
                XCTAssertEqual(request.method, "GET", "nothing but the upgrade")
                conn.write("HTTP/1.1 429 Too Many Requests\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks[0])
                conn.write(chunks[1] + "0\r\n\r\n")
            }
        }
        defer { upstream.stop() }
        let (state, cooldown) = try cooldownAfterARefusedTurn(upstream: upstream)
        XCTAssertEqual(state, .cooling)
        XCTAssertEqual(cooldown, 1200, accuracy: 5)
    }

    /// A turn carried over HTTP (the account refused the upgrade with 426) that gets a 429 keeps the answer's
    /// rate-limit headers in its error frame, so `retry-after` decides the cooldown there too.
    func testACarriedTurnsRateLimitKeepsItsRetryAfter() throws {
        let upstream = try UpstreamTestServer { conn in
            while let request = conn.readRequest() {
                if request.method == "GET" {
                    conn.write("HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n")
                    continue
                }
                let body = #"{"error":{"message":"Rate limit reached.","type":"requests","param":null,"code":null}}"#
                conn.write(
                    "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 120\r\nContent-Type: application/json\r\n"
                        + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
                )
            }
        }
        defer { upstream.stop() }
        XCTAssertEqual(try cooldownAfterARefusedTurn(upstream: upstream).seconds, 120, accuracy: 5)
    }

    static func type(of json: String) -> String {
        (try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])?["type"] as? String ?? "message"
    }
}

/// A blocking downstream WebSocket client built on the HTTPServer module's client framing.
final class FallbackTestClient {
    let fd: Int32
    var reader = WebSocketReader(role: .client, maxMessageBytes: 1 << 20)

    init(port: Int, path: String) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else { throw UpstreamTestError("connect") }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        write(
            WebSocketHandshake.requestHead(
                host: "127.0.0.1",
                path: path,
                key: WebSocketHandshake.makeKey(),
                headers: HTTPHeaders()
            )
        )
        var head: [UInt8] = []
        let end: [UInt8] = [13, 10, 13, 10]
        while head.firstRange(of: end) == nil {
            let chunk = try read()
            head += chunk
        }
        let split = head.firstRange(of: end)!
        guard String(decoding: head[..<split.lowerBound], as: UTF8.self).hasPrefix("HTTP/1.1 101") else {
            throw UpstreamTestError("no 101: \(String(decoding: head, as: UTF8.self))")
        }
        reader.append(Array(head[split.upperBound...]))
    }

    deinit { close(fd) }

    func write(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    func read() throws -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw UpstreamTestError("recv") }
        return Array(chunk[..<n])
    }

    /// Sends a frame and collects event objects until a terminal event or an error frame.
    func turn(_ frame: String) throws -> [[String: Any]] {
        write(WebSocketFrameEncoder.client(.text, Array(frame.utf8)))
        var events: [[String: Any]] = []
        while true {
            guard let event = try reader.next() else {
                reader.append(try read())
                continue
            }
            guard case .text(let bytes) = event else { continue }
            let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] ?? [:]
            events.append(object)
            if ["response.completed", "response.failed", "error"].contains(object["type"] as? String ?? "") {
                return events
            }
        }
    }
}
