import Dispatch
import Foundation
import Glibc
import HTTPServer
import SightlineTestSupport
import Synchronization
import XCTest

/// A handler built from a closure, for tests.
struct ClosureHandler: HTTPHandler {
    let body: @Sendable (HTTPRequest, HTTPResponder) -> Void
    init(_ body: @escaping @Sendable (HTTPRequest, HTTPResponder) -> Void) { self.body = body }
    func handle(_ request: HTTPRequest, responder: HTTPResponder) { body(request, responder) }
}

/// Keeps every protocol error the server reports.
final class RecordingObserver: HTTPServerObserver {
    private let storage = Mutex<[String]>([])
    private let pauseStorage = Mutex<[String]>([])
    var errors: [String] { storage.withLock { $0 } }
    /// `http` or `websocket`, once per reading pause.
    var pauses: [String] { pauseStorage.withLock { $0 } }
    func protocolError(reason: String, status: Int) { storage.withLock { $0.append("\(reason) \(status)") } }
    func readingPaused(webSocket: Bool) { pauseStorage.withLock { $0.append(webSocket ? "websocket" : "http") } }
}

/// A value set from one thread and awaited (with a deadline) on another.
final class Box<T: Sendable>: Sendable {
    private let storage = Mutex<T?>(nil)
    func set(_ value: T) { storage.withLock { $0 = value } }
    var value: T? { storage.withLock { $0 } }
}

func startServer(
    loops: Int = 2,
    observer: any HTTPServerObserver = NoHTTPServerObserver(),
    configure: (inout HTTPServerConfiguration) -> Void = { _ in },
    handler: @escaping @Sendable (HTTPRequest, HTTPResponder) -> Void
) throws -> HTTPServer {
    try TestPorts.withFreePort { port in
        var configuration = HTTPServerConfiguration()
        configuration.port = port
        configuration.eventLoops = loops
        configure(&configuration)
        let server = HTTPServer(configuration: configuration, handler: ClosureHandler(handler), observer: observer)
        try server.start()
        return server
    }
}

struct TestResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8] = []
    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
    var text: String { String(decoding: body, as: UTF8.self) }
}

struct TestClientError: Error, CustomStringConvertible {
    var description: String
}

/// A blocking loopback HTTP/1.1 client on plain Glibc sockets; every read waits with `poll` and a deadline.
final class TestClient {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, receiveBufferBytes: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBufferBytes {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        guard Self.connect(fd, port: port) == 0 else {
            let e = errno
            Glibc.close(fd)
            throw TestClientError(description: "connect failed errno \(e)")
        }
    }

    deinit { Glibc.close(fd) }

    static func connect(_ fd: Int32, port: Int) -> Int32 {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    /// True when a new connection to `port` is refused.
    static func isRefused(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { Glibc.close(fd) }
        return connect(fd, port: port) != 0 && errno == ECONNREFUSED
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n <= 0 { return }
            offset += n
        }
    }

    enum Fill { case data, eof, timeout }

    /// Bytes read and not yet taken by a `read…` call.
    var bufferedCount: Int { buffer.count }

    /// Waits up to `timeout` seconds for more bytes.
    @discardableResult
    func fill(timeout: Double = 5) -> Fill {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, Int32(timeout * 1000)) > 0 else { return .timeout }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { return .eof }
        buffer.append(contentsOf: chunk[0..<n])
        return .data
    }

    /// Reads and discards everything that arrives within `timeout`; returns the byte count.
    func drain(timeout: Double) -> Int {
        var total = buffer.count
        buffer.removeAll()
        while fill(timeout: timeout) == .data {
            total += buffer.count
            buffer.removeAll()
        }
        return total
    }

    /// True once the server closed the connection (EOF or reset) within `timeout`, discarding data.
    func waitForClose(timeout: Double = 5) -> Bool {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeout * 1e9)
        while DispatchTime.now().uptimeNanoseconds < deadline {
            switch fill(timeout: 0.05) {
            case .eof: return true
            case .data: buffer.removeAll()
            case .timeout: continue
            }
        }
        return false
    }

    private func take(_ count: Int) -> [UInt8] {
        let out = Array(buffer[0..<count])
        buffer.removeFirst(count)
        return out
    }

    private func readLine(timeout: Double) throws -> String {
        while true {
            if let lf = buffer.firstIndex(of: 10) {
                let line = take(lf + 1)
                return String(decoding: line.dropLast(2), as: UTF8.self)
            }
            guard fill(timeout: timeout) == .data else { throw TestClientError(description: "no line") }
        }
    }

    private func readExactly(_ count: Int, timeout: Double) throws -> [UInt8] {
        while buffer.count < count {
            guard fill(timeout: timeout) == .data else { throw TestClientError(description: "short body") }
        }
        return take(count)
    }

    /// Reads a status line and headers (no body).
    func readHead(timeout: Double = 5) throws -> TestResponse {
        let statusLine = try readLine(timeout: timeout)
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let status = Int(parts[1]) else {
            throw TestClientError(description: "bad status line \(statusLine)")
        }
        var headers: [(String, String)] = []
        while true {
            let line = try readLine(timeout: timeout)
            if line.isEmpty { break }
            let colon = line.firstIndex(of: ":")!
            headers.append(
                (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            )
        }
        return TestResponse(status: status, headers: headers)
    }

    /// Reads one chunk of a chunked body; nil for the terminating chunk (trailers consumed).
    func readChunk(timeout: Double = 5) throws -> [UInt8]? {
        let sizeLine = try readLine(timeout: timeout)
        guard let size = Int(sizeLine, radix: 16) else { throw TestClientError(description: "bad chunk \(sizeLine)") }
        if size == 0 {
            while try !readLine(timeout: timeout).isEmpty {}
            return nil
        }
        let data = try readExactly(size, timeout: timeout)
        _ = try readExactly(2, timeout: timeout)
        return data
    }

    /// Reads one whole response; `head` for responses to HEAD (no body).
    func readResponse(timeout: Double = 5, head: Bool = false) throws -> TestResponse {
        var response = try readHead(timeout: timeout)
        if head || response.status / 100 == 1 || response.status == 204 || response.status == 304 { return response }
        if response.header("transfer-encoding")?.lowercased() == "chunked" {
            while let chunk = try readChunk(timeout: timeout) { response.body += chunk }
        } else if let length = response.header("content-length").flatMap({ Int($0) }) {
            response.body = try readExactly(length, timeout: timeout)
        } else {
            while fill(timeout: timeout) == .data {}
            response.body = buffer
            buffer.removeAll()
        }
        return response
    }
}
