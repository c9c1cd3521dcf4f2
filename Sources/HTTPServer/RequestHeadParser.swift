import Glibc

/// The validated result of one complete request head.
struct ParsedHead {
    var request: HTTPRequest
    var keepAlive: Bool
    var contentLength: Int?
    var chunked: Bool
    var expectsContinue: Bool
}

/// Parses one complete request head (request-line, fields, final CRLF) in a single pass.
///
/// Pure. Field names and values become `String`s; framing fields (`Content-Length`,
/// `Transfer-Encoding`, `Connection`, `Expect`) are interpreted here so the message framing is decided in
/// one place. Does not look at any other field's meaning.
enum RequestHeadParser {
    static func parse(_ head: UnsafeRawBufferPointer) -> Result<ParsedHead, HTTPParseError> {
        let base = head.baseAddress!
        let count = head.count
        func find(_ byte: UInt8, _ from: Int, _ to: Int) -> Int? {
            guard from < to, let hit = memchr(base + from, Int32(byte), to - from) else { return nil }
            return base.distance(to: UnsafeRawPointer(hit))
        }
        func string(_ from: Int, _ to: Int) -> String {
            String(
                decoding: UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self) + from, count: to - from),
                as: UTF8.self
            )
        }

        // Request-line: method SP request-target SP HTTP-version CRLF. The caller guarantees CRLF endings.
        guard let firstLF = find(ASCII.lf, 0, count) else { return .failure(.malformed("Missing request line.")) }
        let lineEnd = firstLF - 1
        guard let sp1 = find(ASCII.space, 0, lineEnd), sp1 > 0,
            let sp2 = find(ASCII.space, sp1 + 1, lineEnd), sp2 > sp1 + 1
        else { return .failure(.malformed("Malformed request line.")) }
        for i in 0..<sp1 where !ASCII.isTokenChar(head[i]) {
            return .failure(.malformed("Invalid method."))
        }
        for i in (sp1 + 1)..<sp2 where head[i] <= 0x20 || head[i] == 0x7F {
            return .failure(.malformed("Invalid request target."))
        }
        guard lineEnd - sp2 - 1 == 8, memcmp(base + sp2 + 1, "HTTP/1.", 7) == 0,
            head[lineEnd - 1] == 0x30 || head[lineEnd - 1] == 0x31
        else { return .failure(.malformed("Unsupported HTTP version.")) }
        let minor = Int(head[lineEnd - 1] - 0x30)

        var headers = HTTPHeaders()
        var contentLength: Int?
        var sawTransferEncoding = false
        var codings: [Substring] = []
        var closeToken = false
        var keepAliveToken = false
        var expectsContinue = false
        var lineStart = firstLF + 1
        while true {
            guard let lf = find(ASCII.lf, lineStart, count) else { return .failure(.malformed("Truncated head.")) }
            let end = lf - 1
            if end == lineStart { break }
            let first = head[lineStart]
            if first == ASCII.space || first == ASCII.tab {
                return .failure(.malformed("Obsolete line folding is not accepted."))
            }
            guard let colon = find(ASCII.colon, lineStart, end), colon > lineStart else {
                return .failure(.malformed("Malformed header field."))
            }
            for i in lineStart..<colon where !ASCII.isTokenChar(head[i]) {
                return .failure(.malformed("Invalid header field name."))
            }
            var vStart = colon + 1
            var vEnd = end
            while vStart < vEnd && (head[vStart] == ASCII.space || head[vStart] == ASCII.tab) { vStart += 1 }
            while vEnd > vStart && (head[vEnd - 1] == ASCII.space || head[vEnd - 1] == ASCII.tab) { vEnd -= 1 }
            for i in vStart..<vEnd where !ASCII.isFieldValueChar(head[i]) {
                return .failure(.malformed("Invalid header field value."))
            }
            let name = string(lineStart, colon)
            let value = string(vStart, vEnd)
            headers.add(name, value)
            lineStart = lf + 1

            switch name.utf8.count {
            case 14 where HTTPHeaders.equalFold(name, "content-length"):
                for part in value.split(separator: ",", omittingEmptySubsequences: false) {
                    let digits = part.trimmingSpacesAndTabs()
                    guard !digits.isEmpty, digits.utf8.count <= 18, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                        let parsed = Int(digits)
                    else { return .failure(.malformed("Invalid Content-Length.")) }
                    if let existing = contentLength, existing != parsed {
                        return .failure(.malformed("Conflicting Content-Length values."))
                    }
                    contentLength = parsed
                }
            case 17 where HTTPHeaders.equalFold(name, "transfer-encoding"):
                sawTransferEncoding = true
                for part in value.split(separator: ",") {
                    let coding = part.trimmingSpacesAndTabs()
                    if !coding.isEmpty { codings.append(coding) }
                }
            case 10 where HTTPHeaders.equalFold(name, "connection"):
                for part in value.split(separator: ",") {
                    let token = String(part.trimmingSpacesAndTabs())
                    if HTTPHeaders.equalFold(token, "close") { closeToken = true }
                    if HTTPHeaders.equalFold(token, "keep-alive") { keepAliveToken = true }
                }
            case 6 where HTTPHeaders.equalFold(name, "expect"):
                guard HTTPHeaders.equalFold(value, "100-continue") else { return .failure(.expectationFailed) }
                // RFC 9110 §10.1.1: a server ignores 100-continue from an HTTP/1.0 client.
                expectsContinue = minor >= 1
            default:
                break
            }
        }

        var chunked = false
        if sawTransferEncoding {
            guard contentLength == nil else {
                return .failure(.malformed("Content-Length and Transfer-Encoding must not both be present."))
            }
            guard minor >= 1 else { return .failure(.malformed("Transfer-Encoding is not allowed in HTTP/1.0.")) }
            guard codings.count == 1, HTTPHeaders.equalFold(String(codings[0]), "chunked") else {
                return .failure(.malformed("Only the chunked transfer coding is supported."))
            }
            chunked = true
        }
        let keepAlive = minor >= 1 ? !closeToken : (keepAliveToken && !closeToken)
        let request = HTTPRequest(
            method: string(0, sp1),
            target: string(sp1 + 1, sp2),
            minorVersion: minor,
            headers: headers
        )
        let bodyFollows = chunked || (contentLength ?? 0) > 0
        return .success(
            ParsedHead(
                request: request,
                keepAlive: keepAlive,
                contentLength: contentLength,
                chunked: chunked,
                expectsContinue: expectsContinue && bodyFollows
            )
        )
    }
}

extension Substring {
    func trimmingSpacesAndTabs() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
