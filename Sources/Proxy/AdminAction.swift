import Foundation

/// An operator action under `/admin/` (docs/configuration.md, "Admin routes"): the way out of a cooling state
/// before its timed exit, when the operator knows better than the upstream's last answer.
///
/// Pure: parsed from the path alone.
enum AdminAction: Equatable, Sendable {
    /// `POST /admin/accounts/<name>/reinstate`: end the account's cooldown now.
    case reinstateAccount(name: String)
    /// `POST /admin/tombstones/purge`: forget every dead-anchor tombstone.
    case purgeTombstones

    /// The `action` label of `sightline_admin_actions_total`.
    var metricLabel: String {
        switch self {
        case .reinstateAccount: "reinstate_account"
        case .purgeTombstones: "purge_tombstones"
        }
    }

    /// nil for any other path under `/admin/`. The account name is percent-decoded.
    init?(path: String) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 4 where parts[2] == "tombstones" && parts[3] == "purge":
            self = .purgeTombstones
        case 5 where parts[2] == "accounts" && parts[4] == "reinstate":
            guard let name = String(parts[3]).removingPercentEncoding, !name.isEmpty else { return nil }
            self = .reinstateAccount(name: name)
        default:
            return nil
        }
    }
}
