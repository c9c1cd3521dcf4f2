/// The OpenAI error body, `{"error":{"message":…,"type":…,"param":…,"code":…}}`, as UTF-8 bytes.
///
/// Used for every answer the server gives by itself, and reusable by the proxy for its own errors so
/// clients see one shape. Escapes per RFC 8259 (quotes, backslash, control characters); passes other
/// UTF-8 through. Does not validate that `type`/`code` are low-cardinality: callers pass constants.
/// Concurrency: stateless.
public enum OpenAIErrorBody {
    public static func json(
        message: String,
        type: String = "invalid_request_error",
        code: String?,
        param: String? = nil
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(96 + message.utf8.count)
        out.appendASCII(#"{"error":{"message":"#)
        appendQuoted(message, to: &out)
        out.appendASCII(#","type":"#)
        appendQuoted(type, to: &out)
        out.appendASCII(#","param":"#)
        if let param { appendQuoted(param, to: &out) } else { out.appendASCII("null") }
        out.appendASCII(#","code":"#)
        if let code { appendQuoted(code, to: &out) } else { out.appendASCII("null") }
        out.appendASCII("}}")
        return out
    }

    /// Appends `text` as a JSON string literal, quotes included.
    public static func appendQuoted(_ text: String, to out: inout [UInt8]) {
        let hex: StaticString = "0123456789abcdef"
        out.append(0x22)
        for byte in text.utf8 {
            switch byte {
            case 0x22: out.appendASCII(#"\""#)
            case 0x5C: out.appendASCII(#"\\"#)
            case 0x0A: out.appendASCII(#"\n"#)
            case 0x0D: out.appendASCII(#"\r"#)
            case 0x09: out.appendASCII(#"\t"#)
            case 0x08: out.appendASCII(#"\b"#)
            case 0x0C: out.appendASCII(#"\f"#)
            case 0x00..<0x20, 0x7F:
                out.appendASCII(#"\u00"#)
                out.append(hex.utf8Start[Int(byte >> 4)])
                out.append(hex.utf8Start[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(0x22)
    }
}
