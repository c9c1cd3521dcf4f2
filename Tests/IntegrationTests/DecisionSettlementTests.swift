import Foundation
import XCTest

/// `attempted = succeeded + gave_up` for every recovery decision once requests end, also when the client leaves
/// while a decision is still running: the alerts and dashboards divide by these counts.
final class DecisionSettlementTests: XCTestCase {
    private var stack: SightlineStack!

    override func tearDown() { stack?.stop() }

    /// A failover under way (its second attempt silent) when the client disconnects: the request ends 499 and
    /// the failover gives up. It stayed `attempted` for good.
    func testAFailoverTheClientLeavesGivesUp() throws {
        stack = try SightlineStack(label: "settle-failover")
        try stack.injectFault(account: nil, "server_error")
        try stack.injectFault(account: nil, "silence")
        let client = try HTTPTestClient(port: stack.proxyPort)
        try client.send(
            HTTPTestClient.post(path: "/v1/responses", json: #"{"model":"gpt-5.5","input":"hi","stream":true}"#)
        )
        XCTAssertTrue(poll(timeout: 10) { (try? self.stack.decision("failover").attempted) == 1 })
        client.disconnect()
        XCTAssertTrue(poll(timeout: 10) { (try? self.stack.metric("sightline_in_flight_requests")) == 0 })
        let failover = try stack.decision("failover")
        XCTAssertEqual(failover.attempted, 1)
        XCTAssertEqual(failover.succeeded, 0)
        XCTAssertEqual(failover.gaveUp, 1, "settled with the request")
    }

    /// A WebSocket turn waiting on a slow token refresh when the client closes: the refresh gives up with the
    /// turn. It stayed `attempted` for good: `pending` only learnt of it once the refresh answered.
    func testATokenRefreshTheClientLeavesIsSettled() throws {
        stack = try SightlineStack(
            label: "settle-refresh",
            simulator: ["tokenLatencyMs": 3000],
            accounts: { Array(SightlineStack.demoAccounts(base: $0).prefix(1)) }
        )
        let ws = try WebSocketClient(port: stack.proxyPort, path: "/v1/responses")
        XCTAssertEqual(ws.status, 101)
        let frame = #"{"type":"response.create","model":"gpt-5.5","store":false,"stream":true,"input":"hi"}"#
        try ws.send(frame)
        XCTAssertEqual(ws.readTurn().last?["type"] as? String, "response.completed")
        let r = try HTTPTestClient.exchange(
            port: stack.simulatorPort,
            HTTPTestClient.post(path: "/__sim/accounts/acct1/invalidate-access", json: "{}")
        )
        XCTAssertEqual(r.status, 200, r.bodyText)
        try ws.send(frame)
        XCTAssertTrue(poll(timeout: 10) { (try? self.stack.decision("token_refresh").attempted) == 1 })
        ws.close()
        XCTAssertTrue(poll(timeout: 10) { (try? self.stack.metric("sightline_in_flight_requests")) == 0 })
        let refresh = try stack.decision("token_refresh")
        XCTAssertEqual(refresh.attempted, 1)
        XCTAssertEqual(refresh.attempted, refresh.succeeded + refresh.gaveUp, "\(refresh)")
    }
}
