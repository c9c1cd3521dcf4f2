import CCurl
import CSightlineSys
import Glibc
import HTTPServer

/// One curl multi handle of one `UpstreamClient`, driven by one HTTP server event loop: the upstream half
/// of a proxied request runs on the thread that owns its client connection, so upstream bytes reach the
/// client's socket without a thread hop or a wakeup.
///
/// libcurl tells it which sockets to watch (`CURLMOPT_SOCKETFUNCTION`, mapped to `EventLoopHandle.watch`)
/// and when to call back (`CURLMOPT_TIMERFUNCTION`); readiness and the timer go to
/// `curl_multi_socket_action`. One `timerfd` serves libcurl's timer and the transfers' own first-byte and
/// idle timers (the earliest of the two is armed; an early wakeup just re-arms). The transfers themselves
/// are kept by a `CurlTransferTable`. Commands arrive through `EventLoopHandle.execute`, so they never run
/// inside a libcurl callback. It does not outlive its loop: `loopDidStop` completes what is left as
/// cancelled. Emits nothing.
/// Concurrency: confined to its loop's thread; libcurl reaches it through unretained context pointers while
/// the loop's attachment table (or `shutDown`'s caller) holds it.
final class CurlLoopDriver: LoopDescriptorWatcher, LoopAttachment {
    /// libcurl's "now" timer (a timeout of 0) is run at once this many times before going through the loop.
    private static let immediateRounds = 4

    private let loop: EventLoopHandle
    /// Keeps the owner's identity (the attachment key) from being reused while this driver is attached.
    private let owner: AnyObject
    private let table: CurlTransferTable
    private let timerFD: Int32
    private var curlDeadline: UInt64?
    /// The earliest moment a transfer's own timer can fire (`CurlEasyTransfer.earliestDeadline`): no later
    /// byte can make a deadline come sooner, so waking then and rescanning never misses one.
    private var transferDeadline: UInt64?
    private var armedFor: UInt64?
    /// libcurl's sockets now in the loop's epoll: libcurl does not always say REMOVE for cached connections
    /// it closes during cleanup.
    private var watched = Set<Int32>()
    private var stopped = false

    /// Loop thread. Nil when libcurl or the kernel refuses a multi handle or a timerfd.
    init?(loop: EventLoopHandle, owner: AnyObject, configuration: UpstreamClientConfiguration) {
        guard let multi = curl_multi_init() else { return nil }
        let timer = sl_timerfd_create()
        guard timer >= 0 else {
            curl_multi_cleanup(multi)
            return nil
        }
        self.loop = loop
        self.owner = owner
        self.timerFD = timer
        self.table = CurlTransferTable(multi: multi, configuration: configuration)
        let context = Unmanaged.passUnretained(self).toOpaque()
        _ = sl_multi_setopt_socket_function(multi, Self.socketCallback)
        _ = sl_multi_setopt_pointer(multi, CURLMOPT_SOCKETDATA, context)
        _ = sl_multi_setopt_timer_function(multi, Self.timerCallback)
        _ = sl_multi_setopt_pointer(multi, CURLMOPT_TIMERDATA, context)
        loop.watch(timer, readable: true, writable: false, self)
    }

    // MARK: - Commands (loop thread, outside libcurl callbacks)

    func start(_ transfer: UpstreamTransfer, _ request: UpstreamRequest, _ delegate: any UpstreamDelegate) {
        guard !stopped else {
            delegate.upstreamDidComplete(.failure(UpstreamFailure(reason: .cancelled, detail: "client closed")))
            return
        }
        noteTransferDeadline(table.start(transfer, request, delegate))
        settle()
    }

    func cancel(_ id: UInt64) {
        guard !stopped else { return }
        table.cancel(id)
        settle()
    }

    func resume(_ id: UInt64) {
        guard !stopped else { return }
        noteTransferDeadline(table.resume(id))
        settle()
    }

