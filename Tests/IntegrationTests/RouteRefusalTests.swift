import Foundation
import XCTest

/// The compact and models routes' refusals: each reaches the client with its own status and is counted by it,
/// and an account's refusal is recovered from as on the responses route. Until this test, an upstream 4xx there
/// was relayed as a 200 (Codex then failed to decode a compaction) and counted as a success.
final class RouteRefusalTests: XCTestCase {
    private var stack: SightlineStack!

    override func setUpWithError() throws { stack = try SightlineStack(label: "route-refusal") }
    override func tearDown() { stack?.stop() }

    func testACompactRequestTheUpstreamRefusesGetsItsStatus() throws {
        let r = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(path: "/v1/responses/compact", json: #"{"model":"gpt-5.5","input":5}"#)
        )
        XCTAssertEqual(r.status, 400, r.bodyText)
        XCTAssertTrue(r.bodyText.contains("Invalid type for 'input'"), r.bodyText)
        XCTAssertEqual(try compactRequests("4xx"), 1)
        XCTAssertEqual(try compactRequests("2xx"), 0)
        let record = stack.awaitLogRecords(event: "sightline.request", count: 1).first
        let attributes = record?["attributes"] as? [String: Any]
        XCTAssertEqual(attributes?["http.response.status_code"] as? Int, 400, "\(record ?? [:])")
        XCTAssertEqual(record?["severity_text"] as? String, "INFO")
    }

    /// A 403 from one account: the compaction goes to another, as a responses request would.
    func testACompactRequestAnAccountRefusesMovesToAnother() throws {
        try stack.injectFault(account: nil, "forbidden")
        let r = try HTTPTestClient.exchange(
            port: stack.proxyPort,
            HTTPTestClient.post(
                path: "/v1/responses/compact",
                json: #"{"model":"gpt-5.5","input":[{"role":"user","content":"hi"}]}"#
            )
        )
        XCTAssertEqual(r.status, 200, r.bodyText)
        XCTAssertTrue(r.bodyText.contains(#""object":"response.compaction""#), r.bodyText)
        XCTAssertEqual(try compactRequests("2xx"), 1)
        XCTAssertEqual(
            try stack.metricSum(prefix: "sightline_recovery_decisions_total{", containing: #"outcome="succeeded""#),
            1,
            "the move is a recovery decision, counted"
        )
        XCTAssertEqual(
            try stack.metricSum(prefix: "sightline_account_state{", containing: #"state="cooling""#),
            1,
            "the refusing account cools"
        )
    }

    private func compactRequests(_ statusClass: String) throws -> Double {
        try stack.metric(
            #"sightline_requests_total{route="responses_compact",status_class="\#(statusClass)",transport="http"}"#
        )
    }
}
