import CCurl

/// An upstream transfer that ended without a complete HTTP response.
///
/// `reason` is stable and low-cardinality: use it verbatim as a metric label or the `error.type` attribute.
/// It comes from a fixed table over `CURLcode` (`reason(forCurlCode:)`) or from the client's own timers and
/// cancellation, never from network text. `detail` is for humans (libcurl's error buffer); it may contain
/// host names, so it goes through the redactor before it is logged and never becomes a label.
/// An HTTP error status (4xx/5xx) is not a failure: it completes normally with that status.
public struct UpstreamFailure: Error, Equatable, Sendable {
    /// The closed set of failure reasons.
    public struct Reason: Hashable, Sendable, CustomStringConvertible {
        public let description: String
        private init(_ value: String) { self.description = value }

        /// TCP connect was refused or unreachable (`CURLE_COULDNT_CONNECT`).
        public static let connectFailed = Reason("connect_failed")
        /// Name resolution failed.
        public static let dnsFailed = Reason("dns_failed")
        /// TLS handshake or certificate verification failed.
        public static let tlsFailed = Reason("tls_failed")
        /// libcurl's connect timeout (connect + TLS handshake) expired, so the request was not sent; or the
        /// request's own total timeout (`UpstreamRequest.totalTimeoutSeconds`) expired.
        public static let timeout = Reason("timeout")
        /// No response byte within the first-byte timeout.
        public static let firstByteTimeout = Reason("first_byte_timeout")
        /// The response went silent for longer than the idle timeout.
        public static let idleTimeout = Reason("idle_timeout")
        /// The connection broke while sending or receiving, or closed before the response was complete.
        public static let connectionReset = Reason("connection_reset")
        /// `UpstreamTransfer.cancel()` or client shutdown.
        public static let cancelled = Reason("cancelled")
        /// The upstream spoke malformed HTTP (or HTTP/2) or the URL/scheme was unusable.
        public static let protocolError = Reason("protocol_error")
        /// Anything else.
        public static let other = Reason("other")

        /// Every reason, for pre-initialising metric series at zero.
        public static let all: [Reason] = [
            .connectFailed, .dnsFailed, .tlsFailed, .timeout, .firstByteTimeout, .idleTimeout, .connectionReset,
            .cancelled, .protocolError, .other,
        ]
    }

    public var reason: Reason
    /// The libcurl result code, or `nil` when the client itself ended the transfer (timers, cancellation).
    public var curlCode: Int?
    /// Human-readable explanation; never a label.
    public var detail: String
    /// Response body bytes the delegate had consumed before the failure.
    public var bytesReceived: Int

    public init(reason: Reason, curlCode: Int? = nil, detail: String, bytesReceived: Int = 0) {
        self.reason = reason
        self.curlCode = curlCode
        self.detail = detail
        self.bytesReceived = bytesReceived
    }

    /// Maps a libcurl result code to a reason. Codes not in the table are `other`.
    public static func reason(forCurlCode code: Int) -> Reason {
        reasonTable[code] ?? .other
    }

    private static let reasonTable: [Int: Reason] = {
        var table: [Int: Reason] = [:]
        func map(_ codes: [CURLcode], _ reason: Reason) {
            for code in codes { table[Int(code.rawValue)] = reason }
        }
        map([CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY], .dnsFailed)
        map([CURLE_COULDNT_CONNECT], .connectFailed)
        map([CURLE_OPERATION_TIMEDOUT], .timeout)
        map(
            [
                CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
                CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
                CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,
                CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE, CURLE_USE_SSL_FAILED,
            ],
            .tlsFailed
        )
        map([CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE], .connectionReset)
        map(
            [
                CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT, CURLE_WEIRD_SERVER_REPLY, CURLE_HTTP2,
                CURLE_HTTP2_STREAM, CURLE_HTTP3, CURLE_BAD_CONTENT_ENCODING, CURLE_TOO_MANY_REDIRECTS,
            ],
            .protocolError
        )
        return table
    }()
}
