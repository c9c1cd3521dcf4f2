import CSightlineSys
import Foundation
import Glibc

/// One load run's settings.
struct LoadSpec {
    var host = "127.0.0.1"
    var port = 0
    /// The request head without the final blank line is built from these.
    var path = "/backend-api/codex/responses"
    var headers: [(String, String)] = []
    var body: [UInt8] = []
    var concurrency = 1
    var requests = 100
    var maxSeconds = 30.0
    var requestTimeoutSeconds = 60.0
    /// Close the connection after reading the first SSE event (the disconnect probe).
    var abandonAfterFirstEvent = false
    /// Connection i starts its first request at i/concurrency × rampSeconds, so a closed loop does not begin
    /// with every request arriving in the same millisecond (a start-up burst, not steady state).
    var rampSeconds = 0.0
    /// Distinguishes runs' `session_id`s, so one run's conversations do not inherit another's affinity.
    var sessionPrefix = "s"
    /// Processes whose RSS is sampled during the run (peak kept).
    var sampledPIDs: [Int32] = []
}

/// What one run measured. Latencies are per request in nanoseconds, successful requests only.
struct LoadResult {
    var ttfb: [UInt64] = []
    var firstEvent: [UInt64] = []
    var full: [UInt64] = []
    var completed = 0
    var errors = 0
    var errorStatuses: [Int: Int] = [:]
    var events = 0
    var wallSeconds = 0.0
    var peakRSS = 0
    var peakConcurrent = 0
    /// When the last abandoned stream was closed (`abandonAfterFirstEvent`).
    var abandonedAt: UInt64 = 0
}

/// A single-threaded epoll HTTP/1.1 load generator that times every request itself.
///
/// Keeps `concurrency` connections busy with keep-alive requests until `requests` were started or
/// `maxSeconds` passed, whichever first; reconnects when a server closes. Times, per request: first
/// response byte, first complete SSE event and the end of the body, from the moment the request was
/// started (connect included for a fresh connection). Loopback only. Not thread-safe; `run` blocks.
final class LoadClient {
    final class Conn {
        var fd: Int32 = -1
        var connected = false
        var writeOffset = 0
        var started: UInt64 = 0
        var ttfb: UInt64 = 0
        var firstEvent: UInt64 = 0
        var reader = ResponseReader()
        var active = false
        var head: [UInt8] = []
    }

    let spec: LoadSpec
    private let body: [UInt8]
    private var result = LoadResult()
    private var conns: [Conn] = []
    private var startedRequests = 0
    private var epfd: Int32 = -1

    init(spec: LoadSpec) {
        self.spec = spec
        body = spec.body
    }

    /// The request head for connection `i`: each connection is its own conversation (`session_id`), as
    /// concurrent Codex sessions are, so a proxy that keeps a conversation on one account spreads them.
    private func head(for i: Int) -> [UInt8] {
        var head = "POST \(spec.path) HTTP/1.1\r\nhost: \(spec.host):\(spec.port)\r\n"
        head += "content-type: application/json\r\naccept: text/event-stream\r\n"
        head += "content-length: \(spec.body.count)\r\nsession_id: bench-\(spec.sessionPrefix)-\(i)\r\n"
        for (k, v) in spec.headers { head += "\(k): \(v)\r\n" }
        head += "\r\n"
        return Array(head.utf8)
    }

    func run() -> LoadResult {
        epfd = epoll_create1(Int32(EPOLL_CLOEXEC))
        defer { close(epfd) }
        let begin = MonotonicClock.nanoseconds()
        let deadline = begin + UInt64(spec.maxSeconds * 1e9)
        for i in 0..<spec.concurrency {
            let c = Conn()
            c.head = head(for: i)
            conns.append(c)
        }
        var notStarted = 0  // connections 0..<notStarted have made their first request
        var events = [sl_epoll_event](repeating: sl_epoll_event(), count: 1024)
        var lastSample: UInt64 = 0
        while notStarted < conns.count || conns.contains(where: { $0.active }) {
            let now = MonotonicClock.nanoseconds()
            while notStarted < conns.count,
                begin + UInt64(spec.rampSeconds * 1e9 * Double(notStarted) / Double(conns.count)) <= now
            {
                if now < deadline { startRequest(notStarted, now: now) }
                notStarted += 1
            }
            if now > deadline + UInt64(spec.requestTimeoutSeconds * 1e9) { break }
            if now - lastSample > 50_000_000 {
                lastSample = now
                sample()
                expire(now: now)
            }
            let wait: Int32 = notStarted < conns.count ? 1 : 50
            let n = events.withUnsafeMutableBufferPointer { sl_epoll_wait(epfd, $0.baseAddress, 1024, wait) }
            if n <= 0 { continue }
            for k in 0..<Int(n) {
                let idx = Int(events[k].token)
                handle(idx, events: events[k].events, deadline: deadline)
            }
        }
        for (i, c) in conns.enumerated() where c.active {
            result.errors += 1
            closeConn(i)
        }
        for c in conns where c.fd >= 0 { close(c.fd) }
        sample()
        result.wallSeconds = Double(MonotonicClock.nanoseconds() - begin) / 1e9
        return result
    }

