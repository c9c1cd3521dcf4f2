import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Writes each line plus `\n` to standard output or standard error with one `write(2)` call path,
/// unbuffered, so every record is visible as soon as `write` returns.
///
/// It does not use `FileHandle` or stdio (`stdout` is not concurrency-safe in Swift 6). Write errors
/// (a closed pipe) are dropped: there is nowhere left to report them.
/// Concurrency: a `Mutex` (`lock`) serialises writers so long lines never interleave.
public final class StandardStreamLogSink: LogSink {
    public enum Stream: Sendable {
        case standardOutput
        case standardError
    }

    public static let standardOutput = StandardStreamLogSink(.standardOutput)
    public static let standardError = StandardStreamLogSink(.standardError)

    private let fd: Int32
    private let lock = Mutex(())

    public init(_ stream: Stream) {
        fd = stream == .standardOutput ? 1 : 2
    }

    public func write(_ line: String) {
        let bytes = line.logLineBytes
        lock.withLock { _ in _ = FileDescriptorWriter.writeAll(fd, bytes) }
    }
}
