/// Why the server refused a request by itself.
///
/// `reason` is stable and low-cardinality: it becomes the `code` of the OpenAI-shaped error body and the
/// `reason` passed to `HTTPServerObserver.protocolError`. `message` is for humans and never a label.
/// Concurrency: a value type; `Sendable`.
public struct HTTPParseError: Error, Equatable, Sendable {
    public var reason: String
    public var status: Int
    public var message: String

    public init(reason: String, status: Int, message: String) {
        self.reason = reason
        self.status = status
        self.message = message
    }

    static func malformed(_ message: String) -> HTTPParseError {
        HTTPParseError(reason: "malformed_request", status: 400, message: message)
    }

    static func badChunked(_ message: String) -> HTTPParseError {
        HTTPParseError(reason: "bad_chunked_encoding", status: 400, message: message)
    }

    static let headerTooLarge = HTTPParseError(
        reason: "header_too_large",
        status: 431,
        message: "Request header fields are too large."
    )
    static let bodyTooLarge = HTTPParseError(
        reason: "body_too_large",
        status: 413,
        message: "Request body is too large."
    )
    static let expectationFailed = HTTPParseError(
        reason: "expectation_failed",
        status: 417,
        message: "Only the 100-continue expectation is supported."
    )
    static let headerTimeout = HTTPParseError(
        reason: "header_timeout",
        status: 408,
        message: "Timed out waiting for the request headers."
    )
    static let incompleteRequest = HTTPParseError(
        reason: "incomplete_request",
        status: 400,
        message: "The connection was closed before the request was complete."
    )
    static let bodyTimeout = HTTPParseError(
        reason: "body_timeout",
        status: 408,
        message: "Timed out waiting for the request body."
    )
}
