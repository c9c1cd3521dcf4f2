import Dispatch
import Foundation
import Glibc
import HTTPServer
import SightlineTestSupport
import Synchronization

/// A tiny blocking HTTP/1.1 test server on 127.0.0.1 (a `TestPorts` port) for `UpstreamClient` tests.
///
/// One accept thread; each accepted connection runs `handler` on its own thread, which scripts the exact bytes
/// sent. Not a general server: no pipelining, no chunked request bodies. Reads time out after 5 s so a broken
/// test cannot hang. Concurrency: `Sendable`; counters are `Atomic`, open sockets behind a `Mutex`.
final class UpstreamTestServer: Sendable {
    let port: UInt16
    private let listenFD: Int32
    private let acceptCount = Atomic<Int>(0)
    private let openFDs = Mutex<Set<Int32>>([])

    /// Connections accepted so far.
    var accepts: Int { acceptCount.load(ordering: .acquiring) }

    init(handler: @escaping @Sendable (UpstreamTestConnection) -> Void) throws {
        signal(SIGPIPE, SIG_IGN)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw UpstreamTestError("socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard let port = UpstreamTestServer.bindLoopback(fd), listen(fd, 16) == 0 else {
            close(fd)
            throw UpstreamTestError("bind/listen: errno \(errno)")
        }
        self.listenFD = fd
        self.port = port
        let thread = Thread { [self] in acceptLoop(handler) }
        thread.name = "upstream-test-accept"
        thread.start()
    }

    /// Closes the listener and every open connection; handler threads unblock with EOF.
    func stop() {
        shutdown(listenFD, Int32(SHUT_RDWR))
        openFDs.withLock { fds in
            for fd in fds { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    /// Binds `fd` to a free 127.0.0.1 port below 32768 (`TestPorts`) and returns it.
    static func bindLoopback(_ fd: Int32) -> UInt16? { TestPorts.bindLoopback(fd) }

    private func acceptLoop(_ handler: @escaping @Sendable (UpstreamTestConnection) -> Void) {
        while true {
            let client = accept(listenFD, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                close(listenFD)
                return
            }
            acceptCount.add(1, ordering: .acquiringAndReleasing)
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            openFDs.withLock { _ = $0.insert(client) }
            let connection = UpstreamTestConnection(fd: client)
            let thread = Thread { [self] in
                handler(connection)
                openFDs.withLock { _ = $0.remove(client) }
                close(client)
            }
            thread.start()
        }
    }
}

struct UpstreamTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One request as the test server parsed it.
struct UpstreamTestRequest: Sendable {
    var method: String
    var target: String
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

/// The server side of one accepted connection. Confined to its handler thread (`@unchecked Sendable` only so
/// it can be handed to that thread).
final class UpstreamTestConnection: @unchecked Sendable {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(fd: Int32) { self.fd = fd }

    /// Reads one request (head plus `Content-Length` body); `nil` at EOF or on a read error/timeout.
    func readRequest() -> UpstreamTestRequest? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while headEnd == nil {
            headEnd = buffer.firstRange(of: separator)?.lowerBound
            if headEnd == nil && !fill() { return nil }
        }
        let head = String(decoding: buffer[..<headEnd!], as: UTF8.self)
        buffer.removeFirst(headEnd! + separator.count)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        let headers: [(String, String)] = lines.compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var request = UpstreamTestRequest(
            method: String(requestLine[0]),
            target: String(requestLine[1]),
            headers: headers,
            body: []
        )
        let length = Int(request.header("content-length") ?? "0") ?? 0
        while buffer.count < length {
            if !fill() { return nil }
        }
        request.body = Array(buffer[..<length])
        buffer.removeFirst(length)
        return request
    }

    @discardableResult
    func write(_ text: String) -> Bool { write(Array(text.utf8)) }

    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 {
                if sent < 0 && errno == EINTR { continue }
                return false
            }
            offset += sent
        }
        return true
    }

    /// One HTTP/1.1 chunk of a chunked body.
    func writeChunk(_ text: String) -> Bool {
        write(String(text.utf8.count, radix: 16) + "\r\n" + text + "\r\n")
    }

    /// Waits until the peer closes the connection (read returns 0 or an error). `false` on timeout.
    func waitForClose(timeoutSeconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        var scratch = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let remaining = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
            let ready = poll(&descriptor, 1, remaining)
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { continue }
            let n = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return true }
        }
        return false
    }

    /// Reads the client's WebSocket frames (after a 101 this side wrote) until a close frame, EOF or the timeout:
    /// the text messages before it, and whether a close frame came.
    func readWebSocketTexts(timeoutSeconds: Double) -> (texts: [String], closed: Bool) {
        var reader = WebSocketReader(role: .server, maxMessageBytes: 1 << 20)
        reader.append(buffer)
        buffer = []
        var texts: [String] = []
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while true {
            while let event = try? reader.next() {
                if case .text(let text) = event { texts.append(String(decoding: text, as: UTF8.self)) }
                if case .close = event { return (texts, true) }
            }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return (texts, false) }
            guard poll(&descriptor, 1, Int32(max(1, remaining * 1000))) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 64 * 1024)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return (texts, false) }
            reader.append(chunk[..<n])
        }
    }

    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { return false }
        buffer.append(contentsOf: chunk[..<n])
        return true
    }
}
