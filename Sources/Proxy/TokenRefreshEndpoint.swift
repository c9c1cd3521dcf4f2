/// The HTTP transport of `TokenRefresher`: one POST, answered once through `completion`.
///
/// The integrator plugs in the libcurl client; tests use a fake. Implementations must call
/// `completion` exactly once, on any thread, and must not log the body (it holds a refresh token).
/// A transport failure (connect, TLS, timeout) is `.failure`; any HTTP reply, whatever its status,
/// is `.success`.
public protocol TokenEndpoint: Sendable {
    func post(
        url: String,
        body: [UInt8],
        headers: [(String, String)],
        completion: @escaping @Sendable (Result<(status: Int, body: [UInt8]), any Error>) -> Void
    )
}
