/// When a quiet upstream attempt is given up over a WebSocket (a session's turn or a bridged request), as libcurl's
/// two limits give up an HTTP one: `firstByteSeconds` after the send until the first frame, then `idleSeconds`
/// after the last. A limit of 0 is off. Pure.
enum UpstreamSilence {
    /// The deadline on the monotonic clock; infinity when the limit in force is off.
    static func deadline(sentAt: Double, lastFrameAt: Double?, firstByteSeconds: Double, idleSeconds: Double) -> Double
    {
        let (since, limit) = lastFrameAt.map { ($0, idleSeconds) } ?? (sentAt, firstByteSeconds)
        return limit > 0 ? since + limit : .infinity
    }

    /// The reason an attempt given up at its deadline is logged and decided with (`error.type`).
    static func reason(lastFrameAt: Double?) -> String {
        lastFrameAt == nil ? "first_byte_timeout" : "idle_timeout"
    }
}
