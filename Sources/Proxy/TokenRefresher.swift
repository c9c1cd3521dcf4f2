import Foundation
import LogRedaction
import Synchronization
import WireFormats

/// What one refresh attempt came to, for the integrator's metrics, span event and log line.
///
/// `outcome` is the `sightline_token_refreshes_total{outcome}` value (`success`, `failure`, `terminal`);
/// `reason` is the `TokenRefreshError.reason` (nil on success); `persistError` is the `AccountStoreError`
/// reason when the store could not write (the new tokens are then only in memory: alert on it).
public struct TokenRefreshObservation: Sendable, Equatable {
    public let accountName: String
    public let outcome: String
    public let reason: String?
    public let persistError: String?
}

/// Refreshes access tokens, single-flight per account, and persists every rotation before anyone sees it.
///
/// Concurrent `refresh` calls for one account share one `POST /oauth/token`: the first starts it, the
/// others join its waiter list, and all completions receive the same result (a second concurrent refresh
/// would burn the single-use refresh token: `refresh_token_reused`). On success the rotated refresh
/// token and new access token are written through `AccountStore.recordRotation` (atomic file write)
/// BEFORE any completion runs. A terminal error marks the account `reauth_required` in the store, also
/// before completions run. Transient errors change nothing in the store; they start a backoff for the account
/// (`TokenRefreshBackoff`: 30 s, doubling, at most 5 min) during which `refresh` answers at once with a transient
/// `refresh_backoff` error instead of posting again, so requests to an account whose token is due do not each send
/// one more `POST /oauth/token` to an endpoint answering 429 or 5xx.
/// `ifGeneration` gives compare-and-set semantics: a caller that saw a 401 with generation g passes g,
/// and if the store already holds a newer generation (someone refreshed meanwhile) it gets the current
/// entry at once, without a network call.
/// It does not schedule refreshes (see `TokenRefreshSchedule`), retry, or log; it reports each attempt
/// once through `observer` (not once per waiter); an answer from the backoff is no attempt and is not reported.
/// Concurrency: `Sendable`; the waiter lists and backoffs sit behind one `Mutex`. Completions run on the endpoint's
/// callback thread (or the caller's, for immediate answers), never under the lock. The store write is
/// blocking file I/O on the endpoint's callback thread, so that thread must not be an event loop.
public final class TokenRefresher: Sendable {
    public typealias Completion = @Sendable (Result<AccountStoreEntry, TokenRefreshError>) -> Void

    public static let defaultTokenURL = "https://auth.openai.com/oauth/token"
    public static let defaultClientID = "app_EMoamEEZ73f0CkXaXp7hrann"

    private let store: AccountStore
    private let endpoint: any TokenEndpoint
    private let tokenURL: String
    private let clientID: String
    private let clock: @Sendable () -> Int64
    private let observer: (@Sendable (TokenRefreshObservation) -> Void)?
    private struct State {
        /// Account name → completions waiting for the refresh in flight.
        var waiters: [String: [Completion]] = [:]
        /// Account name → its backoff after transient failures; absent after a success or a terminal failure.
        var backoffs: [String: TokenRefreshBackoff] = [:]
    }

    private let state = Mutex(State())
    /// The key of the `RefreshTokenFingerprint`s the backoffs hold: drawn once, never stored.
    private let fingerprintKey = RefreshTokenFingerprint.makeKey()

    public init(
        store: AccountStore,
        endpoint: any TokenEndpoint,
        tokenURL: String = TokenRefresher.defaultTokenURL,
        clientID: String = TokenRefresher.defaultClientID,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
        observer: (@Sendable (TokenRefreshObservation) -> Void)? = nil
    ) {
        self.store = store
        self.endpoint = endpoint
        self.tokenURL = tokenURL
        self.clientID = clientID
        self.clock = clock
        self.observer = observer
    }

    /// Number of accounts with a refresh in flight (for a gauge and for tests).
    public var inFlightCount: Int { state.withLock { $0.waiters.count } }

