import Foundation
import Glibc

/// A raw-socket HTTP/1.1 client for integration tests: it sees bytes as they arrive, so a test can
/// prove that the proxy streams event by event, and it can misbehave on purpose (bad request lines,
/// truncated bodies, disconnecting mid-stream).
final class HTTPTestClient {
    private(set) var fd: Int32

    /// `receiveBuffer` (bytes) shrinks the socket's receive buffer before connecting: a slow reader.
    init(port: Int, timeout: TimeInterval = 30, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestClientError.io("socket") }
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            close(fd)
            throw TestClientError.io("connect")
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Closes the socket now (a client that goes away).
    func disconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw TestClientError.io("send") }
            offset += n
        }
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// One read; empty at EOF; throws on timeout.
    func readSome() throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 { throw TestClientError.io("recv timeout or error") }
        return Array(buffer[0..<n])
    }

    /// Reads until EOF or until `done` says the bytes so far are complete.
    func readUntil(_ done: ([UInt8]) -> Bool) throws -> [UInt8] {
        var all: [UInt8] = []
        while !done(all) {
            let chunk = try readSome()
            if chunk.isEmpty { break }
            all += chunk
        }
        return all
    }

    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// A request with a JSON body, `Content-Length` framed.
    static func post(path: String, json: String, headers: [(String, String)] = []) -> [UInt8] {
        var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        head += "Content-Length: \(json.utf8.count)\r\n\r\n"
        return Array(head.utf8) + Array(json.utf8)
    }
}

enum TestClientError: Error { case io(String) }

/// A parsed HTTP/1.1 response (chunked or Content-Length framed, or close-delimited).
struct ParsedResponse {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]
    var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// Parses one complete response from `bytes`; nil if incomplete.
    static func parse(_ bytes: [UInt8], closed: Bool = false) -> ParsedResponse? {
        let sep: [UInt8] = [13, 10, 13, 10]
        guard let headEnd = bytes.firstRange(of: sep) else { return nil }
        let head = String(decoding: bytes[..<headEnd.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces
            )
        }
        let rest = Array(bytes[headEnd.upperBound...])
        if status == 100 { return parse(rest, closed: closed) }
        if let cl = headers["content-length"].flatMap(Int.init) {
            return rest.count >= cl ? ParsedResponse(status: status, headers: headers, body: Array(rest[..<cl])) : nil
        }
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            var body: [UInt8] = []
            var i = 0
            while true {
                guard let lineEnd = rest[i...].firstRange(of: [13, 10]) else { return nil }
                let sizeText = String(decoding: rest[i..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";")[0]
                guard let size = Int(sizeText, radix: 16) else { return nil }
                let start = lineEnd.upperBound
                if size == 0 {
                    return rest.count >= start + 2 ? ParsedResponse(status: status, headers: headers, body: body) : nil
                }
                guard rest.count >= start + size + 2 else { return nil }
                body += rest[start..<start + size]
                i = start + size + 2
            }
        }
        return closed ? ParsedResponse(status: status, headers: headers, body: rest) : nil
    }
}

extension HTTPTestClient {
    /// Sends one request and reads one whole response.
    static func exchange(port: Int, _ request: [UInt8], timeout: TimeInterval = 30) throws -> ParsedResponse {
        let client = try HTTPTestClient(port: port, timeout: timeout)
        try client.send(request)
        var all: [UInt8] = []
        while true {
            if let r = ParsedResponse.parse(all) { return r }
            let chunk = try client.readSome()
            if chunk.isEmpty {
                guard let r = ParsedResponse.parse(all, closed: true) else { throw TestClientError.io("closed early") }
                return r
            }
            all += chunk
        }
    }

    static func get(port: Int, path: String, headers: [(String, String)] = []) throws -> ParsedResponse {
        var head = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        return try exchange(port: port, Array((head + "\r\n").utf8))
    }
}
