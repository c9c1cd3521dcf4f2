/// A failed `AccountStore` operation.
///
/// `reason` is stable and low-cardinality: `corrupt_state`, `unknown_account`, or the `AtomicFileError`
/// reason of a failed read or write (`no_space`, `permission_denied`, `insecure_permissions`, `io_error`,
/// `invalid_file`). `detail` names the path or field, never a token.
public struct AccountStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    public let reason: String
    public let detail: String

    public static let corruptState = "corrupt_state"
    public static let unknownAccount = "unknown_account"

    public init(reason: String, detail: String) {
        self.reason = reason
        self.detail = detail
    }

    init(_ file: AtomicFileError) {
        self.init(reason: file.reason.description, detail: file.detail)
    }

    public var description: String { "\(reason): \(detail)" }
}
