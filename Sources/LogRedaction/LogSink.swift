/// Where finished log lines go.
///
/// Requirements for conforming types:
/// - `line` is one complete JSON object without a trailing newline; the sink terminates it with `\n`
///   (or keeps it as is, for in-memory sinks).
/// - `write` must not throw, must not crash on I/O failure (fall back, count, keep serving) and must
///   return promptly: it runs on the request path.
/// - `write` may be called from any thread at once; a sink serialises its own output so lines never
///   interleave.
public protocol LogSink: Sendable {
    func write(_ line: String)
}
