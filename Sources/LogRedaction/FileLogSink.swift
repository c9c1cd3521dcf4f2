import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Appends each line plus `\n` to a file with `write(2)` (no user-space buffer, so `tail -f` sees every
/// record at once) and rotates it by size.
///
/// Rotation: before a write that would take the file past `maxBytes`, the file is renamed aside and a
/// fresh one opened (on the writing thread; two syscalls). A background serial queue then shifts
/// `<path>.1.gz` … `<path>.<keepSegments>.gz` up by one (dropping the oldest) and gzips the renamed file
/// into `<path>.1.gz`. Leftovers of an interrupted rotation are compressed at the next start.
/// Failure: if a write fails (disk full, file removed under a read-only mount, …) the line goes to
/// `fallback` (standard error by default) and the sink keeps trying the file on later writes. The first
/// failure after a success also writes a `sightline.log.file_write_failed` record to `fallback`. It never
/// crashes and never throws after `init`.
/// Concurrency: `Mutex`-protected (`state`: descriptor, size, failure flag); rotation compression runs on
/// its own serial queue (`compressionQueue`).
public final class FileLogSink: LogSink {
    public struct OpenError: Error, Equatable, Sendable, CustomStringConvertible {
        /// Stable: `open_failed`.
        public let reason: String
        public let detail: String
        public var description: String { "\(reason): \(detail)" }
    }

    private struct State {
        var fd: Int32
        var size: Int
        var failing = false
        var rotations = 0
    }

    public let path: String
    public let maxBytes: Int
    public let keepSegments: Int
    private let fallback: any LogSink
    private let state: Mutex<State>
    private let failures = Atomic<Int>(0)
    private let compressionQueue = DispatchQueue(label: "sightline.log-rotation")

    /// - Parameters:
    ///   - maxBytes: rotate before a file would exceed this size; 0 disables rotation.
    ///   - keepSegments: compressed segments kept (`<path>.1.gz` newest); 0 deletes rotated files.
    public init(
        path: String,
        maxBytes: Int = 64 * 1024 * 1024,
        keepSegments: Int = 5,
        fallback: any LogSink = StandardStreamLogSink.standardError
    ) throws {
        self.path = path
        self.maxBytes = maxBytes
        self.keepSegments = keepSegments
        self.fallback = fallback
        let fd = Self.openLog(path)
        guard fd >= 0 else {
            throw OpenError(reason: "open_failed", detail: "\(path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        let size = fstat(fd, &info) == 0 ? Int(info.st_size) : 0
        self.state = Mutex(State(fd: fd, size: size))
        recoverInterruptedRotations()
    }

    deinit {
        compressionQueue.sync {}
        state.withLock { if $0.fd >= 0 { close($0.fd) } }
    }

    /// Writes that went to `fallback` instead of the file.
    public var writeFailures: Int { failures.load(ordering: .relaxed) }

    public func write(_ line: String) {
        let bytes = line.logLineBytes
        let failure: (code: Int32, first: Bool)? = state.withLock { state in
            if state.fd < 0 {
                state.fd = Self.openLog(path)
                state.size = 0
            }
            if state.fd >= 0, maxBytes > 0, state.size > 0, state.size + bytes.count > maxBytes {
                rotate(&state)
            }
            let code = state.fd >= 0 ? FileDescriptorWriter.writeAll(state.fd, bytes) : errno
            if code == 0 {
                state.size += bytes.count
                state.failing = false
                return nil
            }
            defer { state.failing = true }
            return (code, !state.failing)
        }
        guard let failure else { return }
        failures.add(1, ordering: .relaxed)
        if failure.first {
            fallback.write(
                LogRecordEncoder.encode(
                    timestamp: Date(),
                    severity: .error,
                    body: "log file write failed; writing to fallback",
                    event: "sightline.log.file_write_failed",
                    trace: nil,
                    attributes: [
                        LogAttribute("error.type", .string(Self.errorType(failure.code))),
                        LogAttribute("sightline.log.path", .string(path)),
                    ],
                    scanner: SecretScanner()
                )
            )
        }
        fallback.write(line)
    }

    /// Blocks until every queued rotation has been compressed (tests, shutdown).
    public func waitForPendingRotations() {
        compressionQueue.sync {}
    }

    /// `<path>.<n>.gz`, the n-th newest compressed segment.
    public func segmentPath(_ n: Int) -> String { "\(path).\(n).gz" }

    private func rotate(_ state: inout State) {
        close(state.fd)
        state.rotations += 1
        let rotated = "\(path).rotating.\(getpid()).\(state.rotations)"
        if rename(path, rotated) == 0 {
            scheduleCompression(of: rotated)
        }
        // If the rename failed we keep appending to the same file: oversize beats losing records.
        state.fd = Self.openLog(path)
        var info = stat()
        state.size = state.fd >= 0 && fstat(state.fd, &info) == 0 ? Int(info.st_size) : 0
    }

    private func scheduleCompression(of rotated: String) {
        let path = path
        let keep = keepSegments
        compressionQueue.async {
            defer { unlink(rotated) }
            guard keep > 0 else { return }
            unlink("\(path).\(keep).gz")
            for index in stride(from: keep - 1, through: 1, by: -1) {
                rename("\(path).\(index).gz", "\(path).\(index + 1).gz")
            }
            do {
                try GzipFile.compress(source: rotated, destination: "\(path).1.gz")
            } catch {
                // Keep the data uncompressed rather than lose it.
                rename(rotated, "\(path).1")
            }
        }
    }

    private func recoverInterruptedRotations() {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let prefix = url.lastPathComponent + ".rotating."
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in leftovers.sorted() where name.hasPrefix(prefix) {
            scheduleCompression(of: directory + "/" + name)
        }
    }

    private static func openLog(_ path: String) -> Int32 {
        open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
    }

    /// A low-cardinality name for the errno values a log write can hit.
    static func errorType(_ code: Int32) -> String {
        switch code {
        case ENOSPC: "no_space"
        case EDQUOT: "quota_exceeded"
        case EIO: "io_error"
        case EBADF: "bad_descriptor"
        case EROFS: "read_only_file_system"
        case EACCES, EPERM: "permission_denied"
        case ENOENT: "not_found"
        default: "_OTHER"
        }
    }
}