    private func sample() {
        guard !spec.sampledPIDs.isEmpty else { return }
        let rss = spec.sampledPIDs.reduce(0) { $0 + ProcessProbe(rootPID: $1).rssBytes() }
        result.peakRSS = max(result.peakRSS, rss)
        result.peakConcurrent = max(result.peakConcurrent, conns.filter { $0.active && $0.ttfb > 0 }.count)
    }

    private func expire(now: UInt64) {
        let limit = UInt64(spec.requestTimeoutSeconds * 1e9)
        for (i, c) in conns.enumerated() where c.active && now - c.started > limit {
            fail(i, status: -2, deadline: 0)
        }
    }

    private func startRequest(_ i: Int, now: UInt64) {
        guard startedRequests < spec.requests else { conns[i].active = false; return }
        startedRequests += 1
        let c = conns[i]
        c.active = true
        c.started = now
        c.ttfb = 0
        c.firstEvent = 0
        c.writeOffset = 0
        c.reader.reset()
        if c.fd < 0 {
            let fd = sl_connect_tcp(spec.host, Int32(spec.port))
            guard fd >= 0 else {
                result.errors += 1; result.errorStatuses[-1, default: 0] += 1; c.active = false; return
            }
            _ = sl_set_nodelay(fd)
            c.fd = fd
            c.connected = false
            _ = sl_epoll_ctl(
                epfd,
                Int32(EPOLL_CTL_ADD),
                fd,
                sl_epollin() | sl_epollout() | sl_epollrdhup() | sl_epollet(),
                UInt64(i)
            )
        } else {
            c.connected = true
            flushWrite(i)
        }
    }

    private func handle(_ i: Int, events: UInt32, deadline: UInt64) {
        let c = conns[i]
        guard c.active, c.fd >= 0 else { return }
        if !c.connected {
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len)
            if err != 0 { fail(i, status: -1, deadline: deadline); return }
            c.connected = true
        }
        if c.writeOffset < c.head.count + body.count { flushWrite(i) }
        if events & (sl_epollin() | sl_epollhup() | sl_epollrdhup() | sl_epollerr()) != 0 {
            readAll(i, deadline: deadline)
        }
    }

    private func flushWrite(_ i: Int) {
        let c = conns[i]
        let total = c.head.count + body.count
        while c.writeOffset < total {
            let fromHead = c.writeOffset < c.head.count
            let n = (fromHead ? c.head : body).withUnsafeBytes { p in
                let start = fromHead ? c.writeOffset : c.writeOffset - c.head.count
                return send(c.fd, p.baseAddress! + start, p.count - start, Int32(MSG_NOSIGNAL))
            }
            if n > 0 { c.writeOffset += n; continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
            if n < 0 && errno == EINTR { continue }
            return  // the read side reports the failure
        }
    }

    private static let bufferSize = 256 * 1024
    private var buffer = [UInt8](repeating: 0, count: LoadClient.bufferSize)

    private func readAll(_ i: Int, deadline: UInt64) {
        let c = conns[i]
        while c.active {
            let n = buffer.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return }
                fail(i, status: -1, deadline: deadline)
                return
            }
            let now = MonotonicClock.nanoseconds()
            if n == 0 {
                c.reader.endOfInput()
                if c.reader.complete {
                    finish(i, now: now, deadline: deadline, reuse: false)
                } else {
                    fail(i, status: -1, deadline: deadline)
                }
                return
            }
            if c.ttfb == 0 { c.ttfb = now - c.started }
            let before = c.reader.events
            buffer.withUnsafeBufferPointer { c.reader.feed(UnsafeBufferPointer(rebasing: $0[0..<n])) }
            if before == 0 && c.reader.events > 0 {
                c.firstEvent = now - c.started
                if spec.abandonAfterFirstEvent {
                    result.ttfb.append(c.ttfb)
                    result.firstEvent.append(c.firstEvent)
                    result.completed += 1
                    closeConn(i)
                    result.abandonedAt = MonotonicClock.nanoseconds()
                    c.active = false
                    return
                }
            }
            if c.reader.failed { fail(i, status: -3, deadline: deadline); return }
            if c.reader.complete { finish(i, now: now, deadline: deadline, reuse: !c.reader.closeAfter); return }
        }
    }

    private func finish(_ i: Int, now: UInt64, deadline: UInt64, reuse: Bool) {
        let c = conns[i]
        if c.reader.status == 200 {
            result.completed += 1
            result.events += c.reader.events
            result.ttfb.append(c.ttfb)
            result.firstEvent.append(c.firstEvent > 0 ? c.firstEvent : now - c.started)
            result.full.append(now - c.started)
        } else {
            result.errors += 1
            result.errorStatuses[c.reader.status, default: 0] += 1
        }
        if !reuse { closeConn(i) }
        c.active = false
        if now < deadline { startRequest(i, now: now) }
    }

    private func fail(_ i: Int, status: Int, deadline: UInt64) {
        result.errors += 1
        result.errorStatuses[status, default: 0] += 1
        closeConn(i)
        conns[i].active = false
        let now = MonotonicClock.nanoseconds()
        if now < deadline { startRequest(i, now: now) }
    }

    private func closeConn(_ i: Int) {
        let c = conns[i]
        guard c.fd >= 0 else { return }
        _ = sl_epoll_ctl(epfd, Int32(EPOLL_CTL_DEL), c.fd, 0, 0)
        close(c.fd)
        c.fd = -1
        c.connected = false
    }
}
