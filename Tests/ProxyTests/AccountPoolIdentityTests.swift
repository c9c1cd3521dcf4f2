import Foundation
import LogRedaction
import Metrics
import XCTest

@testable import Proxy

/// Two seats of one ChatGPT Team workspace share the account id: the pool must still keep them apart, in its
/// pseudonyms and so in every metric series, sticky entry and affinity snapshot entry keyed by them.
final class AccountPoolIdentityTests: XCTestCase {
    func testSeatsOfOneWorkspaceHaveTheirOwnPseudonymsAndSeries() throws {
        let accounts = ["seat-a", "seat-b"].map { name in
            ProxyConfiguration.Account(
                name: name,
                kind: .chatgpt,
                baseURL: "http://127.0.0.1:9",
                accountID: Secret("fake-workspace-1"),
                accessToken: Secret("at-FAKE-\(name)"),
                refreshToken: nil,
                apiKey: nil,
                maxConcurrentRequests: 4
            )
        }
        let pseudonymizer = try Pseudonymizer(key: Array(0..<32))
        let metrics = SightlineMetrics(registry: MetricRegistry(), version: "v", revision: "r", swiftVersion: "6.3")
        let pool = AccountPool(
            accounts: accounts,
            store: AccountStore(path: nil, entries: []),
            pseudonymizer: pseudonymizer,
            metrics: metrics,
            logger: .discarding,
            now: 1_800_000_000
        )
        XCTAssertEqual(pool.pseudonyms, ["seat-a", "seat-b"].map { pseudonymizer.pseudonym(.acct, $0) })
        XCTAssertNotEqual(pool.pseudonyms[0], pool.pseudonyms[1])
        let scrape = metrics.registry.render()
        for p in pool.pseudonyms {
            XCTAssertTrue(scrape.contains(#"sightline_account_state{account="\#(p)",state="active"} 1"#), scrape)
        }
        XCTAssertFalse(scrape.contains(pseudonymizer.pseudonym(.acct, "fake-workspace-1")))
    }
}
