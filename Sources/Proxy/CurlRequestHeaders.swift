/// Turns an `UpstreamRequest`'s headers into the lines given to `CURLOPT_HTTPHEADER`.
///
/// Pure: no libcurl calls. It drops `content-length` and `transfer-encoding` (libcurl frames the body),
/// drops headers with CR/LF or an invalid name (header injection), writes an empty value as `Name;` (libcurl's
/// spelling for "send empty"; `Name:` would delete the header), and adds `Name:` lines that suppress
/// libcurl's implicit `Accept: */*`, `Expect: 100-continue` and form `Content-Type` when the caller did not
/// set them.
enum CurlRequestHeaders {
    static func lines(for headers: [(String, String)], hasBody: Bool) -> [String] {
        var lines: [String] = []
        lines.reserveCapacity(headers.count + 3)
        // Three flags, not a set of every name: hashing each header name cost more than building its line.
        var hasAccept = false
        var hasExpect = false
        var hasContentType = false
        for (name, value) in headers {
            // Bytes, not Characters: "\r\n" is a single Character and would slip past a Character test.
            guard isValidName(name), !value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else {
                continue
            }
            switch name.foldedForHeaders {
            case "content-length", "transfer-encoding": continue
            case "accept": hasAccept = true
            case "expect": hasExpect = true
            case "content-type": hasContentType = true
            default: break
            }
            lines.append(value.isEmpty ? name + ";" : name + ": " + value)
        }
        if !hasAccept { lines.append("Accept:") }
        if !hasExpect { lines.append("Expect:") }
        if hasBody && !hasContentType { lines.append("Content-Type:") }
        return lines
    }

    /// RFC 9110 token characters only.
    private static func isValidName(_ name: String) -> Bool {
        !name.isEmpty
            && name.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"):
                    return true
                default:
                    return "!#$%&'*+-.^_`|~".utf8.contains(byte)
                }
            }
    }
}
