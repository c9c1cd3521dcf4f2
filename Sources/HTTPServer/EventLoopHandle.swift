import CSightlineSys
import Glibc

/// Receives epoll readiness for a file descriptor that code outside `HTTPServer` watches on a loop
/// (`EventLoopHandle.watch`). Called on the loop thread only, between connection events; it must not block.
public protocol LoopDescriptorWatcher: AnyObject {
    /// `readable`/`writable` as epoll reported them; `failed` for `EPOLLERR`/`EPOLLHUP`.
    func loopDescriptorReady(_ fd: Int32, readable: Bool, writable: Bool, failed: Bool)
}

/// Per-loop state that code outside `HTTPServer` attaches to a loop (`EventLoopHandle.setAttachment`).
/// `loopDidStop` runs once on the loop thread as the loop exits, after every connection closed and their
/// `onClose` callbacks ran: the attachment must finish what it still holds there (nothing runs later).
public protocol LoopAttachment: AnyObject {
    func loopDidStop()
}

/// A handle on the event loop that owns one connection, for code that wants to do its own I/O on that
/// loop's thread instead of on a thread of its own (the proxy's upstream transfers run here, so a
/// streamed response never crosses threads).
///
/// It offers three things: closures run on the loop thread (`execute`), descriptors watched in the loop's
/// epoll (`watch`), and per-loop attachments keyed by their owner, told when the loop stops.
/// It does not offer timers: a watcher that needs one watches a `timerfd`.
/// Concurrency: `Sendable`. `execute` and `isCurrent` may be called from any thread; every other method only
/// on the loop thread (checked with a precondition: misuse would corrupt loop-confined state).
public struct EventLoopHandle: Sendable, Hashable {
    let loop: EventLoop

    init(_ loop: EventLoop) { self.loop = loop }

    public static func == (a: EventLoopHandle, b: EventLoopHandle) -> Bool { a.loop === b.loop }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(loop)) }

    /// True on this loop's thread.
    public var isCurrent: Bool { loop.isLoopThread }

    /// Runs `work` on the loop thread. On the loop thread itself it runs after the current operation (never
    /// re-entrantly: a caller inside a callback may use it to leave that callback first); from any other
    /// thread it is queued and the loop woken. Returns false, and drops `work`, once the loop has stopped.
    @discardableResult
    public func execute(_ work: @escaping @Sendable () -> Void) -> Bool {
        if loop.isLoopThread && !loop.stopped {
            loop.deferred.append(work)
            return true
        }
        return loop.submitReporting(.run(work))
    }

    /// Loop thread: starts (or changes) watching `fd`. Events arrive level-triggered until `unwatch`.
    /// Returns false if epoll refused the descriptor.
    @discardableResult
    public func watch(_ fd: Int32, readable: Bool, writable: Bool, _ watcher: any LoopDescriptorWatcher) -> Bool {
        precondition(loop.isLoopThread, "EventLoopHandle.watch off the loop thread")
        return loop.watchExternal(fd, readable: readable, writable: writable, watcher)
    }

    /// Loop thread: stops watching `fd` (a no-op when it is not watched).
    public func unwatch(_ fd: Int32) {
        precondition(loop.isLoopThread, "EventLoopHandle.unwatch off the loop thread")
        loop.unwatchExternal(fd)
    }

    /// Loop thread: the attachment stored under `key`, if any.
    public func attachment(_ key: ObjectIdentifier) -> (any LoopAttachment)? {
        precondition(loop.isLoopThread, "EventLoopHandle.attachment off the loop thread")
        return loop.attachments[key]
    }

    /// Loop thread: stores (or, with nil, removes) the attachment under `key`. Refused (false) once the loop
    /// is stopping, because its `loopDidStop` would never run.
    @discardableResult
    public func setAttachment(_ attachment: (any LoopAttachment)?, for key: ObjectIdentifier) -> Bool {
        precondition(loop.isLoopThread, "EventLoopHandle.setAttachment off the loop thread")
        if attachment != nil && loop.stopped { return false }
        loop.attachments[key] = attachment
        return true
    }
}

extension EventLoop {
    /// The generation of watched external descriptors' epoll tokens (connections never get it).
    static let externalGeneration: UInt32 = .max

    var isLoopThread: Bool { pthread_equal(pthread_self(), pthread_t(ownerThread.load(ordering: .relaxed))) != 0 }

    func watchExternal(_ fd: Int32, readable: Bool, writable: Bool, _ watcher: any LoopDescriptorWatcher) -> Bool {
        var events: UInt32 = 0
        if readable { events |= sl_epollin() }
        if writable { events |= sl_epollout() }
        let token = Self.token(fd: fd, generation: Self.externalGeneration)
        let known = externals[fd] != nil
        externals[fd] = watcher
        if known, sl_epoll_ctl(epollFD, Int32(EPOLL_CTL_MOD), fd, events, token) == 0 { return true }
        if sl_epoll_ctl(epollFD, Int32(EPOLL_CTL_ADD), fd, events, token) == 0 { return true }
        // A descriptor closed and its number reused leaves a stale registration either way round.
        if errno == EEXIST, sl_epoll_ctl(epollFD, Int32(EPOLL_CTL_MOD), fd, events, token) == 0 { return true }
        externals[fd] = nil
        return false
    }

    func unwatchExternal(_ fd: Int32) {
        guard externals.removeValue(forKey: fd) != nil else { return }
        _ = sl_epoll_ctl(epollFD, Int32(EPOLL_CTL_DEL), fd, 0, 0)
    }

    func dispatchExternal(_ fd: Int32, _ events: UInt32) {
        guard let watcher = externals[fd] else { return }
        watcher.loopDescriptorReady(
            fd,
            readable: events & sl_epollin() != 0,
            writable: events & sl_epollout() != 0,
            failed: events & (sl_epollerr() | sl_epollhup()) != 0
        )
    }
}
