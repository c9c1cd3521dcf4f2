import Foundation

/// `TokenEndpoint` over the proxy's libcurl `UpstreamClient`: one POST, its whole (bounded) reply.
///
/// Completion runs on the upstream client's thread; `TokenRefresher` then writes the state file there,
/// which is allowed (it is not an event loop). Never logs: the body holds a refresh token.
struct CurlTokenEndpoint: TokenEndpoint {
    let client: UpstreamClient

    func post(
        url: String,
        body: [UInt8],
        headers: [(String, String)],
        completion: @escaping @Sendable (Result<(status: Int, body: [UInt8]), any Error>) -> Void
    ) {
        let request = UpstreamRequest(url: url, method: "POST", headers: headers, body: body)
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
