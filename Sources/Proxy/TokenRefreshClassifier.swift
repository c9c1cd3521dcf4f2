import Foundation
import LogRedaction

/// Classifies a token endpoint reply. Pure: no I/O, no clock.
///
/// - 200 with an `access_token`: success.
/// - An error code in `terminalCodes` (read from `error.code`, an `error` string, or a top-level `code`),
///   whatever the status: terminal.
/// - Any other 401 or 403: terminal, reason `_OTHER` (Codex treats a 401 from the token endpoint as
///   permanent; retrying a rejected refresh token cannot succeed).
/// - 429: transient `rate_limited`; 5xx: transient `server_error`; other statuses: transient
///   `unexpected_status`; a 200 without an access token: transient `invalid_response`.
public enum TokenRefreshClassifier {
    public enum Classification: Sendable {
        case success(TokenRefreshTokens)
        case failure(TokenRefreshError)
    }

    /// Codes after which the refresh token (or the account) is dead; codex-protocol.md §8.
    public static let terminalCodes: Set<String> = [
        "refresh_token_reused", "refresh_token_expired", "refresh_token_invalidated", "invalid_grant",
        "token_invalidated", "token_expired", "account_deactivated", "account_suspended", "account_deleted",
        "app_session_terminated",
    ]

    public static func classify(status: Int, body: [UInt8]) -> Classification {
        let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
        if status == 200 {
            guard let access = object?["access_token"] as? String, !access.isEmpty else {
                return .failure(TokenRefreshError(kind: .transient, reason: "invalid_response", httpStatus: status))
            }
            var tokens = TokenRefreshTokens(accessToken: Secret(access))
            if let refresh = object?["refresh_token"] as? String, !refresh.isEmpty {
                tokens.refreshToken = Secret(refresh)
            }
            if let id = object?["id_token"] as? String, !id.isEmpty { tokens.idToken = Secret(id) }
            tokens.expiresIn = (object?["expires_in"] as? NSNumber)?.boundedInt64.flatMap { $0 >= 0 ? $0 : nil }
            return .success(tokens)
        }
        if let code = errorCode(object), terminalCodes.contains(code) {
            return .failure(TokenRefreshError(kind: .terminal, reason: code, httpStatus: status))
        }
        let reason: String
        switch status {
        case 401, 403: return .failure(TokenRefreshError(kind: .terminal, reason: "_OTHER", httpStatus: status))
        case 429: reason = "rate_limited"
        case 500...599: reason = "server_error"
        default: reason = "unexpected_status"
        }
        return .failure(TokenRefreshError(kind: .transient, reason: reason, httpStatus: status))
    }

    /// A transport failure: always transient.
    public static func networkFailure() -> TokenRefreshError {
        TokenRefreshError(kind: .transient, reason: "network")
    }

    /// `error.code`, else `error` when it is a string (OAuth style), else a top-level `code`.
    static func errorCode(_ object: [String: Any]?) -> String? {
        guard let object else { return nil }
        if let error = object["error"] as? [String: Any] {
            if let code = error["code"] as? String { return code }
            if let type = error["type"] as? String { return type }
        }
        if let error = object["error"] as? String { return error }
        return object["code"] as? String
    }
}
