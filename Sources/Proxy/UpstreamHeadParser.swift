/// Assembles the final response head from the header lines libcurl hands to `CURLOPT_HEADERFUNCTION`.
///
/// libcurl passes one line per call: the status line, each header, then an empty line, for every response
/// on the wire, interim `1xx` ones included, plus trailers after a chunked body. This parser keeps only the
/// final response: a `1xx` head is discarded at its empty line, and everything after the final head
/// (trailers) is ignored. Obsolete line folding is joined to the previous value with one space. Bytes
/// are decoded as UTF-8 with replacement.
///
/// Pure: no I/O. Concurrency: a value owned by one transfer on its driver's thread.
struct UpstreamHeadParser: Sendable {
    struct Head: Sendable {
        var status: Int
        var headers: [(String, String)]
    }

    private var status: Int?
    private var headers: [(String, String)] = []
    private(set) var isComplete = false

    init() {}

    /// Feeds one raw header line (with or without its CRLF). Returns the head once, when the final
    /// response's empty line arrives.
    mutating func consume(_ raw: UnsafeRawBufferPointer) -> Head? {
        guard !isComplete else { return nil }
        // Trim bytes, not Characters: Swift treats "\r\n" as one Character.
        var end = raw.count
        while end > 0, raw[end - 1] == UInt8(ascii: "\n") || raw[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return consume(line: String(decoding: UnsafeRawBufferPointer(rebasing: raw[..<end]), as: UTF8.self))
    }

    mutating func consume(line: String) -> Head? {
        guard !isComplete else { return nil }
        if line.isEmpty {
            guard let status else { return nil }
            if (100..<200).contains(status) {
                self.status = nil
                headers = []
                return nil
            }
            isComplete = true
            return Head(status: status, headers: headers)
        }
        if line.hasPrefix("HTTP/") {
            // A new status line starts a new response: forget any earlier interim head.
            let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            status = parts.count >= 2 ? Int(parts[1]) : nil
            headers = []
            return nil
        }
        if let first = line.first, first == " " || first == "\t" {
            if !headers.isEmpty {
                let folded = line.trimmingWhitespace()
                headers[headers.count - 1].1 += headers[headers.count - 1].1.isEmpty ? folded : " " + folded
            }
            return nil
        }
        guard let colon = line.firstIndex(of: ":") else { return nil }
        let name = String(line[..<colon]).trimmingWhitespace()
        let value = String(line[line.index(after: colon)...]).trimmingWhitespace()
        if !name.isEmpty { headers.append((name, value)) }
        return nil
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
