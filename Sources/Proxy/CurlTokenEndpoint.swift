import Foundation

/// `TokenEndpoint` over the proxy's libcurl `UpstreamClient`: one POST, its whole (bounded) reply.
///
/// The POST has timeouts of its own, never the client's streaming ones (`upstream.firstByteTimeoutSeconds` and
/// `idleTimeoutSeconds`, which may be off): every request to the account waits on its refresh, so a token
/// endpoint that accepts and never answers must fail the refresh within `totalTimeoutSeconds`, not hold the
/// account for 120 s or forever. A timeout is a transport failure: `TokenRefresher` reports it as a transient
/// `network` failure.
/// Completion runs on the upstream client's thread; `TokenRefresher` then writes the state file there,
/// which is allowed (it is not an event loop). Never logs: the body holds a refresh token.
struct CurlTokenEndpoint: TokenEndpoint {
    /// Connect plus TLS handshake, as the upstream default.
    static let defaultConnectTimeoutSeconds: Double = 10
    /// The whole exchange, connect to last byte. A healthy reply (a few hundred bytes) takes well under a second;
    /// 30 s leaves room for a slow one while a request waiting on it still gets an answer a client waits for.
    static let defaultTotalTimeoutSeconds: Double = 30

    let client: UpstreamClient
    var connectTimeoutSeconds = CurlTokenEndpoint.defaultConnectTimeoutSeconds
    var totalTimeoutSeconds = CurlTokenEndpoint.defaultTotalTimeoutSeconds

    func post(
        url: String,
        body: [UInt8],
        headers: [(String, String)],
        completion: @escaping @Sendable (Result<(status: Int, body: [UInt8]), any Error>) -> Void
    ) {
        let request = UpstreamRequest(
            url: url,
            method: "POST",
            headers: headers,
            body: body,
            connectTimeoutSeconds: connectTimeoutSeconds,
            // The streaming timers are off: the total timeout bounds the whole exchange.
            firstByteTimeoutSeconds: 0,
            idleTimeoutSeconds: 0,
            totalTimeoutSeconds: totalTimeoutSeconds
        )
        client.start(request, delegate: CollectingDelegate(completion: completion))
    }
}

/// Collects one bounded reply (1 MiB) and hands it to `completion` once.
/// Concurrency: called only on the upstream client's single thread; the buffer is confined there.
private final class CollectingDelegate: UpstreamDelegate, @unchecked Sendable {
    let completion: @Sendable (Result<(status: Int, body: [UInt8]), any Error>) -> Void
    var status = 0
    var body: [UInt8] = []

    init(completion: @escaping @Sendable (Result<(status: Int, body: [UInt8]), any Error>) -> Void) {
        self.completion = completion
    }

    func upstreamDidReceiveHead(status: Int, headers: [(String, String)]) { self.status = status }

    func upstreamDidReceive(_ bytes: UnsafeRawBufferPointer) -> UpstreamFlow {
        if body.count < 1 << 20 { body += bytes.prefix((1 << 20) - body.count) }
        return .proceed
    }

    func upstreamDidComplete(_ result: Result<UpstreamCompletion, UpstreamFailure>) {
        switch result {
        case .success: completion(.success((status: status, body: body)))
        case .failure(let failure): completion(.failure(failure))
        }
    }
}
