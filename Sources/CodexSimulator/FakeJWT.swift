import Foundation

/// Builds unsigned, JWT-shaped id tokens carrying the claims Codex and the peers read
/// (`exp`, `https://api.openai.com/auth.chatgpt_account_id`, plan type, user ids, email).
///
/// The signature segment is the literal `sim-unsigned`: nothing checks it, and it makes the token
/// obviously fake. Concurrency: stateless; `Sendable`.
enum FakeJWT {
    static func idToken(accountId: String, plan: String, name: String, issuedAt: Double, expiresAt: Double) -> String {
        let header = #"{"alg":"none","typ":"JWT"}"#
        let auth = JSONText.object([
            ("chatgpt_account_id", JSONText.quote(accountId)),
            ("chatgpt_plan_type", JSONText.quote(plan)),
            ("chatgpt_user_id", JSONText.quote("sim-user-\(name)")),
            ("user_id", JSONText.quote("sim-user-\(name)")),
        ])
        let payload = JSONText.object([
            ("iss", JSONText.quote("https://auth.openai.com")),
            ("email", JSONText.quote("\(name)@example.invalid")),
            ("iat", String(Int(issuedAt))),
            ("exp", String(Int(expiresAt))),
            ("https://api.openai.com/auth", auth),
        ])
        return base64URL(header) + "." + base64URL(payload) + ".sim-unsigned"
    }

    static func base64URL(_ text: String) -> String {
        Data(text.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
