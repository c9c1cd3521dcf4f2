import CSightlineSys
import Dispatch
import Glibc
import LogRedaction
import Synchronization

/// One epoll event loop on its own thread, with its own `SO_REUSEPORT` listener and connections.
///
/// Level-triggered epoll; the `epoll_wait` timeout (250 ms) doubles as a coarse timer: each sweep checks
/// every connection's deadline, so no timer per connection exists. Other threads talk to the loop only
/// through `submit`: a `Mutex`-guarded task queue plus an `eventfd` wakeup.
/// Does not balance connections between loops: the kernel's `SO_REUSEPORT` hashing does that.
/// Concurrency: `@unchecked Sendable` because the queue, the fds and `ownerThread` are safe from any thread
/// while everything else (connections, `draining`, `dirty`, `deferred`, …) is confined to the loop thread.
final class EventLoop: @unchecked Sendable {
    private struct TaskQueue {
        var tasks: [LoopTask] = []
        var stopped = false
    }

    static let wakeGeneration: UInt64 = 0
    static let sweepIntervalNanoseconds: UInt64 = 250_000_000

    let core: ServerCore
    let epollFD: Int32
    let wakeFD: Int32
    private let queue = Mutex(TaskQueue())
    /// Bumped (release) as a task is queued and read (acquire) as tasks are taken, both under `queue`'s lock:
    /// it orders nothing the lock does not, but ThreadSanitizer cannot see `Mutex`'s own happens-before edge
    /// (its futex is not intercepted) and would report every value handed to the loop through a task.
    private let handOff = Atomic<UInt64>(0)
    let ownerThread = Atomic<UInt>(0)

    // Loop-thread state.
    var listenerFD: Int32
    private var acceptPaused = false
    private var connections: [Connection?] = []
    private(set) var connectionCount = 0
    private var nextGeneration: UInt32 = 1
    private(set) var now: UInt64 = 0
    private(set) var draining = false
    private var exitRequested = false
    private var batch: [LoopTask] = []
    private var batchIndex = 0
    /// Connections with new output; flushed once per loop phase so a burst of writes costs one `send`.
    var dirty: [Connection] = []
    /// Callbacks (onWritable, onClose) run after the current connection operation, never re-entrantly.
    var deferred: [@Sendable () -> Void] = []
    /// Spare buffers `settle` swaps with `dirty` and `deferred` while it walks them.
    private var flushing: [Connection] = []
    private var running: [@Sendable () -> Void] = []
    /// Descriptors watched for code outside HTTPServer (`EventLoopHandle.watch`), by fd.
    var externals: [Int32: any LoopDescriptorWatcher] = [:]
    /// Per-loop state of code outside HTTPServer (`EventLoopHandle.setAttachment`), told when the loop stops.
    var attachments: [ObjectIdentifier: any LoopAttachment] = [:]
    /// Set as the loop starts to close everything: attachments are refused from then on.
    private(set) var stopped = false
    let readScratch: UnsafeMutableRawBufferPointer

    init(core: ServerCore, listenerFD: Int32) throws {
        self.core = core
        self.listenerFD = listenerFD
        let ep = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard ep >= 0 else { throw HTTPServerError(reason: "epoll_create_failed", errno: errno) }
        let wake = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard wake >= 0 else {
            let e = errno
            Glibc.close(ep)
            throw HTTPServerError(reason: "eventfd_failed", errno: e)
        }
        epollFD = ep
        wakeFD = wake
        readScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        _ = sl_epoll_ctl(ep, Int32(EPOLL_CTL_ADD), wake, sl_epollin(), Self.token(fd: wake, generation: 0))
        _ = sl_epoll_ctl(ep, Int32(EPOLL_CTL_ADD), listenerFD, sl_epollin(), Self.token(fd: listenerFD, generation: 0))
    }

    deinit { readScratch.deallocate() }

    static func token(fd: Int32, generation: UInt32) -> UInt64 { UInt64(generation) << 32 | UInt64(UInt32(fd)) }

    // MARK: Any thread

    /// Queues `task` for the loop thread and wakes it. Dropped once the loop has stopped.
    func submit(_ task: LoopTask) {
        submitReporting(task)
    }

    /// `submit`, telling whether the task was queued (false once the loop has stopped).
    @discardableResult
    func submitReporting(_ task: LoopTask) -> Bool {
        queue.withLock { q in
            guard !q.stopped else { return false }
            let wasEmpty = q.tasks.isEmpty
            q.tasks.append(task)
            handOff.add(1, ordering: .releasing)
            // Written under the lock: the loop closes `wakeFD` under the same lock, so the fd cannot be
            // closed (and its number reused) between the check and the write.
            if wasEmpty {
                var one: UInt64 = 1
                _ = Glibc.write(wakeFD, &one, 8)
            }
            return true
        }
    }

    /// Runs `task` at once when called on the loop thread with nothing queued before it (the handler
    /// answering synchronously: no queue, no wakeup); otherwise queues it, keeping submission order.
    func perform(_ task: LoopTask) {
        if canRunInline {
            execute(task)
        } else {
            submit(task)
        }
    }

