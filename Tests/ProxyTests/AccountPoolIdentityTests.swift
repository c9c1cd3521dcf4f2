import Foundation
import LogRedaction
import Metrics
import XCTest

@testable import Proxy

/// Two seats of one ChatGPT Team workspace share the account id: the pool must still keep them apart, in its
/// pseudonyms and so in every metric series, sticky entry and affinity snapshot entry keyed by them.
final class AccountPoolIdentityTests: XCTestCase {
    func testSeatsOfOneWorkspaceHaveTheirOwnPseudonymsAndSeries() throws {
        let (pool, metrics) = AccountPoolFixture.make(
            ["seat-a", "seat-b"],
            accountID: { _ in "fake-workspace-1" },
            now: 1_800_000_000
        )
        let pseudonymizer = AccountPoolFixture.pseudonymizer
        XCTAssertEqual(pool.pseudonyms, ["seat-a", "seat-b"].map { pseudonymizer.pseudonym(.acct, $0) })
        XCTAssertNotEqual(pool.pseudonyms[0], pool.pseudonyms[1])
        let scrape = metrics.registry.render()
        for p in pool.pseudonyms {
            XCTAssertTrue(scrape.contains(#"sightline_account_state{account="\#(p)",state="active"} 1"#), scrape)
        }
        XCTAssertFalse(scrape.contains(pseudonymizer.pseudonym(.acct, "fake-workspace-1")))
    }
}
