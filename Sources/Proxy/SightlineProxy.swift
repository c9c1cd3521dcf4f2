import CSightlineSys
import Foundation
import HTTPServer
import LogRedaction
import Metrics
import Synchronization

/// The running proxy: its listeners, its upstream client and its observability sinks, wired together.
/// The public face of the `Proxy` module, used by `sightline serve` and `sightline demo`.
///
/// Does not install signal handlers (the executable does, through `TerminationSignal`).
/// Concurrency: `start` and `shutdown` are called from one controlling thread; everything they build is
/// thread-safe.
/// Emits at startup the log record "proxy listening" (event `sightline.lifecycle`) with `server.address`,
/// `server.port`, `service.name`, `service.version` and `sightline.pseudonym_key_id`; at shutdown
/// "proxy stopped".
public final class SightlineProxy: Sendable {
    public static let version = "0.1.0"

    let ctx: ProxyContext
    private let server: HTTPServer
    private let metricsServer: HTTPServer?
    private let continuity: ContinuitySnapshots
    private let drainingFlag = Flag()
    private let stopped = Flag()

    /// Loads a configuration file (JSON); secrets named by `…Env` keys come from `environment`.
    public convenience init(configurationFile path: String, environment: [String: String]) throws {
        // `read` refused a repeated key already (before its permission check): decode without scanning again.
        try self.init(
            configuration: ProxyConfiguration.decode(ConfigurationFile.read(path), environment: environment),
            environment: environment
        )
    }

    public convenience init(configurationJSON data: Data, environment: [String: String]) throws {
        try self.init(
            configuration: ConfigurationFile.decode(data, environment: environment),
            environment: environment
        )
    }

    init(configuration: ProxyConfiguration, environment: [String: String]) throws {
        // One malloc arena per core instead of one per thread: without it RSS stays at its load peak.
        _ = sl_limit_malloc_arenas(Int32(max(2, ProcessInfo.processInfo.activeProcessorCount)))
        let registry = MetricRegistry()
        let metrics = SightlineMetrics(registry: registry, version: Self.version, revision: BuildRevision.value)
        registry.addCollector(ProcessMetrics.collect)
        let scanner = SecretScanner(onDetection: { metrics.logRedactions(detector: $0).increment() })
        var sinks: [any LogSink] = []
        if configuration.logStdout { sinks.append(StandardStreamLogSink.standardOutput) }
        if let path = configuration.logFile {
            // Its directory is made as the state directory is (0700, parents too), and before it: a `log.file` inside
            // the state directory failed with `open_failed` on the first start, opened before anything created it.
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty { try AtomicFile.ensureDirectory(directory) }
            sinks.append(
                try FileLogSink(
                    path: path,
                    maxBytes: configuration.logMaxBytes,
                    keepSegments: configuration.logKeepSegments
                )
            )
        }
        let severity =
            LogSeverity.allCases.first { $0.text.lowercased() == configuration.logLevel.lowercased() } ?? .info
        let logger = Logger(sinks: sinks, scanner: scanner, minimumSeverity: severity)
        let key: [UInt8]
        // An empty variable (compose's `KEY=${UNSET}`) is no key: it must not override the configured file, or every
        // pseudonym changes and the continuity state written under the old key is lost.
        if let file = configuration.pseudonymKeyFile,
            environment[PseudonymKeyStore.environmentVariable, default: ""].isEmpty
        {
            key = try PseudonymKeyStore.loadOrCreate(keyFile: file)
        } else {
            key = try PseudonymKeyStore.loadOrCreate(
                explicitKeyHex: nil,
                environment: environment,
                stateDirectory: configuration.stateDirectory
            )
        }
        let pseudonymizer = try Pseudonymizer(key: key)
        var upstreamConfig = UpstreamClientConfiguration()
        upstreamConfig.connectTimeoutSeconds = configuration.upstreamConnectTimeoutSeconds
        upstreamConfig.firstByteTimeoutSeconds = configuration.upstreamFirstByteTimeoutSeconds
        upstreamConfig.idleTimeoutSeconds = configuration.upstreamIdleTimeoutSeconds
        upstreamConfig.verifyTLS = configuration.verifyTLS
        upstreamConfig.caFile = configuration.caFile
        let upstream = UpstreamClient(configuration: upstreamConfig)
        let store: AccountStore
        do {
            store = try AccountStore.open(
                stateDirectory: configuration.stateDirectory,
                seeds: PoolAccounts.seeds(configuration.accounts),
                onExternalChanges: { names in
                    for name in names {
                        logger.log(
                            .info,
                            "account taken in from the state file",
                            event: "sightline.account_store",
                            [LogAttribute("sightline.account", .pseudonym(pseudonymizer.pseudonym(.acct, name)))]
                        )
                    }
                }
            )
        } catch {
            upstream.close()
            throw ConfigurationError(
                reason: "state_\(error.reason)",
                detail: "\(configuration.stateDirectory)/accounts.json"
            )
        }
        ctx = ProxyContext(
            configuration: configuration,
            registry: registry,
            metrics: metrics,
            logger: logger,
            pseudonymizer: pseudonymizer,
            upstream: upstream,
            store: store
        )
        guard !ctx.pool.accounts.isEmpty else {
            upstream.close()
            throw ConfigurationError(
                reason: "no_accounts",
                detail: "configure accounts or import one (sightline accounts import)"
            )
        }
        // Every scrape reads the accounts as they are now: an ended cooldown shows as `active`, a reset window as 0 used.
        registry.addCollector { [weak pool = ctx.pool, now = ctx.now] in  // weak: the pool holds the registry
            pool?.catchUpWithClock(now: now())
            return []
        }
        continuity = ContinuitySnapshots(ctx: ctx)
        continuity.load()
        var serverConfig = HTTPServerConfiguration()
        serverConfig.host = configuration.listen.host
        serverConfig.port = configuration.listen.port
        serverConfig.eventLoops = configuration.eventLoops
        serverConfig.maxHeaderBytes = configuration.maxHeaderBytes
        serverConfig.maxBodyBytes = configuration.maxBodyBytes
        serverConfig.headerReadTimeoutSeconds = configuration.headerReadTimeoutSeconds
        serverConfig.idleTimeoutSeconds = configuration.idleTimeoutSeconds
        serverConfig.writeHighWaterMark = configuration.writeHighWaterMark
        serverConfig.maxConnections = configuration.maxConnections
        serverConfig.maxConnectionsPerClient = configuration.maxConnectionsPerClient
        let observer = ProxyServerObserver(metrics: metrics, transport: "http")
        let flag = drainingFlag
        let draining: @Sendable () -> Bool = { flag.isSet }
        server = HTTPServer(
            configuration: serverConfig,
            handler: ProxyHandler(ctx: ctx, draining: draining),
            observer: observer
        )
        if let m = configuration.metricsListen {
            var mc = HTTPServerConfiguration()
            mc.host = m.host
            mc.port = m.port
            mc.eventLoops = 1
            metricsServer = HTTPServer(
                configuration: mc,
                handler: MetricsOnlyHandler(ctx: ctx),
                observer: NoHTTPServerObserver()
            )
        } else {
            metricsServer = nil
        }
    }

