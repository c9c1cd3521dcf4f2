import Glibc

/// Incremental HTTP/1.1 request parser: bytes in, events out.
///
/// Pure: no I/O, no clock, no logging. The caller keeps the unconsumed bytes and presents them again with
/// whatever arrives next; bytes after a complete request stay with the caller for the next one, so
/// pipelining is safe. The head is found with `memchr` and validated in one pass once complete.
/// It rejects what could smuggle a request: obs-fold, bare LF, bad tokens, conflicting or non-numeric
/// `Content-Length`, `Content-Length` together with `Transfer-Encoding`, and any transfer coding other
/// than `chunked`. It does not decode `Content-Encoding`, and it accepts HTTP/1.1 without `Host`.
/// Concurrency: a value owned by one connection.
struct HTTPRequestParser {
    enum Event {
        /// Everything useful was consumed; present the rest again with more bytes.
        case needMore
        /// The head was accepted and a body follows. `expectsContinue`: the client waits for `100 Continue`.
        case head(expectsContinue: Bool)
        case request(HTTPRequest, keepAlive: Bool)
        /// The request is refused; the connection must answer `error.status` and close.
        case failed(HTTPParseError)
    }

    private enum State {
        case head(scanned: Int)
        case fixedBody(remaining: Int)
        case chunked(ChunkedDecoder)
        case failed
    }

    let maxHeaderBytes: Int
    let maxBodyBytes: Int
    private var state = State.head(scanned: 0)
    private var pending: HTTPRequest?
    private var pendingKeepAlive = true
    private var body: [UInt8] = []

    init(maxHeaderBytes: Int, maxBodyBytes: Int) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
    }

    /// True between an accepted head and the end of its body.
    var isReadingBody: Bool {
        switch state {
        case .fixedBody, .chunked: true
        case .head, .failed: false
        }
    }

    mutating func parse(_ bytes: UnsafeRawBufferPointer) -> (consumed: Int, event: Event) {
        switch state {
        case .head(let scanned):
            return parseHead(bytes, scanned: scanned)
        case .fixedBody(let remaining):
            let take = min(remaining, bytes.count)
            body.appendRaw(UnsafeRawBufferPointer(rebasing: bytes[0..<take]))
            if take == remaining { return (take, completeRequest()) }
            state = .fixedBody(remaining: remaining - take)
            return (take, .needMore)
        case .chunked(var decoder):
            let (consumed, result) = decoder.decode(bytes, into: &body, maxBodyBytes: maxBodyBytes)
            switch result {
            case .needMore:
                state = .chunked(decoder)
                return (consumed, .needMore)
            case .done:
                return (consumed, completeRequest())
            case .failed(let error):
                return fail(error, consumed: consumed)
            }
        case .failed:
            return (0, .needMore)
        }
    }

    private mutating func completeRequest() -> Event {
        var request = pending!
        pending = nil
        request.body = body
        body = []
        state = .head(scanned: 0)
        return .request(request, keepAlive: pendingKeepAlive)
    }

    private mutating func fail(_ error: HTTPParseError, consumed: Int) -> (consumed: Int, event: Event) {
        state = .failed
        pending = nil
        body = []
        return (consumed, .failed(error))
    }

    private mutating func parseHead(_ bytes: UnsafeRawBufferPointer, scanned: Int) -> (consumed: Int, event: Event) {
        let n = bytes.count
        guard n > 0, let base = bytes.baseAddress else { return (0, .needMore) }
        var start = 0
        if scanned == 0 {
            // RFC 9112 §2.2: ignore empty lines before the request-line (some clients send a stray CRLF).
            while start + 1 < n && bytes[start] == ASCII.cr && bytes[start + 1] == ASCII.lf { start += 2 }
            if start == n || (start + 1 == n && bytes[start] == ASCII.cr) { return (start, .needMore) }
        }
        var searchFrom = start + max(0, scanned - 3)
        var end = -1
        while searchFrom < n {
            guard let hit = memchr(base + searchFrom, Int32(ASCII.lf), n - searchFrom) else { break }
            let idx = base.distance(to: UnsafeRawPointer(hit))
            if idx == start || bytes[idx - 1] != ASCII.cr {
                return fail(.malformed("Request head contains a bare LF."), consumed: 0)
            }
            if idx - start >= 3 && bytes[idx - 2] == ASCII.lf && bytes[idx - 3] == ASCII.cr {
                end = idx + 1
                break
            }
            searchFrom = idx + 1
        }
        guard end >= 0 else {
            if n - start > maxHeaderBytes { return fail(.headerTooLarge, consumed: 0) }
            state = .head(scanned: n - start)
            return (start, .needMore)
        }
        if end - start > maxHeaderBytes { return fail(.headerTooLarge, consumed: 0) }
        let parsed: ParsedHead
        switch RequestHeadParser.parse(UnsafeRawBufferPointer(rebasing: bytes[start..<end])) {
        case .failure(let error): return fail(error, consumed: end)
        case .success(let head): parsed = head
        }
        if parsed.chunked {
            pending = parsed.request
            pendingKeepAlive = parsed.keepAlive
            state = .chunked(ChunkedDecoder(maxMetadataBytes: maxHeaderBytes))
            return (end, .head(expectsContinue: parsed.expectsContinue))
        }
        let length = parsed.contentLength ?? 0
        if length > maxBodyBytes { return fail(.bodyTooLarge, consumed: end) }
        if length > 0 {
            pending = parsed.request
            pendingKeepAlive = parsed.keepAlive
            // Reserve only a bounded amount: a client may announce a large body and never send it.
            body.reserveCapacity(min(length, 1 << 20))
            state = .fixedBody(remaining: length)
            return (end, .head(expectsContinue: parsed.expectsContinue))
        }
        state = .head(scanned: 0)
        return (end, .request(parsed.request, keepAlive: parsed.keepAlive))
    }
}