    /// `perform(.write(responder, bytes))` for bytes the caller does not own: appended straight to the
    /// connection's output when that can run at once, copied into a task only when it must be queued.
    /// With `flush`, bytes written at once also go to the socket at once (see `HTTPResponder.write`).
    func performWrite(_ responder: HTTPResponder, _ bytes: UnsafeRawBufferPointer, flush: Bool) {
        if canRunInline {
            writeInline(responder, flush: flush) { $0.write(responder, bytes) }
        } else {
            submit(.write(responder, Array(bytes)))
        }
    }

    /// `perform(.write(responder, bytes))`, sending at once with `flush` when it runs at once.
    func performWrite(_ responder: HTTPResponder, _ bytes: [UInt8], flush: Bool) {
        if canRunInline {
            writeInline(responder, flush: flush) { $0.write(responder, bytes) }
        } else {
            submit(.write(responder, bytes))
        }
    }

    private func writeInline(_ responder: HTTPResponder, flush: Bool, _ write: (Connection) -> Void) {
        guard let connection = connection(forToken: responder.token) else { return }
        write(connection)
        if flush { connection.flush() }
    }

    /// On the loop thread with no task queued or pending before this one: running now keeps the order.
    private var canRunInline: Bool {
        isLoopThread && batchIndex >= batch.count && queue.withLock({ $0.tasks.isEmpty })
    }

    // MARK: Loop thread

    func run() {
        ownerThread.store(UInt(pthread_self()), ordering: .relaxed)
        let maxEvents = 256
        let events = UnsafeMutablePointer<sl_epoll_event>.allocate(capacity: maxEvents)
        defer { events.deallocate() }
        now = MonotonicClock.now()
        var nextSweep = now + Self.sweepIntervalNanoseconds
        while !exitRequested {
            let n = sl_epoll_wait(epollFD, events, Int32(maxEvents), 250)
            now = MonotonicClock.now()
            if n > 0 {
                for i in 0..<Int(n) { dispatch(events[i]) }
                settle()
            }
            runTasks()
            if now >= nextSweep {
                sweep()
                settle()
                nextSweep = now + Self.sweepIntervalNanoseconds
            }
            if draining && connectionCount == 0 { break }
        }
        closeEverything()
    }

    private func dispatch(_ event: sl_epoll_event) {
        let fd = Int32(truncatingIfNeeded: event.token & 0xFFFF_FFFF)
        if event.token >> 32 == UInt64(Self.externalGeneration) {
            dispatchExternal(fd, event.events)
            return
        }
        if event.token >> 32 == Self.wakeGeneration {
            if fd == wakeFD {
                var value: UInt64 = 0
                _ = Glibc.read(wakeFD, &value, 8)
            } else if fd == listenerFD {
                acceptConnections()
            }
            return
        }
        guard let connection = connection(forToken: event.token) else { return }
        connection.handleEvents(event.events)
    }

    func connection(forToken token: UInt64) -> Connection? {
        let fd = Int(token & 0xFFFF_FFFF)
        guard fd < connections.count, let c = connections[fd], c.token == token else { return nil }
        return c
    }

    /// Flushes dirty connections and runs deferred callbacks until neither is left.
    func settle() {
        while !dirty.isEmpty || !deferred.isEmpty {
            // Swapped with spare arrays rather than copied and cleared: clearing an array still shared with
            // the copy being walked allocates a new buffer, once per loop wake (see docs/benchmarks.md).
            if !dirty.isEmpty {
                swap(&dirty, &flushing)
                for c in flushing { c.flush() }
                flushing.removeAll(keepingCapacity: true)
            }
            if !deferred.isEmpty {
                swap(&deferred, &running)
                for callback in running { callback() }
                running.removeAll(keepingCapacity: true)
            }
        }
    }

    private func runTasks() {
        while true {
            // `batch` is empty here: swapping hands the queue its buffer back instead of allocating one.
            queue.withLock { q in
                _ = handOff.load(ordering: .acquiring)
                swap(&q.tasks, &batch)
            }
            if batch.isEmpty { break }
            batchIndex = 0
            while batchIndex < batch.count {
                let task = batch[batchIndex]
                batchIndex += 1
                execute(task)
            }
            batch.removeAll(keepingCapacity: true)
            batchIndex = 0
            settle()
        }
    }

