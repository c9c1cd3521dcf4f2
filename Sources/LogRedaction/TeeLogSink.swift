/// Writes every line to each of its sinks, in order (e.g. stdout and a rotating file).
///
/// Concurrency: immutable; thread safety is each inner sink's.
public struct TeeLogSink: LogSink {
    public let sinks: [any LogSink]

    public init(_ sinks: [any LogSink]) { self.sinks = sinks }

    public func write(_ line: String) {
        for sink in sinks { sink.write(line) }
    }
}