    public func start() throws {
        try server.start()
        try metricsServer?.start()
        continuity.startPeriodicSaves()
        var attributes = [
            LogAttribute("server.address", .string(ctx.configuration.listen.host)),
            LogAttribute("server.port", .int(server.port)),
            LogAttribute("service.name", .string("sightline")),
            LogAttribute("service.version", .string(Self.version)),
            LogAttribute("sightline.pseudonym.key_id", .string(ctx.pseudonymizer.keyID)),
            LogAttribute("sightline.accounts", .int(ctx.pool.accounts.count)),
        ]
        if let m = metricsServer { attributes.append(LogAttribute("sightline.metrics_port", .int(m.port))) }
        ctx.logger.log(.info, "proxy listening", event: "sightline.lifecycle", attributes)
    }

    public var port: Int { server.port }
    public var metricsPort: Int? { metricsServer?.port }

    /// Stops accepting, lets in-flight streams finish within the configured drain deadline, then stops.
    public func shutdown() {
        guard stopped.setOnce() else { return }
        _ = drainingFlag.setOnce()
        ctx.logger.log(
            .info,
            "proxy draining",
            event: "sightline.lifecycle",
            [
                LogAttribute("sightline.drain_deadline_seconds", .double(ctx.configuration.shutdownDrainSeconds))
            ]
        )
        server.shutdown(drainDeadlineSeconds: ctx.configuration.shutdownDrainSeconds)
        metricsServer?.shutdown(drainDeadlineSeconds: 1)
        continuity.stop()
        continuity.save()
        awaitTokenRefreshes()
        awaitAccountStateWrites()
        ctx.upstream.close()
        ctx.logger.log(.info, "proxy stopped", event: "sightline.lifecycle", [])
    }
}

