import Foundation
import Glibc
import HTTPServer

/// A blocking loopback WebSocket client for tests (shared by the HTTPServer, simulator and proxy tests): our own encoder (masked frames) and reader (role
/// `.client`), every read bounded by `poll` and a deadline.
public final class WebSocketTestClient {
    public let fd: Int32
    private var pending: [UInt8] = []
    public private(set) var reader = WebSocketReader(role: .client, maxMessageBytes: 64 << 20)
    public private(set) var status = 0
    public private(set) var responseHeaders = HTTPHeaders()

    public init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard Self.connect(fd, port: port) == 0 else {
            Glibc.close(fd)
            throw WebSocketTestClientError(description: "connect failed")
        }
    }

    deinit { Glibc.close(fd) }

    /// Sends an upgrade request and reads the response head; returns the status.
    @discardableResult
    public func handshake(path: String = "/ws", headers: HTTPHeaders = HTTPHeaders(), key: String? = nil) throws -> Int
    {
        let key = key ?? WebSocketHandshake.makeKey()
        sendRaw(WebSocketHandshake.requestHead(host: "127.0.0.1", path: path, key: key, headers: headers))
        var head: [UInt8] = []
        let end: [UInt8] = [13, 10, 13, 10]
        while true {
            if let range = firstRange(of: end, in: head) {
                let text = String(decoding: head[..<range], as: UTF8.self)
                pending = Array(head[(range + 4)...])
                var lines = text.components(separatedBy: "\r\n")
                let statusLine = lines.removeFirst().split(separator: " ")
                status = Int(statusLine[1]) ?? 0
                for line in lines {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    responseHeaders.add(
                        String(line[..<colon]),
                        line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    )
                }
                if status == 101,
                    let failure = WebSocketHandshake.validateResponse(
                        status: status,
                        headers: responseHeaders,
                        key: key
                    )
                {
                    throw WebSocketTestClientError(description: "bad 101: \(failure.reason)")
                }
                reader.append(pending)
                pending = []
                return status
            }
            guard let chunk = receive(timeout: 5), !chunk.isEmpty else {
                throw WebSocketTestClientError(description: "no handshake response")
            }
            head.append(contentsOf: chunk)
        }
    }

    private func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i..<(i + needle.count)].elementsEqual(needle) {
            return i
        }
        return nil
    }

    public func sendRaw(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n <= 0 { return }
            offset += n
        }
    }

    public func send(_ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true) {
        sendRaw(WebSocketFrameEncoder.client(opcode, payload, fin: fin))
    }

    public func sendText(_ text: String) { send(.text, Array(text.utf8)) }

    /// nil on timeout, empty on EOF.
    private func receive(timeout: Double) -> [UInt8]? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, Int32(timeout * 1000)) > 0 else { return nil }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n <= 0 ? [] : Array(chunk[0..<n])
    }

    public enum Received: Equatable {
        case event(WebSocketEvent)
        case eof
        case timeout
    }

    /// The next event from the server, EOF, or timeout.
    public func next(timeout: Double = 5) throws -> Received {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let event = try reader.next() { return .event(event) }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return .timeout }
            guard let chunk = receive(timeout: left) else { return .timeout }
            if chunk.isEmpty { return .eof }
            reader.append(chunk)
        }
    }

    /// True once the server closed TCP within `timeout` (ignoring events in between).
    public func waitForEOF(timeout: Double = 5) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while deadline.timeIntervalSinceNow > 0 {
            guard let chunk = receive(timeout: deadline.timeIntervalSinceNow) else { return false }
            if chunk.isEmpty { return true }
        }
        return false
    }
}

public struct WebSocketTestClientError: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

extension WebSocketTestClient {
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

    /// The next text frame as a JSON object; nil on close, EOF or timeout.
    public func nextJSON(timeout: Double = 5) throws -> [String: Any]? {
        while true {
            switch try next(timeout: timeout) {
            case .event(.text(let bytes)):
                return (try JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
            case .event(.ping), .event(.pong): continue
            default: return nil
            }
        }
    }

    /// Sends one `response.create` and reads frames until `response.completed`, an error frame or close.
    public func create(_ fields: [String: Any], timeout: Double = 5) throws -> [[String: Any]] {
        var object = fields
        object["type"] = "response.create"
        send(.text, Array(try JSONSerialization.data(withJSONObject: object)))
        var frames: [[String: Any]] = []
        while let frame = try nextJSON(timeout: timeout) {
            frames.append(frame)
            let type = frame["type"] as? String
            if type == "response.completed" || type == "error" || type == "response.failed" { break }
        }
        return frames
    }
}
