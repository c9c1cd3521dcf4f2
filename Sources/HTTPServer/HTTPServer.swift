import CSightlineSys
import Dispatch
import Foundation
import Glibc
import Synchronization

/// An HTTP/1.1 server on epoll event loops, one per core, each with its own `SO_REUSEPORT` listener. A port
/// another process already listens on is refused (`listen_failed`, EADDRINUSE), never shared.
///
/// Each loop thread owns its connections for their whole life; the handler is called on that thread and
/// must not block (see `HTTPHandler`). Ignores `SIGPIPE` process-wide on `start` (once): a write to a closed
/// socket must return `EPIPE`, not kill the process; sends also pass `MSG_NOSIGNAL`.
/// Does not do TLS, HTTP/2 or WebSocket framing.
/// Concurrency: `Sendable`; lifecycle state is behind a `Mutex`, the port and counters are `Atomic`s.
public final class HTTPServer: Sendable {
    private enum Lifecycle {
        case idle
        case running(loops: [EventLoop], threads: [pthread_t], exits: [DispatchSemaphore])
        case stopped
    }

    private static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    public let configuration: HTTPServerConfiguration
    private let core: ServerCore
    private let lifecycle = Mutex(Lifecycle.idle)
    private let boundPort = Atomic<Int>(0)

    public init(
        configuration: HTTPServerConfiguration,
        handler: any HTTPHandler,
        observer: any HTTPServerObserver = NoHTTPServerObserver()
    ) {
        self.configuration = configuration
        core = ServerCore(configuration: configuration, handler: handler, observer: observer)
    }

    /// Binds and starts the loops; returns once the server accepts connections. Throws `HTTPServerError`
    /// (e.g. the port is in use).
    public func start() throws {
        Self.ignoreSIGPIPE
        try lifecycle.withLock { state in
            guard case .idle = state else { throw HTTPServerError(reason: "already_started", errno: 0) }
            let count =
                configuration.eventLoops > 0 ? configuration.eventLoops : ProcessInfo.processInfo.activeProcessorCount
            var listeners: [Int32] = []
            var loops: [EventLoop] = []
            do {
                var port = configuration.port
                // The loops' listeners share the port with SO_REUSEPORT, which would also let them join another
                // process's (an old instance, or any server of the same user started that way) and split its
                // connections with it. A plain bind first refuses a port someone already listens on.
                if port != 0 {
                    let probe = sl_probe_tcp_port(configuration.host, Int32(port))
                    guard probe == 0 else { throw HTTPServerError(reason: "listen_failed", errno: -probe) }
                }
                for _ in 0..<max(1, count) {
                    let fd = sl_listen_tcp(configuration.host, Int32(port), 1024, 1)
                    guard fd >= 0 else { throw HTTPServerError(reason: "listen_failed", errno: -fd) }
                    listeners.append(fd)
                    if port == 0 { port = Int(sl_local_port(fd)) }
                }
                for fd in listeners { loops.append(try EventLoop(core: core, listenerFD: fd)) }
                boundPort.store(port, ordering: .releasing)
            } catch {
                for loop in loops {
                    Glibc.close(loop.epollFD)
                    Glibc.close(loop.wakeFD)
                }
                for fd in listeners { Glibc.close(fd) }
                throw error
            }
            var threads: [pthread_t] = []
            var exits: [DispatchSemaphore] = []
            for loop in loops {
                let exited = DispatchSemaphore(value: 0)
                guard
                    let thread = LoopThread.spawn({
                        loop.run()
                        exited.signal()
                    })
                else { fatalError("pthread_create failed") }
                threads.append(thread)
                exits.append(exited)
            }
            state = .running(loops: loops, threads: threads, exits: exits)
        }
    }

    /// The running loops (empty before `start` and after `shutdown`), for code that does its own I/O on them.
    public var eventLoops: [EventLoopHandle] {
        lifecycle.withLock { state in
            guard case .running(let loops, _, _) = state else { return [] }
            return loops.map(EventLoopHandle.init)
        }
    }

    /// The bound port (after `start`).
    public var port: Int { boundPort.load(ordering: .acquiring) }

    /// Stops accepting at once (listeners closed, idle keep-alive connections closed), lets requests in
    /// progress finish until `drainDeadlineSeconds` (each connection closes after its response), then
    /// closes every remaining connection (their `onClose` callbacks run) and joins the loop threads.
    /// Blocks the caller until done. Only the first call does anything.
    public func shutdown(drainDeadlineSeconds: Double) {
        let running = lifecycle.withLock { state -> ([EventLoop], [pthread_t], [DispatchSemaphore])? in
            guard case .running(let loops, let threads, let exits) = state else {
                if case .idle = state { state = .stopped }
                return nil
            }
            state = .stopped
            return (loops, threads, exits)
        }
        guard let (loops, threads, exits) = running else { return }
        let deadline = DispatchTime.now() + drainDeadlineSeconds
        let stopped = DispatchSemaphore(value: 0)
        for loop in loops { loop.submit(.stopAccepting(stopped)) }
        for _ in loops { _ = stopped.wait(timeout: deadline) }
        for (loop, exited) in zip(loops, exits) where exited.wait(timeout: deadline) == .timedOut {
            loop.submit(.abortAll)
        }
        for thread in threads { LoopThread.join(thread) }
    }

    /// Connections open right now.
    public var openConnections: Int { core.openConnections.load(ordering: .relaxed) }
}

/// Why the server could not start. `reason` is stable and low-cardinality.
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public let errno: Int32
    public init(reason: String, errno: Int32) {
        self.reason = reason
        self.errno = errno
    }
    public var description: String { "\(reason) (errno \(errno))" }
}
