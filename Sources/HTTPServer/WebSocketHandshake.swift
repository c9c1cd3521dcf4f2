import Foundation
import LogRedaction

/// The RFC 6455 §4 opening handshake, both sides, as pure functions.
///
/// Server side: `validate` checks a client's upgrade request (GET, `Upgrade: websocket`, `Connection`
/// containing `upgrade`, `Sec-WebSocket-Version: 13`, a key that is 16 bytes in base64) and returns the
/// `Sec-WebSocket-Accept` value. Client side: `makeKey`, `requestHead` and `validateResponse`.
///
/// Extensions are declined: a `Sec-WebSocket-Extensions: permessage-deflate` offer is never echoed, so the
/// connection runs uncompressed. RFC 7692 §5 allows that ("a server MAY decline an offer by not including
/// a corresponding extension in the response"), and Codex accepts it: it offers compression but does not
/// require it. Subprotocols are not negotiated either. Concurrency: stateless; `Sendable`.
public enum WebSocketHandshake {
    public static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// Why an upgrade request is refused, with the HTTP status to answer (400, or 426 for a wrong version).
    public struct Failure: Error, Sendable, Equatable {
        public let status: Int
        public let reason: String
        public let message: String
    }

    /// base64(SHA-1(key + GUID)).
    public static func acceptValue(forKey key: String) -> String {
        Data(SHA1.hash(Array((key + guid).utf8))).base64EncodedString()
    }

    /// The `Sec-WebSocket-Accept` value for a valid upgrade request, or why it is not one.
    public static func validate(method: String, headers: HTTPHeaders) -> Result<String, Failure> {
        guard method == "GET" else {
            return .failure(Failure(status: 400, reason: "websocket_bad_method", message: "Upgrade requires GET."))
        }
        guard let upgrade = headers["upgrade"], HTTPHeaders.equalFold(upgrade.trimmingASCIISpaces(), "websocket")
        else {
            return .failure(
                Failure(status: 400, reason: "websocket_bad_upgrade", message: "Upgrade must be websocket.")
            )
        }
        let connectionTokens = headers.values("connection").flatMap { $0.split(separator: ",") }
        guard connectionTokens.contains(where: { HTTPHeaders.equalFold(String($0).trimmingASCIISpaces(), "upgrade") })
        else {
            return .failure(
                Failure(status: 400, reason: "websocket_bad_connection", message: "Connection must include upgrade.")
            )
        }
        guard headers["sec-websocket-version"]?.trimmingASCIISpaces() == "13" else {
            return .failure(
                Failure(status: 426, reason: "websocket_bad_version", message: "Sec-WebSocket-Version must be 13.")
            )
        }
        guard let key = headers["sec-websocket-key"]?.trimmingASCIISpaces(),
            let decoded = Data(base64Encoded: key), decoded.count == 16
        else {
            return .failure(
                Failure(
                    status: 400,
                    reason: "websocket_bad_key",
                    message: "Sec-WebSocket-Key must be 16 bytes in base64."
                )
            )
        }
        return .success(acceptValue(forKey: key))
    }

    // MARK: Client side

    /// A fresh random 16-byte key in base64.
    public static func makeKey() -> String {
        Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }

    /// The HTTP/1.1 upgrade request head. `headers` come from the caller (authorization, …); handshake and
    /// hop-by-hop fields in it are replaced, and no extension is offered.
    public static func requestHead(host: String, path: String, key: String, headers: HTTPHeaders) -> [UInt8] {
        var text = "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        text += "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n"
        let reserved: Set<String> = [
            "host", "upgrade", "connection", "sec-websocket-key", "sec-websocket-version",
            "sec-websocket-extensions", "sec-websocket-accept", "content-length", "transfer-encoding",
        ]
        for (name, value) in headers.entries where !reserved.contains(name.lowercased()) {
            text += "\(name): \(value)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// Checks a server's answer to `requestHead`: 101, `Upgrade: websocket`, the right accept value and no
    /// extension we did not offer. Returns a failure carrying the status for a non-101 (e.g. 426).
    public static func validateResponse(status: Int, headers: HTTPHeaders, key: String) -> Failure? {
        guard status == 101 else {
            return Failure(status: status, reason: "websocket_status", message: "Handshake answered \(status).")
        }
        guard let upgrade = headers["upgrade"], HTTPHeaders.equalFold(upgrade.trimmingASCIISpaces(), "websocket")
        else {
            return Failure(status: status, reason: "websocket_bad_upgrade", message: "101 without Upgrade: websocket.")
        }
        guard headers["sec-websocket-accept"]?.trimmingASCIISpaces() == acceptValue(forKey: key) else {
            return Failure(status: status, reason: "websocket_bad_accept", message: "Sec-WebSocket-Accept mismatch.")
        }
        if let extensions = headers["sec-websocket-extensions"], !extensions.trimmingASCIISpaces().isEmpty {
            return Failure(status: status, reason: "websocket_bad_extension", message: "Unrequested extension.")
        }
        return nil
    }
}
