import Foundation

extension AccountPool {
    /// The sticky map as JSON: `{"version":1,"sticky":{"sess_…":{"account":"acct_…","at":<unix s>}}}`.
    /// Keys and accounts are pseudonyms, so the file holds no raw continuity key or account id.
    func stickySnapshot(now: Double) -> [UInt8] {
        let entries = stickyEntries().filter { now - $0.value.at < stickyTTLSeconds }
        var object: [String: Any] = [:]
        for (session, sticky) in entries {
            object[session] = ["account": pseudonyms[sticky.index], "at": sticky.at]
        }
        let root: [String: Any] = ["version": 1, "sticky": object]
        return Array((try? JSONSerialization.data(withJSONObject: root, options: [.sortedKeys])) ?? Data("{}".utf8))
    }

    /// Restores a snapshot; accounts are matched by pseudonym, so a reordered pool restores correctly
    /// and entries of removed accounts are dropped. Returns how many entries were restored.
    @discardableResult
    func restoreSticky(_ bytes: [UInt8], now: Double) -> Int {
        guard let root = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            root["version"] as? Int == 1, let sticky = root["sticky"] as? [String: Any]
        else { return 0 }
        var indexByPseudonym: [String: Int] = [:]
        for (i, p) in pseudonyms.enumerated() { indexByPseudonym[p] = i }
        var restored: [String: Sticky] = [:]
        for (session, value) in sticky {
            guard let v = value as? [String: Any], let account = v["account"] as? String,
                let index = indexByPseudonym[account], let at = v["at"] as? Double, now - at < stickyTTLSeconds
            else { continue }
            restored[session] = Sticky(index: index, at: at)
        }
        mergeSticky(restored)
        return restored.count
    }
}
