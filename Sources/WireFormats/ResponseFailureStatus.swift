/// The HTTP status a non-streaming client gets for an upstream `response.failed` (or bare `error`) code. A
/// streaming request that ends with the same failure after its 200 head counts with this status in the request
/// metrics, so both count alike (docs/metrics.md).
///
/// A small fixed table; anything unknown or missing is treated as an upstream fault (502). The table is
/// documented in docs/wire-formats.md — keep the two in step.
/// Concurrency: stateless.
public enum ResponseFailureStatus {
    public static let table: [String: Int] = [
        "rate_limit_exceeded": 429,
        "usage_limit_reached": 429,
        "insufficient_quota": 429,
        "usage_not_included": 403,
        "context_length_exceeded": 400,
        "invalid_encrypted_content": 400,
        "invalid_prompt": 400,
        "cyber_policy": 400,
        "server_is_overloaded": 503,
        "slow_down": 503,
        "server_error": 502,
    ]

    /// The status for `code`; 502 for unknown or nil codes.
    public static func status(forCode code: String?) -> Int {
        code.flatMap { table[$0] } ?? 502
    }
}
