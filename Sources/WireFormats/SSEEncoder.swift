import Glibc

/// Builds SSE wire bytes for events the proxy itself emits (synthesised errors, keepalives).
///
/// Data containing line breaks is split into several `data:` lines, so any payload round-trips through a
/// conforming parser. It does not validate that `json` is JSON.
/// Concurrency: stateless.
public enum SSEEncoder {
    /// `event: <type>\ndata: <json>\n\n`
    public static func event(type: String, json: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(json.count + type.utf8.count + 16)
        appendEvent(type: type, json: json, to: &out)
        return out
    }

    /// Appends `event(type:json:)` to `out`: a relay that forwards a burst of events builds one write, not one
    /// array per event.
    public static func appendEvent(type: String, json: [UInt8], to out: inout [UInt8]) {
        out.append(contentsOf: eventPrefix)
        for byte in type.utf8 where byte != 0x0A && byte != 0x0D { out.append(byte) }
        out.append(0x0A)
        appendData(json, to: &out)
        out.append(0x0A)
    }

    /// `data: <json>\n\n` (no event type).
    public static func data(json: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(json.count + 8)
        appendData(json, to: &out)
        out.append(0x0A)
        return out
    }

    /// `: <text>\n\n`, ignored by clients; keeps idle connections and timers alive.
    public static func comment(_ text: String) -> [UInt8] {
        Array(": ".utf8) + text.utf8.filter { $0 != 0x0A && $0 != 0x0D } + [0x0A, 0x0A]
    }

    /// `: keepalive\n\n`
    public static let keepalive: [UInt8] = Array(": keepalive\n\n".utf8)

    private static let eventPrefix: [UInt8] = Array("event: ".utf8)
    private static let dataPrefix: [UInt8] = Array("data: ".utf8)

    private static func appendData(_ payload: [UInt8], to out: inout [UInt8]) {
        // JSON from the upstream escapes its line breaks, so almost every payload is one line: find that out
        // with memchr and copy it whole.
        let oneLine = payload.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return true }
            return memchr(base, 0x0A, raw.count) == nil && memchr(base, 0x0D, raw.count) == nil
        }
        if oneLine {
            out.append(contentsOf: dataPrefix)
            out.append(contentsOf: payload)
            out.append(0x0A)
            return
        }
        var lineStart = 0
        var i = 0
        while i <= payload.count {
            if i == payload.count || payload[i] == 0x0A || payload[i] == 0x0D {
                out.append(contentsOf: dataPrefix)
                out.append(contentsOf: payload[lineStart..<i])
                out.append(0x0A)
                if i < payload.count && payload[i] == 0x0D && i + 1 < payload.count && payload[i + 1] == 0x0A { i += 1 }
                lineStart = i + 1
            }
            i += 1
        }
    }
}
