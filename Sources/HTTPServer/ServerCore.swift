import Glibc
import Synchronization

/// What every loop of one server shares: configuration, handler, observer and the connection counts.
/// Concurrency: immutable apart from `openConnections` (an `Atomic`) and `perClient` (its own `Mutex`).
final class ServerCore: Sendable {
    let configuration: HTTPServerConfiguration
    let handler: any HTTPHandler
    let observer: any HTTPServerObserver
    let openConnections = Atomic<Int>(0)
    let perClient: ClientConnectionCounter

    init(configuration: HTTPServerConfiguration, handler: any HTTPHandler, observer: any HTTPServerObserver) {
        self.configuration = configuration
        self.handler = handler
        self.observer = observer
        perClient = ClientConnectionCounter(limit: configuration.maxConnectionsPerClient)
    }
}

/// The part of a connection that responders on other threads read.
/// Concurrency: `Atomic`s only.
final class ConnectionShared: Sendable {
    /// Bytes accepted by `HTTPResponder.write` (counted at enqueue time, on the caller's thread) plus bytes
    /// waiting in the connection's output buffer; decremented as bytes reach the socket.
    let queuedBytes = Atomic<Int>(0)
    let closed = Atomic<Bool>(false)
}

/// A joinable POSIX thread running one closure (Foundation's `Thread` cannot be joined).
enum LoopThread {
    private final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    static func spawn(_ body: @escaping @Sendable () -> Void) -> pthread_t? {
        var thread = pthread_t()
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        let rc = pthread_create(
            &thread,
            nil,
            { raw in
                Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().body()
                return nil
            },
            box
        )
        if rc != 0 {
            Unmanaged<Box>.fromOpaque(box).release()
            return nil
        }
        return thread
    }

    static func join(_ thread: pthread_t) { pthread_join(thread, nil) }
}
