/// An affinity snapshot that cannot be restored.
///
/// `reason`: `corrupt_snapshot`, `key_mismatch` (written under another pseudonym key: its `rid_` keys
/// can never match, so it is ignored), or a file reason from `AtomicFileError`.
public struct AffinitySnapshotError: Error, Equatable, Sendable, CustomStringConvertible {
    public let reason: String
    public let detail: String

    public init(reason: String, detail: String) {
        self.reason = reason
        self.detail = detail
    }

    public var description: String { "\(reason): \(detail)" }
}
