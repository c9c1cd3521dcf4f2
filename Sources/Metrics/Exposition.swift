/// Constants and content negotiation for serving the text exposition format.
///
/// Pure: no I/O. It does not render (see `MetricRegistry.render()`) or compress (see `Gzip`).
/// Sightline serves only format 0.0.4, to which every Prometheus falls back.
public enum Exposition {
    /// Prometheus 3 rejects a missing or unparsable Content-Type, so it is always sent in full.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Whether the client accepts `gzip`, according to an `Accept-Encoding` header (RFC 9110 §12.5.3).
    ///
    /// An explicit `gzip` (or `x-gzip`) entry decides by its q-value (`gzip;q=0` means no); otherwise a
    /// `*` entry decides by its own. A missing header, an entry with a malformed q-value, or a q-value of 0
    /// means no, so that doubt always ends in an uncompressed body.
    public static func negotiate(acceptEncoding: String?) -> Bool {
        guard let header = acceptEncoding else { return false }
        var gzipQuality: Double?
        var wildcardQuality: Double?
        for entry in header.split(separator: ",") {
            let parts = entry.split(separator: ";")
            guard let coding = parts.first?.trimmingSpaces.lowercased(), !coding.isEmpty else { continue }
            var quality: Double? = 1
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1)
                guard pair.count == 2, pair[0].trimmingSpaces.lowercased() == "q" else { continue }
                quality = parseQuality(pair[1].trimmingSpaces)
            }
            guard let quality else { continue }
            switch coding {
            case "gzip", "x-gzip": gzipQuality = gzipQuality ?? quality
            case "*": wildcardQuality = wildcardQuality ?? quality
            default: continue
            }
        }
        return (gzipQuality ?? wildcardQuality ?? 0) > 0
    }

    /// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`; anything else is nil.
    static func parseQuality(_ text: Substring) -> Double? {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, first == UInt8(ascii: "0") || first == UInt8(ascii: "1") else { return nil }
        if bytes.count == 1 { return first == UInt8(ascii: "1") ? 1 : 0 }
        guard bytes[1] == UInt8(ascii: "."), bytes.count <= 5 else { return nil }
        let digits = bytes[2...]
        guard digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        if first == UInt8(ascii: "1") { return digits.allSatisfy { $0 == UInt8(ascii: "0") } ? 1 : nil }
        return Double(String(decoding: bytes, as: UTF8.self))
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = firstIndex(where: { !isSpace($0) }) else { return self[endIndex...] }
        let end = lastIndex(where: { !isSpace($0) })!
        return self[start...end]
    }
}
