import Foundation
import XCTest

/// A pool of a ChatGPT account and an API-key account, which the configuration allows.
final class MixedPoolTests: XCTestCase {
    private var stack: SightlineStack!

    override func tearDown() { stack?.stop() }

    /// A request with `store:true` is sent with `store:false` to the ChatGPT account (whose backend refuses
    /// `store:true`) and as it came to the API-key one. Until 2026-12-07 `store` was forced only in a pool of
    /// ChatGPT accounts alone, so here every request the ChatGPT account got failed with a 400.
    func testStoreIsForcedOffOnTheChatGPTAccountOnly() throws {
        stack = try SightlineStack(label: "mixed-store") { base in
            [SightlineStack.demoAccounts(base: base)[0], SightlineStack.apiKeyAccounts(1)(base)[0]]
        }
        for i in 0..<4 {
            let r = try HTTPTestClient.exchange(
                port: stack.proxyPort,
                HTTPTestClient.post(
                    path: "/v1/responses",
                    json: #"{"model":"gpt-5.5","input":"hi","store":true,"prompt_cache_key":"mixed-\#(i)"}"#
                )
            )
            XCTAssertEqual(r.status, 200, r.bodyText)
        }
        let paths = try stack.simulatorLog().compactMap { $0["path"] as? String }
        XCTAssertTrue(paths.contains { $0.hasPrefix("/backend-api/codex/") }, "the ChatGPT account served: \(paths)")
    }
}
