import Foundation
import Glibc

/// A minimal blocking RFC 6455 client for integration tests (this target links no Sightline module):
/// handshake, masked frames out (text, or any opcode and FIN bit to fragment), unfragmented server frames
/// in; every read bounded by a deadline.
/// Enough to drive the proxy's Responses WebSocket like Codex does, frame by frame.
final class WebSocketClient {
    enum Message: Equatable {
        case text(String)
        case close(UInt16)
        case eof
        case timeout
    }

    private let http: HTTPTestClient
    private var buffer: [UInt8] = []
    private(set) var status = 0
    /// The last close frame received, header included, exactly as it came off the wire.
    private(set) var lastCloseFrame: [UInt8]?

    /// Connects and upgrades `path`; `status` is the handshake's HTTP status (101 on success). `receiveBuffer`:
    /// as `HTTPTestClient`'s, a slow reader.
    init(port: Int, path: String, headers: [(String, String)] = [], receiveBuffer: Int32? = nil) throws {
        http = try HTTPTestClient(port: port, timeout: 30, receiveBuffer: receiveBuffer)
        var head = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        head += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        try http.send(Array((head + "\r\n").utf8))
        let sep: [UInt8] = [13, 10, 13, 10]
        while true {
            if let end = buffer.firstRange(of: sep) {
                let line =
                    String(decoding: buffer[..<end.lowerBound], as: UTF8.self).split(separator: "\r\n").first ?? ""
                status = Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
                buffer = Array(buffer[end.upperBound...])
                return
            }
            let chunk = try http.readSome()
            if chunk.isEmpty { throw TestClientError.io("no handshake response") }
            buffer += chunk
        }
    }

    /// Sends one masked text frame.
    func send(_ text: String) throws { try sendFrame(opcode: 0x1, fin: true, Array(text.utf8)) }

    /// Sends one masked frame: opcode 0x1 text, 0x0 continuation, 0x8 close, 0x9 ping; `fin: false` starts or
    /// continues a fragmented message.
    func sendFrame(opcode: UInt8, fin: Bool, _ payload: [UInt8]) throws {
        var frame: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count < 65536 {
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xff)]
        } else {
            frame.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8((payload.count >> shift) & 0xff)) }
        }
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        frame += mask
        for (i, b) in payload.enumerated() { frame.append(b ^ mask[i % 4]) }
        try http.send(frame)
    }

    /// The next text or close frame (pings and pongs are skipped).
    func next(timeout: TimeInterval = 30) -> Message {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let (opcode, payload, used) = Self.parse(buffer) {
                let frame = Array(buffer[..<used])
                buffer.removeFirst(used)
                switch opcode {
                case 1: return .text(String(decoding: payload, as: UTF8.self))
                case 8:
                    lastCloseFrame = frame
                    return .close(payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : 1005)
                default: continue
                }
            }
            if Date() >= deadline { return .timeout }
            guard let chunk = try? http.readSome() else { return .timeout }
            if chunk.isEmpty { return .eof }
            buffer += chunk
        }
    }

    /// Frames until a terminal event (`response.completed`/`failed`/`incomplete`) or an `error` frame.
    func readTurn(timeout: TimeInterval = 30) -> [[String: Any]] {
        var events: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard case .text(let text) = next(timeout: deadline.timeIntervalSinceNow) else { break }
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                continue
            }
            events.append(object)
            let type = object["type"] as? String ?? ""
            if ["response.completed", "response.failed", "response.incomplete", "error"].contains(type) { break }
        }
        return events
    }

    func close() { http.disconnect() }

    /// One complete unmasked frame at the start of `bytes`: (opcode, payload, bytes used).
    private static func parse(_ bytes: [UInt8]) -> (UInt8, [UInt8], Int)? {
        guard bytes.count >= 2 else { return nil }
        let opcode = bytes[0] & 0x0f
        var length = Int(bytes[1] & 0x7f)
        var offset = 2
        if length == 126 {
            guard bytes.count >= 4 else { return nil }
            length = Int(bytes[2]) << 8 | Int(bytes[3])
            offset = 4
        } else if length == 127 {
            guard bytes.count >= 10 else { return nil }
            length = bytes[2..<10].reduce(0) { $0 << 8 | Int($1) }
            offset = 10
        }
        guard bytes.count >= offset + length else { return nil }
        return (opcode, Array(bytes[offset..<offset + length]), offset + length)
    }
}
