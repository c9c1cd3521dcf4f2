import Foundation
import SightlineTestSupport
import XCTest

@testable import Proxy

/// How long an idle bridge session keeps its upstream socket: no longer than the pool's idle TTL, with or without
/// other requests.
final class BridgePoolTests: XCTestCase {
    /// A proxy context (never started) to build sessions on.
    private func hub() throws -> (WebSocketHub, SightlineProxy) {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("bridge-pool-\(UUID().uuidString)")
        let config = """
            {"listen":{"host":"127.0.0.1","port":0},"stateDirectory":"\(state.path)","log":{"stdout":false},
             "accounts":[{"name":"a1","kind":"chatgpt","baseURL":"http://127.0.0.1:9/backend-api/codex",
                          "accountId":"acct-FAKE-1","accessToken":"access-FAKE-1"}]}
            """
        let proxy = try SightlineProxy(configurationJSON: Data(config.utf8), environment: [:])
        return (WebSocketHub(ctx: proxy.ctx), proxy)
    }

    /// The last request of a conversation checks its session in, and no request follows: the session still leaves
    /// the pool (its socket closed) once idle for the TTL. Until 2026-12-08 only a later checkout looked for
    /// expired sessions, so in a quiet proxy each idle conversation kept its upstream socket, pinging, until the
    /// upstream's own hour was up.
    func testAnIdleSessionIsRetiredAfterItsTTLWithoutAnotherRequest() throws {
        let (hub, proxy) = try hub()
        defer { proxy.shutdown() }
        let pool = BridgePool(idleTTLSeconds: 0.05, logger: proxy.ctx.logger)
        let session = BridgeSession(hub: hub, key: "conversation", poolKey: "conversation")
        let now = proxy.ctx.monotonic()
        XCTAssertNotNil(pool.checkout(key: "conversation", now: now, make: { session }))
        pool.checkin(key: "conversation", session: session, now: now)
        XCTAssertEqual(pool.count, 1)
        XCTAssertTrue(pollUntil(timeout: 5) { pool.count == 0 }, "the idle session was never retired")
    }

    /// A session in use is never swept, however old; back in the pool, its TTL runs from then.
    func testABusySessionIsNotSwept() throws {
        let (hub, proxy) = try hub()
        defer { proxy.shutdown() }
        let pool = BridgePool(idleTTLSeconds: 0.05, logger: proxy.ctx.logger)
        let idle = BridgeSession(hub: hub, key: "idle", poolKey: "idle")
        let busy = BridgeSession(hub: hub, key: "busy", poolKey: "busy")
        let now = proxy.ctx.monotonic()
        XCTAssertNotNil(pool.checkout(key: "busy", now: now, make: { busy }))
        XCTAssertNotNil(pool.checkout(key: "idle", now: now, make: { idle }))
        pool.checkin(key: "idle", session: idle, now: now)
        XCTAssertTrue(pollUntil(timeout: 5) { pool.count == 1 }, "the idle one goes")
        XCTAssertNil(pool.checkout(key: "busy", now: proxy.ctx.monotonic(), make: { busy }), "still busy, still pooled")
        pool.checkin(key: "busy", session: busy, now: proxy.ctx.monotonic())
        XCTAssertTrue(pollUntil(timeout: 5) { pool.count == 0 })
    }
}
