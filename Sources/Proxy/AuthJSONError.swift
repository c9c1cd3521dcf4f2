/// A Codex `auth.json` that cannot be imported.
///
/// `reason`: `invalid_json`, `unsupported_auth_mode` or `missing_credentials`. `detail` names the field,
/// never a value.
public struct AuthJSONError: Error, Equatable, Sendable, CustomStringConvertible {
    public let reason: String
    public let detail: String

    public init(reason: String, detail: String) {
        self.reason = reason
        self.detail = detail
    }

    public var description: String { "\(reason): \(detail)" }
}
