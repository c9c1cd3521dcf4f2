#if canImport(Glibc)
import Glibc
#endif

/// A failed `AtomicFile` read or write.
///
/// `reason` is stable and low-cardinality (usable as `error.type` or a metric label); `detail` is for
/// humans and names the path and the failing system call, never file contents.
public struct AtomicFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public struct Reason: Hashable, Sendable, CustomStringConvertible {
        public let description: String
        private init(_ value: String) { self.description = value }

        /// The file does not exist (reads only).
        public static let notFound = Reason("not_found")
        /// `ENOSPC` or `EDQUOT`: the disk or quota is full.
        public static let noSpace = Reason("no_space")
        /// `EACCES`, `EPERM` or `EROFS`.
        public static let permissionDenied = Reason("permission_denied")
        /// A state file readable or writable by group or others; fix with `chmod 600`.
        public static let insecurePermissions = Reason("insecure_permissions")
        /// The path is not a regular file, or the file exceeds the read limit.
        public static let invalidFile = Reason("invalid_file")
        /// Any other system-call failure.
        public static let ioError = Reason("io_error")
    }

    public let reason: Reason
    public let detail: String

    public init(_ reason: Reason, detail: String) {
        self.reason = reason
        self.detail = detail
    }

    /// Maps an `errno` from `operation` on `path` to a reason.
    static func system(_ operation: String, _ path: String, _ code: Int32) -> AtomicFileError {
        let reason: Reason
        switch code {
        case ENOENT: reason = .notFound
        case ENOSPC, EDQUOT: reason = .noSpace
        case EACCES, EPERM, EROFS: reason = .permissionDenied
        default: reason = .ioError
        }
        return AtomicFileError(reason, detail: "\(operation) \(path): \(String(cString: strerror(code)))")
    }

    public var description: String { "\(reason): \(detail)" }
}
