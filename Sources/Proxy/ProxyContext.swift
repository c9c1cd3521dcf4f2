import Foundation
import LogRedaction
import Metrics

/// Everything a request needs that outlives it: configuration, accounts and their state store, token
/// refresh, continuity (affinity map and transcript cache), the upstream client and the observability
/// sinks. Built once at startup; its own fields are immutable, so it is `Sendable` without locks (the
/// mutable parts are themselves thread-safe).
final class ProxyContext: Sendable {
    let configuration: ProxyConfiguration
    let pool: AccountPool
    let store: AccountStore
    let refresher: TokenRefresher
    let affinity: AffinityMap
    let transcripts: TranscriptCache
    /// Conversations whose history an account refused for another account's sealed content (`reasoning_strip`).
    let sealed = SealedContentMemory()
    let upstream: UpstreamClient
    let metrics: SightlineMetrics
    let registry: MetricRegistry
    let logger: Logger
    let pseudonymizer: Pseudonymizer
    let authenticator: ClientAuthenticator
    let recorder: RecoveryRecorder
    /// Counts and logs the failed state writes made outside the pool: token rotations, `reauth_required` marks and
    /// continuity snapshots.
    let stateWrites: StateWriteRecorder
    let prefixes: [String]
    /// Wall-clock seconds: for timestamps, cooldowns and the instants the upstream names (a quota's reset).
    let now: @Sendable () -> Double
    /// Seconds on `MonotonicClock`: for every duration (requests, first events, sessions) and socket age, which a
    /// wall-clock step must not stretch or make negative.
    let monotonic: @Sendable () -> Double

    init(
        configuration: ProxyConfiguration,
        registry: MetricRegistry,
        metrics: SightlineMetrics,
        logger: Logger,
        pseudonymizer: Pseudonymizer,
        upstream: UpstreamClient,
        store: AccountStore,
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
        monotonic: @escaping @Sendable () -> Double = { MonotonicClock.seconds() }
    ) {
        self.configuration = configuration
        self.registry = registry
        self.metrics = metrics
        self.logger = logger
        self.pseudonymizer = pseudonymizer
        self.upstream = upstream
        self.store = store
        self.now = now
        self.monotonic = monotonic
        let accounts = PoolAccounts.build(configured: configuration.accounts, stored: store.entries())
        let pool = AccountPool(
            accounts: accounts,
            store: store,
            pseudonymizer: pseudonymizer,
            metrics: metrics,
            logger: logger,
            now: now()
        )
        self.pool = pool
        let stateWrites = StateWriteRecorder(metrics: metrics, logger: logger)
        self.stateWrites = stateWrites
        refresher = TokenRefresher(
            store: store,
            endpoint: CurlTokenEndpoint(client: upstream),
            tokenURL: configuration.tokenURL,
            observer: { observation in
                guard let index = accounts.firstIndex(where: { $0.name == observation.accountName }) else { return }
                pool.accountMetrics[index].tokenRefreshes(outcome: observation.outcome).increment()
                var attributes = [
                    LogAttribute("sightline.account", .pseudonym(pool.pseudonyms[index])),
                    LogAttribute("sightline.token_refresh.outcome", .string(observation.outcome)),
                ]
                if let reason = observation.reason { attributes.append(LogAttribute("error.type", .string(reason))) }
                if let persist = observation.persistError {
                    attributes.append(LogAttribute("sightline.token_refresh.persist_error", .string(persist)))
                }
                logger.log(
                    observation.outcome == "success" && observation.persistError == nil ? .info : .warn,
                    "token refreshed",
                    event: "sightline.token_refresh",
                    attributes
                )
                // The store writes only after a success (the rotation) or a terminal failure (`reauth_required`).
                if let persist = observation.persistError {
                    let write: StateWriteRecorder.Write =
                        observation.outcome == "terminal" ? .reauthRequired : .tokenRotation
                    stateWrites.record(write, reason: persist, accounts: [pool.pseudonyms[index]])
                }
            }
        )
        affinity = AffinityMap(
            pseudonymizer: pseudonymizer,
            onLookup: { metrics.affinityLookups(result: $0).increment() }
        )
        transcripts = TranscriptCache(maximumBytes: configuration.transcriptCacheBytes) { usage in
            metrics.transcriptCacheBytes.set(Double(usage.bytes))
            metrics.transcriptCacheEntries.set(Double(usage.entries))
            if usage.evicted > 0 { metrics.transcriptCacheEvictions.increment(by: UInt64(usage.evicted)) }
            if usage.rejected > 0 { metrics.transcriptCacheRejections.increment(by: UInt64(usage.rejected)) }
        }
        authenticator = ClientAuthenticator(keys: configuration.clientKeys)
        recorder = RecoveryRecorder(metrics: metrics, logger: logger)
        prefixes = ProxyRoute.prefixes(configured: configuration.pathPrefix)
    }
}
