import Foundation
import HTTPServer

extension SimulatorEngine {
    /// Handles `POST /oauth/token` (JSON or form-encoded): refresh-token rotation.
    ///
    /// 200 with new tokens for the current refresh token; 401 `refresh_token_reused` for a retired one and
    /// 401 `refresh_token_invalidated` after `/__sim/accounts/<name>/invalidate-refresh` (Codex treats a 401
    /// from the token endpoint as permanent and reads `error.code`); 400 `invalid_grant` for an unknown
    /// token and 400 `unsupported_grant_type` for any grant other than `refresh_token`. First of all, 401
    /// `invalid_client` (RFC 6749 §5.2) when `client_id` is not the configured client: no fault is taken and the
    /// refresh token is not used. A token fault queued for an account is taken only by a refresh token of that
    /// account (current or retired).
    func token(headers: HTTPHeaders, body: [UInt8]) -> SimulatorOutcome {
        var rec = record(method: "POST", path: "/oauth/token", headers: headers, bodyBytes: body.count)
        let fields = Self.tokenFields(body: body, contentType: headers["content-type"])
        let now = clock()
        var faultHeader: SimulatedFault?
        if let value = headers["x-sim-fault"] { faultHeader = SimulatedFault.parseHeader(value) }
        return state.withLock { state in
            var json = HTTPHeaders()
            json.add("cache-control", "no-store")
            guard fields["client_id"] == configuration.oauthClientId else {
                let body = ErrorBodies.token(code: "invalid_client", message: "Unknown or missing client_id.")
                return complete(&rec, &state, status: 401, headers: json, body: body)
            }
            // The refresh token names the account, so a token fault queued for one account reaches its refreshes;
            // asking with no account took only faults queued for any account, and a scoped one never fired.
            let account = state.ledger.account(ofRefreshToken: fields["refresh_token"] ?? "")
            let fault = state.faults.next(account: account, header: faultHeader, tokenEndpoint: true)
            rec.fault = fault?.name
            if fault != nil {
                rec.account = account
                let body = ErrorBodies.openAI(
                    message: "The token service failed.",
                    type: "server_error",
                    code: "server_error"
                )
                return complete(&rec, &state, status: 500, headers: json, body: body)
            }
            guard fields["grant_type"] == "refresh_token" else {
                let body = ErrorBodies.token(
                    code: "unsupported_grant_type",
                    message: "Only grant_type=refresh_token is supported."
                )
                return complete(&rec, &state, status: 400, headers: json, body: body)
            }
            switch state.ledger.refresh(refreshToken: fields["refresh_token"] ?? "", now: now) {
            case .rotated(let account, let access, let refresh, let idToken):
                rec.account = account
                let body = JSONText.object([
                    ("access_token", JSONText.quote(access)),
                    ("refresh_token", JSONText.quote(refresh)),
                    ("id_token", JSONText.quote(idToken)),
                    ("token_type", JSONText.quote("Bearer")),
                    ("expires_in", String(configuration.accessTokenLifetimeSeconds)),
                ])
                return complete(&rec, &state, status: 200, headers: json, body: Array(body.utf8))
            case .reused(let account):
                rec.account = account
                let message =
                    "Your refresh token has already been used to generate a new access token. Please try signing in again."
                return complete(
                    &rec,
                    &state,
                    status: 401,
                    headers: json,
                    body: ErrorBodies.token(code: "refresh_token_reused", message: message)
                )
            case .invalidated(let account):
                rec.account = account
                let message = "Your refresh token has been invalidated. Please try signing in again."
                return complete(
                    &rec,
                    &state,
                    status: 401,
                    headers: json,
                    body: ErrorBodies.token(code: "refresh_token_invalidated", message: message)
                )
            case .unknown:
                let body = ErrorBodies.token(code: "invalid_grant", message: "The refresh token is invalid.")
                return complete(&rec, &state, status: 400, headers: json, body: body)
            }
        }
    }

    /// The string fields of a token request body, JSON or `application/x-www-form-urlencoded`.
    static func tokenFields(body: [UInt8], contentType: String?) -> [String: String] {
        var fields: [String: String] = [:]
        let first = body.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 })
        if first == UInt8(ascii: "{") {
            let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
            for (key, value) in object ?? [:] {
                if let s = value as? String { fields[key] = s }
            }
            return fields
        }
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let plus = s.replacingOccurrences(of: "+", with: " ")
                return plus.removingPercentEncoding ?? plus
            }
            fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }
}
