import WireFormats

/// What just happened on one upstream attempt, before anything reached the client. Built by the
/// transport from the status, the error body's `error.code`, or the first SSE event; input to
/// `RecoveryPolicy.decide`.
enum UpstreamEvent: Equatable, Sendable {
    /// An HTTP error status with its mapped error class.
    case httpError(status: Int, error: UpstreamErrorClass)
    /// `response.failed` or an `error` event arrived as the first meaningful event.
    case inStreamError(UpstreamErrorClass)
    /// Connect, TLS, reset, timeout, or EOF before the first event.
    case transportFailure(reason: String)
}

/// Upstream `error.code` strings mapped through a table to a closed set; unknown codes are `.other`.
/// Nothing from the network becomes a label directly.
enum UpstreamErrorClass: String, Equatable, Sendable {
    case previousResponseNotFound = "previous_response_not_found"
    case usageLimitReached = "usage_limit_reached"
    case rateLimitExceeded = "rate_limit_exceeded"
    case tokenInvalidated = "token_invalidated"
    case tokenExpired = "token_expired"
    case unauthorized = "unauthorized"
    case paymentRequired = "payment_required"
    case forbidden = "forbidden"
    case serverError = "server_error"
    case overloaded = "server_is_overloaded"
    case contextLengthExceeded = "context_length_exceeded"
    case invalidRequest = "invalid_request"
    /// The input holds `encrypted_content` another upstream identity sealed (`EncryptedReasoning`).
    case invalidEncryptedContent = "invalid_encrypted_content"
    case other = "_OTHER"

    /// The class of the error a stream event carries (`response.failed`, a bare `error`), for which no HTTP
    /// status is known.
    static func of(_ error: ResponseEventSummary.ErrorInfo?) -> UpstreamErrorClass {
        classify(code: error?.code, type: error?.type, status: nil)
    }

    /// Maps an upstream `error.code` (or `error.type` when the code is absent) and the HTTP status.
    static func classify(code: String?, type: String?, status: Int?) -> UpstreamErrorClass {
        switch code ?? type {
        case "previous_response_not_found": return .previousResponseNotFound
        // `insufficient_quota` (an API key's billing) and `usage_not_included` (a plan without Codex) are quota
        // and access refusals of the account, not of the request: inside a stream, with no status to go by, they
        // read as `.other` until 2026-12-07 and reached Codex, for which both are fatal, while other accounts could
        // have served the turn.
        case "usage_limit_reached", "insufficient_quota": return .usageLimitReached
        case "usage_not_included": return .forbidden
        case "rate_limit_exceeded": return .rateLimitExceeded
        case "token_invalidated", "token_revoked": return .tokenInvalidated
        case "token_expired": return .tokenExpired
        case "server_error", "internal_error": return .serverError
        case "server_is_overloaded", "slow_down": return .overloaded
        case "context_length_exceeded": return .contextLengthExceeded
        case "invalid_encrypted_content": return .invalidEncryptedContent
        default: break
        }
        switch status {
        case 401?: return .unauthorized
        case 402?: return .paymentRequired
        case 403?: return .forbidden
        case 429?: return .rateLimitExceeded
        case let s? where s >= 500: return .serverError
        case let s? where s >= 400: return .invalidRequest
        default: return .other
        }
    }
}
