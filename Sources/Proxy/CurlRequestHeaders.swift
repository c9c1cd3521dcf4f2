/// Turns an `UpstreamRequest`'s headers into the lines given to `CURLOPT_HTTPHEADER`.
///
/// Pure: no libcurl calls. It drops `content-length` and `transfer-encoding` (libcurl frames the body),
/// drops headers with CR/LF or an invalid name (header injection), writes an empty value as `Name;` (libcurl's
/// spelling for "send empty"; `Name:` would delete the header), and adds `Name:` lines that suppress
/// libcurl's implicit `Accept: */*`, `Expect: 100-continue` and form `Content-Type` when the caller did not
/// set them. `hasBody` is true whenever libcurl sends POST fields, a POST without a body included: it adds its
/// form type to those too.
enum CurlRequestHeaders {
    /// Whether libcurl sends this request's body as POST fields (`CurlEasyTransfer`), and so adds its form
    /// `Content-Type` unless told not to: any body, and a POST without one.
    static func sendsFields(method: String, bodyIsEmpty: Bool) -> Bool {
        !bodyIsEmpty || method.uppercased() == "POST"
    }

    static func lines(for headers: [(String, String)], hasBody: Bool) -> [String] {
        var lines: [String] = []
        lines.reserveCapacity(headers.count + 3)
        // Three flags, not a set of every name: hashing each header name cost more than building its line.
        var hasAccept = false
        var hasExpect = false
        var hasContentType = false
        for (name, value) in headers {
            guard name.isHTTPToken, value.isSafeHeaderValue else {
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

}
