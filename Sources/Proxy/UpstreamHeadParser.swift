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
        // Bytes, not Characters, throughout: Character-level String work was 5% of a proxied request's
        // instructions (and Swift treats "\r\n" as one Character).
        let line = raw.assumingMemoryBound(to: UInt8.self)
        var end = line.count
        while end > 0, line[end - 1] == UInt8(ascii: "\n") || line[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        if end == 0 {
            guard let status else { return nil }
            if (100..<200).contains(status) {
                self.status = nil
                headers = []
                return nil
            }
            isComplete = true
            return Head(status: status, headers: headers)
        }
        if end >= 5, line[0] == UInt8(ascii: "H"), line[1] == UInt8(ascii: "T"), line[2] == UInt8(ascii: "T"),
            line[3] == UInt8(ascii: "P"), line[4] == UInt8(ascii: "/")
        {
            // A new status line starts a new response: forget any earlier interim head.
            status = Self.statusCode(line, end)
            headers = []
            return nil
        }
        if Self.isBlank(line[0]) {
            if !headers.isEmpty {
                let folded = Self.text(line, Self.trimmed(line, 0..<end))
                headers[headers.count - 1].1 += headers[headers.count - 1].1.isEmpty ? folded : " " + folded
            }
            return nil
        }
        guard let colon = line[..<end].firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let name = Self.trimmed(line, 0..<colon)
        if !name.isEmpty {
            headers.append((Self.text(line, name), Self.text(line, Self.trimmed(line, colon + 1..<end))))
        }
        return nil
    }

    mutating func consume(line: String) -> Head? {
        var line = line
        return line.withUTF8 { consume(UnsafeRawBufferPointer($0)) }
    }

    private static func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    private static func trimmed(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, isBlank(line[lower]) { lower += 1 }
        while upper > lower, isBlank(line[upper - 1]) { upper -= 1 }
        return lower..<upper
    }

    private static func text(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: line[range]), as: UTF8.self)
    }

    /// The second space-separated field of a status line as a number (`HTTP/1.1 200 OK`, `HTTP/2 429`).
    private static func statusCode(_ line: UnsafeBufferPointer<UInt8>, _ end: Int) -> Int? {
        var i = 0
        while i < end, line[i] != UInt8(ascii: " ") { i += 1 }
        while i < end, line[i] == UInt8(ascii: " ") { i += 1 }
        var code = 0
        var digits = 0
        while i < end, line[i] != UInt8(ascii: " ") {
            guard line[i] >= UInt8(ascii: "0"), line[i] <= UInt8(ascii: "9"), digits < 4 else { return nil }
            code = code * 10 + Int(line[i] - UInt8(ascii: "0"))
            digits += 1
            i += 1
        }
        return digits > 0 ? code : nil
    }
}
