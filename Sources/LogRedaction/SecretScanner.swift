/// Scrubs credentials out of free text (upstream error bodies, exception text) before it is logged.
///
/// Each match is replaced by `[REDACTED:<detector>]` and reported through `onDetection`, which the
/// caller wires to `sightline_log_redactions_total{detector}` (this module knows nothing of metrics).
/// Detectors (see `detectors`):
///
/// | detector | match |
/// |---|---|
/// | `openai_api_key` | `sk-` + `[A-Za-z0-9_-]{20,}` at a word start (covers `sk-proj-`, `sk-svcacct-`) |
/// | `jwt` | `eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*` |
/// | `bearer_token` | `(?i)\bbearer\s+[A-Za-z0-9._~+/-]+=*` |
/// | `refresh_token` | value of JSON key or form field `refresh_token` |
/// | `secret_json_key` | value of JSON key or form field `access_token`, `id_token`, `api_key`, `authorization`, `password`, `secret`, `client_secret` |
///
/// Keys match exactly (case-insensitively), so `input_tokens` or `max_output_tokens` are never touched.
/// JSON embedded in a JSON string (`{\"password\":\"…\"}`) is handled too. JSON string values keep their
/// quotes, and bare scalars gain them, so scrubbed JSON stays parseable. It is a byte scanner, not a
/// regex engine: one pass, fixed ASCII triggers, no allocation when nothing matches. It does not
/// recognise secrets it has no detector for; keep credentials in `Secret` instead of relying on it.
/// Concurrency: immutable; `scrub` may run on any thread at once (so must `onDetection`).
public struct SecretScanner: Sendable {
    /// Every detector name, in a fixed order, for pre-initialising metric series.
    public static let detectors: [String] = SecretDetector.all.map(\.name)

    private let onDetection: @Sendable (String) -> Void

    /// `onDetection` runs once per match with the detector name, synchronously inside `scrub`.
    public init(onDetection: @escaping @Sendable (String) -> Void = { _ in }) {
        self.onDetection = onDetection
    }

    /// `text` with every match replaced, and the detector name of each match in text order.
    /// Returns `text` itself (no copy) when nothing matched.
    public func scrub(_ text: String) -> (text: String, detections: [String]) {
        var utf8Text = text
        let (output, detections) = utf8Text.withUTF8 { SecretMatcher.scan($0) }
        guard let output else { return (text, []) }
        for detection in detections { onDetection(detection) }
        return (String(decoding: output, as: UTF8.self), detections)
    }
}

/// One detector: its stable name (the metric label value) and its replacement text.
struct SecretDetector: Sendable {
    let name: String
    let replacement: [UInt8]

    init(_ name: String) {
        self.name = name
        self.replacement = Array("[REDACTED:\(name)]".utf8)
    }

    static let openAIAPIKey = SecretDetector("openai_api_key")
    static let jwt = SecretDetector("jwt")
    static let bearerToken = SecretDetector("bearer_token")
    static let refreshToken = SecretDetector("refresh_token")
    static let secretJSONKey = SecretDetector("secret_json_key")
    static let all: [SecretDetector] = [.openAIAPIKey, .jwt, .bearerToken, .refreshToken, .secretJSONKey]
}
