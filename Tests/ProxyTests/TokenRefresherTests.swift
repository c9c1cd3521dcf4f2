import Foundation
import LogRedaction
import SightlineTestSupport
import Synchronization
import XCTest

@testable import Proxy

/// A token endpoint that records calls and answers when the test says so.
final class FakeTokenEndpoint: TokenEndpoint, Sendable {
    typealias Reply = Result<(status: Int, body: [UInt8]), any Error>
    private let state = Mutex<(bodies: [[UInt8]], pending: [@Sendable (Reply) -> Void])>(([], []))

    var callCount: Int { state.withLock { $0.bodies.count } }
    var bodies: [[UInt8]] { state.withLock { $0.bodies } }

    func post(
        url: String,
        body: [UInt8],
        headers: [(String, String)],
        completion: @escaping @Sendable (Reply) -> Void
    ) {
        state.withLock {
            $0.bodies.append(body)
            $0.pending.append(completion)
        }
    }

    /// Answers every pending call with `reply`.
    func answer(_ reply: Reply) {
        let pending = state.withLock { state in
            defer { state.pending.removeAll() }
            return state.pending
        }
        for completion in pending { completion(reply) }
    }
}

struct FakeNetworkError: Error {}

final class TokenRefresherTests: XCTestCase {
    private func makeStore(path: String? = nil) -> AccountStore {
        var entry = AccountStoreEntry(name: "a")
        entry.accessToken = Secret("at-FAKE-1")
        entry.refreshToken = Secret("rt-FAKE-1")
        return AccountStore(path: path, entries: [entry])
    }

    private func waitUntil(_ condition: () -> Bool, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(pollUntil(condition), "timed out", file: file, line: line)
    }

    private static let success: [UInt8] = Array(
        #"{"access_token":"at-FAKE-2","refresh_token":"rt-FAKE-2","id_token":"x","expires_in":3600}"#.utf8
    )

    func testConcurrentCallersShareOneRefresh() throws {
        let store = makeStore()
        let endpoint = FakeTokenEndpoint()
        let observations = Mutex<[TokenRefreshObservation]>([])
        let refresher = TokenRefresher(store: store, endpoint: endpoint, clock: { 1_000 }) { observation in
            observations.withLock { $0.append(observation) }
        }
        let results = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 10) { _ in
            refresher.refresh(account: "a") { result in
                results.withLock { $0.append((try? result.get().accessToken?.reveal()) ?? "error") }
            }
        }
        XCTAssertEqual(endpoint.callCount, 1)
        XCTAssertEqual(refresher.inFlightCount, 1)
        endpoint.answer(.success((200, Self.success)))
        waitUntil { results.withLock { $0.count } == 10 }
        XCTAssertEqual(results.withLock { $0 }, Array(repeating: "at-FAKE-2", count: 10))
        XCTAssertEqual(observations.withLock { $0.map(\.outcome) }, ["success"])
        XCTAssertEqual(refresher.inFlightCount, 0)
        XCTAssertEqual(store.entry(named: "a")?.expiresAt, 4_600)

