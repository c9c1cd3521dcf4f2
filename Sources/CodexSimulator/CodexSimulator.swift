import Foundation
import HTTPServer

/// A real network server that behaves like the ChatGPT Codex backend over HTTP SSE and WebSocket, with fault
/// injection, a token endpoint and admin routes (docs/simulator.md).
///
/// Used by `sightline demo`, the integration tests and the benchmark. Never contacts anything. Listens on
/// `configuration.host` (loopback by default).
/// Concurrency: `Sendable`; `start` and `shutdown` may be called from any thread, once each.
public final class CodexSimulator: Sendable {
    public let configuration: SimulatorConfiguration
    let engine: SimulatorEngine
    let handler: SimulatorHTTPHandler
    let server: HTTPServer

    public convenience init(configuration: SimulatorConfiguration) {
        self.init(configuration: configuration, clock: { Date().timeIntervalSince1970 })
    }

    /// With an injected clock (unix seconds), for deterministic token expiry and reset times in tests.
    init(configuration: SimulatorConfiguration, clock: @escaping @Sendable () -> Double) {
        self.configuration = configuration
        engine = SimulatorEngine(configuration: configuration, clock: clock)
        handler = SimulatorHTTPHandler(engine: engine)
        var serverConfiguration = HTTPServerConfiguration()
        serverConfiguration.host = configuration.host
        serverConfiguration.port = configuration.port
        server = HTTPServer(configuration: serverConfiguration, handler: handler)
    }

    /// Binds and starts serving; throws `HTTPServerError` if the port cannot be bound.
    public func start() throws { try server.start() }

    /// The bound port (after `start`).
    public var port: Int { server.port }

    /// Ends streams in progress (including silent ones), then stops the server.
    public func shutdown() {
        handler.cancelActiveStreams()
        server.shutdown(drainDeadlineSeconds: 1)
    }
}