    private func execute(_ task: LoopTask) {
        switch task {
        case .respond(let r, let status, let headers, let body):
            connection(forToken: r.token)?.respond(r, status: status, headers: headers, body: body)
        case .beginStream(let r, let status, let headers):
            connection(forToken: r.token)?.beginStream(r, status: status, headers: headers)
        case .write(let r, let bytes):
            connection(forToken: r.token)?.write(r, bytes)
        case .end(let r):
            connection(forToken: r.token)?.end(r)
        case .abort(let r):
            connection(forToken: r.token)?.abort(r)
        case .abortAfterFlush(let r):
            connection(forToken: r.token)?.abortAfterFlush(r)
        case .watchWritable(let r, let callback):
            connection(forToken: r.token)?.watchWritable(callback)
        case .upgrade(let r, let headers, let handle, let handler, let configuration):
            connection(forToken: r.token)?.upgrade(
                r,
                headers: headers,
                handle: handle,
                handler: handler,
                configuration: configuration
            )
        case .webSocketSend(let c, let frame):
            connection(forToken: c.token)?.webSocketSend(c, frame)
        case .webSocketClose(let c, let code, let reason):
            connection(forToken: c.token)?.webSocketClose(c, code: code, reason: reason)
        case .webSocketAbort(let c):
            connection(forToken: c.token)?.webSocketAbort(c)
        case .webSocketWatchWritable(let c, let callback):
            connection(forToken: c.token)?.webSocketWatchWritable(c, callback)
        case .stopAccepting(let done):
            stopAccepting()
            done.signal()
        case .abortAll:
            exitRequested = true
        case .run(let work):
            work()
        }
    }

    private func acceptConnections() {
        let limit = core.configuration.maxConnections
        for _ in 0..<64 {
            let fd = sl_accept4(listenerFD)
            if fd < 0 {
                let e = errno
                if e == EINTR || e == ECONNABORTED { continue }
                if e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM {
                    // Out of descriptors: stop polling the listener until the next sweep instead of spinning.
                    _ = sl_epoll_ctl(epollFD, Int32(EPOLL_CTL_DEL), listenerFD, 0, 0)
                    acceptPaused = true
                }
                return
            }
            if core.openConnections.load(ordering: .relaxed) >= limit {
                reject(fd, .serverFull)
                continue
            }
            var address = [CChar](repeating: 0, count: 32)
            let remote =
                sl_peer_address(fd, &address, 32) == 0
                ? String(decoding: address.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
            guard core.perClient.admit(ClientConnectionCounter.host(of: remote)) else {
                reject(fd, .clientFull)
                continue
            }
            core.openConnections.add(1, ordering: .relaxed)
            _ = sl_set_nodelay(fd)
            // 0 marks the wakeup and listener, `externalGeneration` watched descriptors.
            nextGeneration = nextGeneration >= Self.externalGeneration - 1 ? 1 : nextGeneration + 1
            let token = Self.token(fd: fd, generation: nextGeneration)
            let connection = Connection(loop: self, fd: fd, token: token, remoteAddress: remote)
            let index = Int(fd)
            if index >= connections.count {
                connections.append(contentsOf: repeatElement(nil, count: index + 1 - connections.count))
            }
            connections[index] = connection
            connectionCount += 1
            _ = sl_epoll_ctl(epollFD, Int32(EPOLL_CTL_ADD), fd, connection.registeredEvents, token)
            core.observer.connectionOpened()
        }
    }

    /// Called by a connection as it closes its fd.
    func remove(_ connection: Connection) {
        let index = Int(connection.fd)
        guard index < connections.count, connections[index] === connection else { return }
        connections[index] = nil
        connectionCount -= 1
        core.openConnections.subtract(1, ordering: .relaxed)
        core.perClient.release(ClientConnectionCounter.host(of: connection.remoteAddress))
        // An upgraded connection left the observer's HTTP connections when it upgraded (`connectionUpgraded`).
        if !connection.upgraded { core.observer.connectionClosed() }
    }

    private func sweep() {
        if acceptPaused && listenerFD >= 0 {
            acceptPaused = false
            _ = sl_epoll_ctl(
                epollFD,
                Int32(EPOLL_CTL_ADD),
                listenerFD,
                sl_epollin(),
                Self.token(fd: listenerFD, generation: 0)
            )
        }
        for index in connections.indices {
            guard let c = connections[index], c.deadline != 0, now >= c.deadline else { continue }
            c.deadlineExpired()
        }
    }

    private func stopAccepting() {
        guard !draining else { return }
        draining = true
        if listenerFD >= 0 {
            _ = sl_epoll_ctl(epollFD, Int32(EPOLL_CTL_DEL), listenerFD, 0, 0)
            Glibc.close(listenerFD)
            listenerFD = -1
        }
        for case let c? in connections { c.beginDrain() }
        settle()
    }

    /// Closes every connection (their `onClose` callbacks run), runs the closures still queued (work such as
    /// an upstream cancel must not be lost: whoever queued it may be waiting for it), tells the attachments,
    /// then closes the loop's own descriptors. Other queued tasks are dropped: their connections are gone.
    private func closeEverything() {
        for case let c? in connections { c.close() }
        settle()
        if listenerFD >= 0 {
            Glibc.close(listenerFD)
            listenerFD = -1
        }
        stopped = true
        let leftovers = queue.withLock { q in
            _ = handOff.load(ordering: .acquiring)
            q.stopped = true
            defer { q.tasks.removeAll() }
            return q.tasks
        }
        for case .run(let work) in leftovers { work() }
        settle()
        let stopping = attachments.values
        attachments.removeAll()
        for attachment in stopping { attachment.loopDidStop() }
        settle()
        for fd in Array(externals.keys) { unwatchExternal(fd) }
        _ = queue.withLock { _ in Glibc.close(wakeFD) }
        Glibc.close(epollFD)
    }
}
