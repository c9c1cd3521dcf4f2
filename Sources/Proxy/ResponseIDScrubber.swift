/// The last filter at the boundary: replaces every `resp_…` id in an error body with `resp_redacted`,
/// so no upstream response id (an anchor a client could resend) leaks in an error the proxy relays.
///
/// Pure, byte-level; does not parse JSON. An id is `resp_` followed by `[A-Za-z0-9_-]`.
enum ResponseIDScrubber {
    private static let prefix: [UInt8] = Array("resp_".utf8)
    private static let replacement: [UInt8] = Array("resp_redacted".utf8)

    static func scrub(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count >= prefix.count else { return bytes }
        var out: [UInt8] = []
        var i = 0
        var changed = false
        while i < bytes.count {
            if bytes[i] == 0x72, i + prefix.count <= bytes.count, bytes[i..<i + prefix.count].elementsEqual(prefix) {
                var j = i + prefix.count
                while j < bytes.count, Self.isIDByte(bytes[j]) { j += 1 }
                if j > i + prefix.count {
                    if !changed {
                        out.reserveCapacity(bytes.count)
                        out += bytes[0..<i]
                        changed = true
                    }
                    out += replacement
                    i = j
                    continue
                }
            }
            if changed { out.append(bytes[i]) }
            i += 1
        }
        return changed ? out : bytes
    }

    private static func isIDByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2D
    }
}
