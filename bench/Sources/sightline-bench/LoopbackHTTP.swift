import CSightlineSys
import Foundation
import Glibc

/// A blocking one-shot HTTP/1.1 request on 127.0.0.1 (`Connection: close`, read to EOF), for scraping
/// `/metrics` during the disconnect probe and setting the simulator's pacing. Returns the body, or nil on
/// any failure. Loopback only.
enum LoopbackHTTP {
    static func get(port: Int, path: String) -> String? { request(port: port, method: "GET", path: path) }

    /// A POST of a JSON body; the response body, or nil on any failure or a status other than 200.
    static func post(port: Int, path: String, json: String) -> String? {
        request(port: port, method: "POST", path: path, json: json, requireOK: true)
    }

    private static func request(
        port: Int,
        method: String,
        path: String,
        json: String? = nil,
        requireOK: Bool = false
    ) -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard ok == 0 else { return nil }
        var head = "\(method) \(path) HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n"
        if let json { head += "content-type: application/json\r\ncontent-length: \(json.utf8.count)\r\n" }
        let req = Array((head + "\r\n" + (json ?? "")).utf8)
        guard req.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == req.count else {
            return nil
        }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        let text = String(decoding: out, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return nil }
        if requireOK && !text.hasPrefix("HTTP/1.1 200") { return nil }
        return String(text[split.upperBound...])
    }

    /// Sum of every sample of `family` (all label sets) in a Prometheus text body (chunked framing tolerated:
    /// chunk-size lines are not metric lines).
    static func sum(_ family: String, in text: String) -> Double? {
        var total: Double?
        for line in text.split(separator: "\n") where line.hasPrefix(family) {
            let rest = line.dropFirst(family.count)
            guard rest.first == " " || rest.first == "{" else { continue }
            if let v = line.split(separator: " ").last.flatMap({ Double($0) }) { total = (total ?? 0) + v }
        }
        return total
    }
}