    /// Refreshes `name`'s tokens, or joins the refresh already in flight, then calls `completion` once
    /// with the updated entry or the error.
    public func refresh(account name: String, ifGeneration expected: Int? = nil, completion: @escaping Completion) {
        enum Start {
            case joined
            case answer(Result<AccountStoreEntry, TokenRefreshError>)
            case start(Secret<String>)
        }
        let start: Start = state.withLock { state in
            if state.waiters[name] != nil {
                state.waiters[name]!.append(completion)
                return .joined
            }
            guard let entry = store.entry(named: name) else {
                return .answer(.failure(TokenRefreshError(kind: .transient, reason: "unknown_account")))
            }
            if let expected, entry.refreshGeneration != expected, entry.status == .active {
                return .answer(.success(entry))
            }
            guard entry.status == .active else {
                return .answer(.failure(TokenRefreshError(kind: .terminal, reason: "reauth_required")))
            }
            guard let refreshToken = entry.refreshToken else {
                return .answer(.failure(TokenRefreshError(kind: .terminal, reason: "not_refreshable")))
            }
            if let backoff = state.backoffs[name],
                !backoff.allows(login: RefreshTokenFingerprint(refreshToken, key: fingerprintKey), now: clock())
            {
                return .answer(.failure(TokenRefreshError(kind: .transient, reason: "refresh_backoff")))
            }
            state.waiters[name] = [completion]
            return .start(refreshToken)
        }
        switch start {
        case .joined:
            return
        case .answer(let result):
            completion(result)
        case .start(let refreshToken):
            let body = JSONEncoding.object([
                ("client_id", JSONEncoding.string(clientID)),
                ("grant_type", JSONEncoding.string("refresh_token")),
                ("refresh_token", JSONEncoding.string(refreshToken.reveal())),
                ("scope", JSONEncoding.string("openid profile email")),
            ])
            let headers = [("content-type", "application/json"), ("accept", "application/json")]
            endpoint.post(url: tokenURL, body: body, headers: headers) { [self] reply in
                finish(name, spent: refreshToken, reply)
            }
        }
    }

    /// `spent`: the refresh token this refresh used; the store applies the outcome only while it still holds it, and a
    /// transient failure's backoff applies to that login only.
    private func finish(
        _ name: String,
        spent: Secret<String>,
        _ reply: Result<(status: Int, body: [UInt8]), any Error>
    ) {
        let classification: TokenRefreshClassifier.Classification
        switch reply {
        case .failure: classification = .failure(TokenRefreshClassifier.networkFailure())
        case .success(let response):
            classification = TokenRefreshClassifier.classify(status: response.status, body: response.body)
        }
        let result: Result<AccountStoreEntry, TokenRefreshError>
        var persistError: String?
        switch classification {
        case .success(let tokens):
            do {
                result = .success(try store.recordRotation(name, tokens: tokens, now: clock(), spent: spent))
            } catch {
                // The change is kept in memory; use it, and report that the disk copy is stale.
                persistError = error.reason
                if let entry = store.entry(named: name) {
                    result = .success(entry)
                } else {
                    result = .failure(TokenRefreshError(kind: .transient, reason: "unknown_account"))
                }
            }
        case .failure(let error):
            if error.kind == .terminal {
                do { try store.markReauthRequired(name, spent: spent) } catch { persistError = error.reason }
            }
            result = .failure(error)
        }
        let outcome: String
        let reason: String?
        switch result {
        case .success:
            outcome = "success"
            reason = nil
        case .failure(let error):
            outcome = error.outcome
            reason = error.reason
        }
        observer?(
            TokenRefreshObservation(accountName: name, outcome: outcome, reason: reason, persistError: persistError)
        )
        let now = clock()
        let login = RefreshTokenFingerprint(spent, key: fingerprintKey)
        let completions = state.withLock { state in
            if case .failure(let error) = result, error.kind == .transient {
                if state.backoffs[name] == nil {
                    state.backoffs[name] = TokenRefreshBackoff(login: login, failedAt: now)
                } else {
                    state.backoffs[name]!.recordFailure(login: login, now: now)
                }
            } else {
                state.backoffs[name] = nil
            }
            return state.waiters.removeValue(forKey: name) ?? []
        }
        for completion in completions { completion(result) }
    }
}
