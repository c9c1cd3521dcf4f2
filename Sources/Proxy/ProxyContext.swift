import Foundation
import LogRedaction
import Metrics

/// Everything a request needs that outlives it: configuration, accounts, the upstream client and the
/// observability sinks. Built once at startup; immutable, so `Sendable` without locks (the mutable parts
/// — pool, metrics, logger — are themselves thread-safe).
final class ProxyContext: Sendable {
    let configuration: ProxyConfiguration
    let pool: AccountPool
    let upstream: UpstreamClient
    let metrics: SightlineMetrics
    let registry: MetricRegistry
    let logger: Logger
    let pseudonymizer: Pseudonymizer
    let authenticator: ClientAuthenticator
    let recorder: RecoveryRecorder
    let prefixes: [String]
    let now: @Sendable () -> Double

    init(
        configuration: ProxyConfiguration,
        registry: MetricRegistry,
        metrics: SightlineMetrics,
        logger: Logger,
        pseudonymizer: Pseudonymizer,
        upstream: UpstreamClient,
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.configuration = configuration
        self.registry = registry
        self.metrics = metrics
        self.logger = logger
        self.pseudonymizer = pseudonymizer
        self.upstream = upstream
        self.now = now
        pool = AccountPool(
            accounts: configuration.accounts, pseudonymizer: pseudonymizer, metrics: metrics, logger: logger
        )
        authenticator = ClientAuthenticator(keys: configuration.clientKeys)
        recorder = RecoveryRecorder(metrics: metrics, logger: logger)
        prefixes = ProxyRoute.prefixes(configured: configuration.pathPrefix)
    }
}