        let sent = try JSONSerialization.jsonObject(with: Data(endpoint.bodies[0])) as? [String: String]
        XCTAssertEqual(
            sent,
            [
                "client_id": "app_EMoamEEZ73f0CkXaXp7hrann", "grant_type": "refresh_token",
                "refresh_token": "rt-FAKE-1", "scope": "openid profile email",
            ]
        )
    }

    func testRotationIsOnDiskBeforeAnyCallbackRuns() throws {
        let directory = NSTemporaryDirectory() + "refresher-\(UUID().uuidString)"
        try AtomicFile.ensureDirectory(directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/accounts.json"
        let store = makeStore(path: path)
        try store.save()
        let endpoint = FakeTokenEndpoint()
        let refresher = TokenRefresher(store: store, endpoint: endpoint, clock: { 1 })
        let seenOnDisk = Mutex<String?>(nil)
        refresher.refresh(account: "a") { _ in
            let entries = try? AccountStoreCodec.decode(AtomicFile.read(path))
            seenOnDisk.withLock { $0 = entries?.first?.refreshToken?.reveal() }
        }
        endpoint.answer(.success((200, Self.success)))
        waitUntil { seenOnDisk.withLock { $0 } != nil }
        XCTAssertEqual(seenOnDisk.withLock { $0 }, "rt-FAKE-2")
    }

    func testTerminalErrorMarksReauthAndLaterCallsDoNotHitTheNetwork() {
        let store = makeStore()
        let endpoint = FakeTokenEndpoint()
        let refresher = TokenRefresher(store: store, endpoint: endpoint)
        let first = Mutex<TokenRefreshError?>(nil)
        refresher.refresh(account: "a") { result in
            if case .failure(let error) = result { first.withLock { $0 = error } }
        }
        let body = Array(#"{"error":{"code":"refresh_token_reused","message":"fake"}}"#.utf8)
        endpoint.answer(.success((401, body)))
        waitUntil { first.withLock { $0 } != nil }
        XCTAssertEqual(
            first.withLock { $0 },
            TokenRefreshError(kind: .terminal, reason: "refresh_token_reused", httpStatus: 401)
        )
        XCTAssertEqual(store.entry(named: "a")?.status, .reauthRequired)

        let second = Mutex<TokenRefreshError?>(nil)
        refresher.refresh(account: "a") { result in
            if case .failure(let error) = result { second.withLock { $0 = error } }
        }
        XCTAssertEqual(second.withLock { $0?.reason }, "reauth_required")
        XCTAssertEqual(endpoint.callCount, 1)
    }

    func testTransientFailureLeavesAccountActive() {
        let store = makeStore()
        let endpoint = FakeTokenEndpoint()
        let outcomes = Mutex<[String]>([])
        let now = Mutex<Int64>(1_000)
        let refresher = TokenRefresher(
            store: store,
            endpoint: endpoint,
            clock: { now.withLock { $0 } },
            observer: { o in outcomes.withLock { $0.append(o.outcome) } }
        )
        let done = Mutex(0)
        refresher.refresh(account: "a") { _ in done.withLock { $0 += 1 } }
        endpoint.answer(.failure(FakeNetworkError()))
        now.withLock { $0 += TokenRefreshBackoff.initialSeconds }
        refresher.refresh(account: "a") { _ in done.withLock { $0 += 1 } }
        endpoint.answer(.success((503, [])))
        waitUntil { done.withLock { $0 } == 2 }
        XCTAssertEqual(outcomes.withLock { $0 }, ["failure", "failure"])
        XCTAssertEqual(store.entry(named: "a")?.status, .active)
        XCTAssertEqual(store.entry(named: "a")?.refreshToken?.reveal(), "rt-FAKE-1")
    }

    /// After a transient failure the account's next refreshes are answered at once (`refresh_backoff`), without a
    /// request, for 30 s, then 60 s after the next failure; a success ends it. Every request to an account whose
    /// token was due posted to a token endpoint that had just answered 429 or 5xx.
    func testATransientFailureBacksOffTheNextRefreshes() {
        let store = makeStore()
        let endpoint = FakeTokenEndpoint()
        let now = Mutex<Int64>(1_000)
        let observed = Mutex(0)
        let refresher = TokenRefresher(
            store: store,
            endpoint: endpoint,
            clock: { now.withLock { $0 } },
            observer: { _ in observed.withLock { $0 += 1 } }
        )
        let reasons = Mutex<[String]>([])
        func refresh() {
            refresher.refresh(account: "a") { result in
                reasons.withLock { r in
                    switch result {
                    case .success: r.append("success")
                    case .failure(let error): r.append(error.reason)
                    }
                }
            }
        }
        refresh()
        endpoint.answer(.success((503, [])))
        now.withLock { $0 = 1_029 }
        refresh()
        XCTAssertEqual(endpoint.callCount, 1, "backing off: no request")
        now.withLock { $0 = 1_030 }
        refresh()
        XCTAssertEqual(endpoint.callCount, 2, "30 s later")
        endpoint.answer(.success((429, [])))
        now.withLock { $0 = 1_089 }
        refresh()
        XCTAssertEqual(endpoint.callCount, 2, "the wait doubled")
        now.withLock { $0 = 1_090 }
        refresh()
        XCTAssertEqual(endpoint.callCount, 3)
        endpoint.answer(.success((200, Self.success)))
        refresh()
        XCTAssertEqual(endpoint.callCount, 4, "a success ends the backoff")
        endpoint.answer(.success((200, Self.success)))
        waitUntil { reasons.withLock { $0.count } == 6 }
        XCTAssertEqual(
            reasons.withLock { $0 },
            ["server_error", "refresh_backoff", "rate_limited", "refresh_backoff", "success", "success"]
        )
        XCTAssertEqual(observed.withLock { $0 }, 4, "an answer from the backoff is no attempt")
    }

    /// The backoff belongs to the login that failed: new tokens (an import, a new configured token) refresh at once.
    func testTheBackoffDoesNotApplyToAnotherLogin() throws {
        let store = makeStore()
        let endpoint = FakeTokenEndpoint()
        let refresher = TokenRefresher(store: store, endpoint: endpoint, clock: { 1_000 })
        refresher.refresh(account: "a") { _ in }
        endpoint.answer(.success((500, [])))
        try store.update("a") {
            $0.refreshToken = Secret("rt-FAKE-imported")
            $0.refreshGeneration += 1
        }
        refresher.refresh(account: "a") { _ in }
        XCTAssertEqual(endpoint.callCount, 2)
    }

    /// New credentials written at the generation of the login that failed (by hand, by another tool) refresh at once;
    /// only the same refresh token stays held back. The backoff was keyed by the generation, so such credentials
    /// waited out up to 5 min of the old login's backoff.
    func testTheBackoffDoesNotApplyToNewCredentialsAtTheSameGeneration() throws {
        let store = makeStore()
        let endpoint = FakeTokenEndpoint()
        let refresher = TokenRefresher(store: store, endpoint: endpoint, clock: { 1_000 })
        refresher.refresh(account: "a") { _ in }
        endpoint.answer(.success((503, [])))
        let generation = try XCTUnwrap(store.entry(named: "a")?.refreshGeneration)
        try store.update("a") { $0.accessToken = Secret("at-FAKE-other") }
        refresher.refresh(account: "a") { _ in }
        XCTAssertEqual(endpoint.callCount, 1, "the same refresh token is still held back")
        try store.update("a") { $0.refreshToken = Secret("rt-FAKE-imported") }
        XCTAssertEqual(store.entry(named: "a")?.refreshGeneration, generation)
        refresher.refresh(account: "a") { _ in }
        XCTAssertEqual(endpoint.callCount, 2, "another refresh token is tried at once")
    }

    func testStaleGenerationIsAnsweredWithoutNetwork() throws {
        let store = makeStore()
        try store.update("a") { $0.refreshGeneration = 2 }
        let endpoint = FakeTokenEndpoint()
        let refresher = TokenRefresher(store: store, endpoint: endpoint)
        let generation = Mutex<Int?>(nil)
        refresher.refresh(account: "a", ifGeneration: 1) { result in
            generation.withLock { $0 = try? result.get().refreshGeneration }
        }
        XCTAssertEqual(generation.withLock { $0 }, 2)
        XCTAssertEqual(endpoint.callCount, 0)
    }

    func testClassificationTable() {
        let cases: [(Int, String, String)] = [
            (401, #"{"error":{"code":"refresh_token_reused"}}"#, "terminal:refresh_token_reused"),
            (401, #"{"error":{"code":"refresh_token_expired"}}"#, "terminal:refresh_token_expired"),
            (401, #"{"error":{"code":"refresh_token_invalidated"}}"#, "terminal:refresh_token_invalidated"),
            (400, #"{"error":"invalid_grant","error_description":"fake"}"#, "terminal:invalid_grant"),
            (400, #"{"error":{"code":"invalid_grant"}}"#, "terminal:invalid_grant"),
            (401, #"{"error":{"code":"token_invalidated"}}"#, "terminal:token_invalidated"),
            (401, #"{"error":{"code":"token_expired"}}"#, "terminal:token_expired"),
            (403, #"{"error":{"code":"account_deactivated"}}"#, "terminal:account_deactivated"),
            (403, #"{"code":"app_session_terminated"}"#, "terminal:app_session_terminated"),
            (401, #"{"error":{"code":"something_new"}}"#, "terminal:_OTHER"),
            (500, #"{"error":{"code":"server_error"}}"#, "transient:server_error"),
            (502, "<html>", "transient:server_error"),
            (429, "{}", "transient:rate_limited"),
            (400, #"{"error":"unsupported_grant_type"}"#, "transient:unexpected_status"),
            (200, #"{"refresh_token":"rt"}"#, "transient:invalid_response"),
            (200, #"{"access_token":"at"}"#, "success"),
        ]
        for (status, body, expected) in cases {
            let got: String
            switch TokenRefreshClassifier.classify(status: status, body: Array(body.utf8)) {
            case .success: got = "success"
            case .failure(let error): got = "\(error.kind.rawValue):\(error.reason)"
            }
            XCTAssertEqual(got, expected, "\(status) \(body)")
        }
    }

    func testScheduleTable() {
        let day: Int64 = 86_400
        XCTAssertFalse(TokenRefreshSchedule.needsRefresh(expiresAt: nil, lastRefresh: nil, now: 0))
        XCTAssertFalse(TokenRefreshSchedule.needsRefresh(expiresAt: 1_000, lastRefresh: nil, now: 699))
        XCTAssertTrue(TokenRefreshSchedule.needsRefresh(expiresAt: 1_000, lastRefresh: nil, now: 700))
        XCTAssertTrue(TokenRefreshSchedule.needsRefresh(expiresAt: 1_000, lastRefresh: nil, now: 2_000))
        XCTAssertFalse(TokenRefreshSchedule.needsRefresh(expiresAt: nil, lastRefresh: 0, now: 8 * day - 1))
        XCTAssertTrue(TokenRefreshSchedule.needsRefresh(expiresAt: 100 * day, lastRefresh: 0, now: 8 * day))
        // Times at the ends of the range (an odd token or state file) answer without overflowing.
        XCTAssertTrue(TokenRefreshSchedule.needsRefresh(expiresAt: .min, lastRefresh: nil, now: 1_000))
        XCTAssertFalse(TokenRefreshSchedule.needsRefresh(expiresAt: .max, lastRefresh: nil, now: 1_000))
        XCTAssertTrue(TokenRefreshSchedule.needsRefresh(expiresAt: nil, lastRefresh: .min, now: 1_000))
        XCTAssertFalse(TokenRefreshSchedule.needsRefresh(expiresAt: nil, lastRefresh: .max, now: -1_000))
    }

    /// Only an expired token makes a request wait for its refresh; a token merely due refreshes beside it.
    func testTimingTable() {
        let day: Int64 = 86_400
        let cases: [(expiresAt: Int64?, lastRefresh: Int64?, now: Int64, timing: TokenRefreshSchedule.Timing)] = [
            (nil, nil, 0, .notDue),
            (1_000, nil, 699, .notDue),
            (1_000, nil, 700, .inBackground),
            (1_000, nil, 999, .inBackground),
            (1_000, nil, 1_000, .beforeSending),
            (1_000, nil, 2_000, .beforeSending),
            (nil, 0, 8 * day, .inBackground),
            (100 * day, 0, 8 * day, .inBackground),
            (.min, nil, 1_000, .beforeSending),
            (.max, nil, 1_000, .notDue),
        ]
        for c in cases {
            XCTAssertEqual(
                TokenRefreshSchedule.timing(expiresAt: c.expiresAt, lastRefresh: c.lastRefresh, now: c.now),
                c.timing,
                "\(String(describing: c.expiresAt)) \(String(describing: c.lastRefresh)) \(c.now)"
            )
        }
    }

    /// `expires_in` and `exp` are numbers from a token server or `auth.json`: one out of range is no expiry,
    /// not `Int64.min` (what `int64Value` makes of `1e30`), and `now + expires_in` cannot overflow.
    func testExpiryOutOfRangeIsUnknown() throws {
        func tokens(_ body: String) throws -> TokenRefreshTokens {
            guard case .success(let t) = TokenRefreshClassifier.classify(status: 200, body: Array(body.utf8)) else {
                XCTFail("not a success: \(body)")
                throw TokenRefreshError(kind: .transient, reason: "test", httpStatus: 200)
            }
            return t
        }
        XCTAssertEqual(try tokens(#"{"access_token":"at","expires_in":3600}"#).expiresAt(now: 1_000), 4_600)
        for odd in ["1e30", "-1e30", "-5", "9.3e18"] {
            let t = try tokens(#"{"access_token":"at","expires_in":\#(odd)}"#)
            XCTAssertNil(t.expiresIn, odd)
            XCTAssertNil(t.expiresAt(now: 1_000), odd)
        }
        let near = TokenRefreshTokens(accessToken: Secret("at"), expiresIn: .max)
        XCTAssertNil(near.expiresAt(now: 1_000), "the sum would overflow")
        for odd in ["1e30", "-1e30", "9.3e18"] {
            let jwt = FakeJWT.make(rawPayload: #"{"exp":\#(odd)}"#)
            XCTAssertNil(AuthJSONClaims.decode(jwt: jwt)?.expiresAt, odd)
        }
        XCTAssertEqual(
            AuthJSONClaims.decode(jwt: FakeJWT.make(rawPayload: #"{"exp":1800000000}"#))?.expiresAt,
            1_800_000_000
        )
    }
}
