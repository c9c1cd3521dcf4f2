/// An HTTP/1.1 server on epoll event loops, one per core, each with its own `SO_REUSEPORT` listener.
/// (STUB: the public surface is fixed; the implementation lands with the event-loop server.)
public final class HTTPServer: Sendable {
    public let configuration: HTTPServerConfiguration

    public init(
        configuration: HTTPServerConfiguration,
        handler: any HTTPHandler,
        observer: any HTTPServerObserver = NoHTTPServerObserver()
    ) {
        self.configuration = configuration
    }

    /// Binds and starts the loops; returns once the server accepts connections. Throws `HTTPServerError`
    /// (e.g. the port is in use).
    public func start() throws { fatalError("stub") }

    /// The bound port (after `start`).
    public var port: Int { fatalError("stub") }

    /// Stops accepting at once, lets requests in progress finish until `drainDeadlineSeconds`, then
    /// closes every connection and joins the loop threads. Blocks the caller until done.
    public func shutdown(drainDeadlineSeconds: Double) { fatalError("stub") }

    /// Connections open right now.
    public var openConnections: Int { fatalError("stub") }
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
