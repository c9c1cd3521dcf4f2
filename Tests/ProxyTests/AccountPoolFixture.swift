import Foundation
import LogRedaction
import Metrics

@testable import Proxy

/// A pool of ChatGPT accounts on an unreachable base URL, with a memory-only store and its own metrics, for
/// tests of the pool's bookkeeping (no request is ever sent).
enum AccountPoolFixture {
    static let pseudonymizer = try! Pseudonymizer(key: Array(0..<32))

    /// `names` in order; each account's id is `accountID(name)` (default `fake-<name>`). `path`: where the store
    /// writes (default nowhere); `logger`: the pool's (default discarding).
    static func make(
        _ names: [String],
        accountID: (String) -> String = { "fake-\($0)" },
        stored: [AccountStoreEntry] = [],
        path: String? = nil,
        logger: Logger = .discarding,
        now: Double
    ) -> (pool: AccountPool, metrics: SightlineMetrics) {
        let accounts = names.map { name in
            ProxyConfiguration.Account(
                name: name,
                kind: .chatgpt,
                baseURL: "http://127.0.0.1:9",
                accountID: Secret(accountID(name)),
                accessToken: Secret("at-FAKE-\(name)"),
                refreshToken: nil,
                apiKey: nil,
                maxConcurrentRequests: 4
            )
        }
        let metrics = SightlineMetrics(registry: MetricRegistry(), version: "v", revision: "r", swiftVersion: "6.3")
        let pool = AccountPool(
            accounts: accounts,
            store: AccountStore(path: path, entries: stored),
            pseudonymizer: pseudonymizer,
            metrics: metrics,
            logger: logger,
            now: now
        )
        return (pool, metrics)
    }
}