    /// Completes every transfer as cancelled and frees the multi handle and the timer. Later commands are
    /// answered as cancelled.
    func shutDown(detail: String) {
        guard !stopped else { return }
        stopped = true
        table.shutDown(detail: detail)
        for fd in watched { loop.unwatch(fd) }
        watched = []
        loop.unwatch(timerFD)
        Glibc.close(timerFD)
    }

    func loopDidStop() { shutDown(detail: "client closed") }

    // MARK: - Readiness

    func loopDescriptorReady(_ fd: Int32, readable: Bool, writable: Bool, failed: Bool) {
        guard !stopped else { return }
        if fd == timerFD {
            _ = sl_timerfd_clear(fd)
            armedFor = nil
            let now = CurlEasyTransfer.now()
            if let deadline = curlDeadline, deadline <= now { runCurlTimeout() }
            if let deadline = transferDeadline, deadline <= now {
                transferDeadline = table.expireTimers(now: now)
            }
        } else {
            var mask: Int32 = 0
            if readable { mask |= CURL_CSELECT_IN }
            if writable { mask |= CURL_CSELECT_OUT }
            if failed { mask |= CURL_CSELECT_ERR }
            var running: Int32 = 0
            _ = curl_multi_socket_action(table.multi, fd, mask, &running)
        }
        settle()
    }

    /// After every call into libcurl: completes what finished, runs an immediate libcurl timer (bounded),
    /// and arms the timerfd for the earliest deadline left.
    private func settle() {
        table.reportFinished()
        var rounds = 0
        while rounds < Self.immediateRounds, let deadline = curlDeadline, deadline <= CurlEasyTransfer.now() {
            runCurlTimeout()
            table.reportFinished()
            rounds += 1
        }
        guard !stopped else { return }
        // Runs after every readiness event: plain optionals, no array for the two deadlines.
        guard let target = Self.earlier(curlDeadline, transferDeadline) else { return }
        // An earlier wakeup already armed re-arms when it fires.
        if let armedFor, armedFor <= target { return }
        let now = CurlEasyTransfer.now()
        armedFor = target
        _ = sl_timerfd_arm(timerFD, target > now ? target - now : 1)
    }

    private static func earlier(_ a: UInt64?, _ b: UInt64?) -> UInt64? {
        guard let a else { return b }
        guard let b else { return a }
        return min(a, b)
    }

    private func runCurlTimeout() {
        curlDeadline = nil
        var running: Int32 = 0
        _ = curl_multi_socket_action(table.multi, -1, 0, &running)  // CURL_SOCKET_TIMEOUT
    }

    private func noteTransferDeadline(_ deadline: UInt64?) {
        guard let deadline else { return }
        transferDeadline = min(transferDeadline ?? deadline, deadline)
    }

    // MARK: - libcurl callbacks (inside curl_multi_socket_action / add / remove: no multi calls here)

    fileprivate func socketChanged(_ fd: Int32, what: Int32) {
        if what == CURL_POLL_REMOVE {
            watched.remove(fd)
            loop.unwatch(fd)
        } else if loop.watch(fd, readable: what & CURL_POLL_IN != 0, writable: what & CURL_POLL_OUT != 0, self) {
            watched.insert(fd)
        }
    }

    fileprivate func timerChanged(milliseconds: Int) {
        curlDeadline = milliseconds < 0 ? nil : CurlEasyTransfer.now() &+ UInt64(milliseconds) &* 1_000_000
    }

    private static let socketCallback: curl_socket_callback = { _, fd, what, context, _ in
        guard let context else { return 0 }
        Unmanaged<CurlLoopDriver>.fromOpaque(context).takeUnretainedValue().socketChanged(fd, what: what)
        return 0
    }

    private static let timerCallback: curl_multi_timer_callback = { _, milliseconds, context in
        guard let context else { return 0 }
        Unmanaged<CurlLoopDriver>.fromOpaque(context).takeUnretainedValue().timerChanged(milliseconds: milliseconds)
        return 0
    }
}

/// Not `Sendable`: confined to its loop's thread (see the type's concurrency contract).
@available(*, unavailable)
extension CurlLoopDriver: Sendable {}
