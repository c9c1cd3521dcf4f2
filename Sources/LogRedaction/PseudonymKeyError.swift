/// Why a pseudonym key could not be loaded, created or used.
///
/// `reason` is stable and low-cardinality (usable as `error.type`); `detail` is for humans and names
/// paths and counts, never key bytes.
public struct PseudonymKeyError: Error, Equatable, Sendable, CustomStringConvertible {
    public struct Reason: Hashable, Sendable, CustomStringConvertible {
        public let description: String
        private init(_ value: String) { self.description = value }
        /// Fewer than 32 key bytes.
        public static let keyTooShort = Reason("key_too_short")
        /// An explicit or environment key that is not hex.
        public static let invalidHex = Reason("invalid_hex")
        /// A key file readable or writable by group or others.
        public static let insecurePermissions = Reason("insecure_permissions")
        /// A key file that does not exist.
        public static let notFound = Reason("not_found")
        /// Any other file-system failure (errno in `detail`).
        public static let ioFailed = Reason("io_failed")
    }

    public let reason: Reason
    public let detail: String

    public init(_ reason: Reason, detail: String) {
        self.reason = reason
        self.detail = detail
    }

    public var description: String { "\(reason): \(detail)" }
}
