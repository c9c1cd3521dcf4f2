import Foundation

/// The claims Sightline reads from an OpenAI access or id token, decoded WITHOUT verifying the signature.
///
/// Reading claims only informs scheduling and naming (when to refresh, which ChatGPT account and seat a
/// token belongs to); nothing is trusted for authorisation, so no key is needed (Codex does the same).
/// The email claim is deliberately not decoded: Sightline never stores or logs it.
/// Pure; a value type.
public struct AuthJSONClaims: Sendable, Equatable {
    /// `exp`, unix seconds.
    public var expiresAt: Int64?
    /// `https://api.openai.com/auth`.`chatgpt_account_id`.
    public var chatGPTAccountID: String?
    /// `https://api.openai.com/auth`.`chatgpt_plan_type` (`plus`, `pro`, …).
    public var planType: String?
    /// `https://api.openai.com/auth`.`chatgpt_user_id` (else its alias `user_id`): the seat. Members of one
    /// ChatGPT Team or Business workspace share `chatgpt_account_id` (the workspace) and differ only here.
    public var userID: String?

    public init(
        expiresAt: Int64? = nil,
        chatGPTAccountID: String? = nil,
        planType: String? = nil,
        userID: String? = nil
    ) {
        self.expiresAt = expiresAt
        self.chatGPTAccountID = chatGPTAccountID
        self.planType = planType
        self.userID = userID
    }

    static let authClaim = "https://api.openai.com/auth"

    /// The claims of `header.payload.signature` (signature may be empty or anything), or nil when the
    /// token is not a JWT with a JSON-object payload (opaque tokens, API keys).
    public static func decode(jwt: String) -> AuthJSONClaims? {
        let parts = jwt.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = base64URLDecode(parts[1]),
            let object = try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any]
        else { return nil }
        var claims = AuthJSONClaims()
        claims.expiresAt = (object["exp"] as? NSNumber)?.boundedInt64
        if let auth = object[authClaim] as? [String: Any] {
            claims.chatGPTAccountID = auth["chatgpt_account_id"] as? String
            claims.planType = auth["chatgpt_plan_type"] as? String
            claims.userID = (auth["chatgpt_user_id"] as? String) ?? (auth["user_id"] as? String)
        }
        return claims
    }

    /// RFC 4648 §5 base64url, padding optional.
    public static func base64URLDecode(_ text: some StringProtocol) -> [UInt8]? {
        var standard = String(text).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.utf8.count % 4 != 0 { standard.append("=") }
        return Data(base64Encoded: standard).map { [UInt8]($0) }
    }

    /// base64url without padding, as JWT segments are written (used by tests to build fake tokens).
    public static func base64URLEncode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