extension SightlineProxy {
    /// Lets a token refresh still in flight finish before the upstream client closes, within the token request's
    /// own limit. A refresh started beside a request (`TokenRefreshSchedule.Timing.inBackground`) outlives it; cut
    /// off by `close`, a refresh token the OAuth server had already rotated was never written, and after the
    /// restart the account met `refresh_token_reused` and left rotation for good.
    public func awaitTokenRefreshes() {
        let inFlight = ctx.refresher.inFlightCount
        guard inFlight > 0 else { return }
        // Up to 30 s of an otherwise silent stop: said, so an operator knows what the proxy waits for.
        ctx.logger.log(
            .info,
            "proxy awaiting token refreshes",
            event: "sightline.lifecycle",
            [LogAttribute("sightline.token_refreshes_in_flight", .int(inFlight))]
        )
        let deadline = MonotonicClock.seconds() + CurlTokenEndpoint.defaultTotalTimeoutSeconds
        // Shutdown only: a short poll, not a wakeup the refresher would have to know of.
        while ctx.refresher.inFlightCount > 0, MonotonicClock.seconds() < deadline { usleep(10_000) }
    }
}

extension SightlineProxy {
    /// How long a stop waits for the cooldowns still queued for `accounts.json`: each is one write of a small file,
    /// so this bounds only a state directory whose disk hangs, or whose lock another process does not release.
    static let accountStateWriteTimeoutSeconds = 10.0

    /// Lets the cooldown writes the event loops queued (`AccountStateWriter`) reach `accounts.json` before the process
    /// exits: dropped, an account cooled for a quota window was back in rotation after the restart, into the same
    /// limit. At most `accountStateWriteTimeoutSeconds`.
    public func awaitAccountStateWrites() {
        ctx.pool.stateWriter.flush(timeout: Self.accountStateWriteTimeoutSeconds)
    }
}

/// Serves only `/metrics` (and health), for the separate `metrics.listen` bind address.
final class MetricsOnlyHandler: HTTPHandler {
    let ctx: ProxyContext
    init(ctx: ProxyContext) { self.ctx = ctx }

    func handle(_ request: HTTPRequest, responder: HTTPResponder) {
        switch ProxyRoute.classify(method: request.method, path: request.path, prefixes: []) {
        case .metrics:
            MetricsAccess.serve(request, ctx: ctx, responder: responder)
        case .health, .ready:
            responder.respond(
                status: 200,
                headers: ["content-type": "application/json"],
                body: Array(#"{"status":"ok"}"#.utf8)
            )
        default:
            ProxyErrorResponse.notFound.send(responder)
        }
    }
}

/// Counts the HTTP server's own decisions into the proxy's metrics.
struct ProxyServerObserver: HTTPServerObserver {
    let metrics: SightlineMetrics
    let transport: String

    func connectionOpened() { metrics.openConnections(transport: transport).add(1) }
    func connectionClosed() { metrics.openConnections(transport: transport).add(-1) }
    /// The connection is a WebSocket from here on, counted as one by its `WebSocketSession` (opened to closed): left
    /// in the HTTP count too, every open session was two open connections.
    func connectionUpgraded() { metrics.openConnections(transport: transport).add(-1) }
    func protocolError(reason: String, status: Int) {
        metrics.protocolErrors(reason: reason).increment()
        // A WebSocket protocol error is reported with its close code (1002, 1007, 1009), after the upgrade:
        // no HTTP request was refused, so none is counted (it used to land in `status_class="5xx"`).
        guard (100..<600).contains(status) else { return }
        metrics.requests(route: "other", transport: transport, statusClass: ResponsesExchange.statusClass(status))
            .increment()
    }
    /// Every byte read from and written to a downstream socket, heads, framing and WebSocket frames included: the
    /// wire bytes docs/metrics.md promises. Counted from bodies at call sites until 2026-12-08, heads, non-streaming
    /// answers and the proxy's own answers were missing.
    func bytesReceived(_ count: Int) { metrics.downstreamReceivedBytes.increment(by: UInt64(max(0, count))) }
    func bytesSent(_ count: Int) { metrics.downstreamSentBytes.increment(by: UInt64(max(0, count))) }
    func readingPaused(webSocket: Bool) {
        metrics.downstreamBacklogPauses(transport: webSocket ? "websocket" : transport).increment()
    }
}

/// A one-way boolean shared across threads.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    /// Sets the flag; true if this call set it.
    func setOnce() -> Bool { !value.exchange(true, ordering: .relaxed) }
}

/// The source revision baked in at build time when available (`SIGHTLINE_REVISION`), else "unknown".
enum BuildRevision {
    static let value = ProcessInfo.processInfo.environment["SIGHTLINE_REVISION"] ?? "unknown"
}

extension SightlineProxy {
    /// Loads and validates a configuration without binding anything (`sightline check-config`).
    public static func validate(configurationFile path: String, environment: [String: String]) throws {
        _ = try ProxyConfiguration.decode(ConfigurationFile.read(path), environment: environment)
    }
}
