/// What a running proxy takes from `accounts.json` before it rewrites the file: the changes another process
/// made since the proxy last wrote it (`sightline accounts import`, run while `serve` runs). Pure.
///
/// The proxy rewrites the whole file on every cooldown, rotation and re-auth. Before 2026-12-07 it wrote
/// only what it held in memory, so an account imported meanwhile was deleted from the file, and a re-import
/// (new tokens for an account that needed re-authentication) was reverted to the spent tokens, each without
/// a word, at the first cooldown or refresh after the import.
///
/// The rule, per entry of the file:
/// - **A name the proxy does not hold** (a new import): kept, after the proxy's entries. It is pooled at the
///   next start, as an import always was.
/// - **A login written by someone else** (`isExternalLogin`): the file's entry differs in its tokens or API key
///   and its generation is not older than the proxy's (an import advances the generation it read; the proxy's
///   own unwritten rotation would have the higher one), or it holds the same tokens at a newer generation (the
///   operator re-imported the login the proxy holds, to bring it back from `reauth_required`). The file's entry
///   wins: tokens, expiry, status and generation, so the proxy's next attempt on that account already uses the
///   imported tokens. The cooldown is the later of the two and the quota the more recent: they describe the
///   account, not the token. Until 2026-12-08 the same tokens never counted, so the proxy wrote its
///   `reauth_required` copy back over such a re-import at its next write.
/// - **Anything else**: the proxy's entry, which is what the proxy last wrote or newer.
enum AccountStoreExternalChanges {
    static func merge(memory: [AccountStoreEntry], file: [AccountStoreEntry]) -> [AccountStoreEntry] {
        var result = memory
        var index: [String: Int] = [:]
        for (i, entry) in memory.enumerated() { index[entry.name] = i }
        for theirs in file {
            guard let i = index[theirs.name] else {
                index[theirs.name] = result.count
                result.append(theirs)
                continue
            }
            let ours = result[i]
            guard isExternalLogin(ours: ours, theirs: theirs) else { continue }
            var adopted = theirs
            adopted.cooldownUntil = [ours.cooldownUntil, theirs.cooldownUntil].compactMap { $0 }.max()
            if let q = ours.quota, q.observedAt >= theirs.quota?.observedAt ?? .min { adopted.quota = q }
            result[i] = adopted
        }
        return result
    }

    /// Whether the file's entry `theirs` is a login another process wrote over the proxy's `ours`. Only an import
    /// advances the generation without the proxy (the proxy writes every rotation it makes), so a newer generation
    /// is one even with the same tokens.
    static func isExternalLogin(ours: AccountStoreEntry, theirs: AccountStoreEntry) -> Bool {
        if theirs.refreshGeneration > ours.refreshGeneration { return true }
        return theirs.refreshGeneration == ours.refreshGeneration && !sameCredentials(ours, theirs)
    }

    static func sameCredentials(_ a: AccountStoreEntry, _ b: AccountStoreEntry) -> Bool {
        a.accessToken?.reveal() == b.accessToken?.reveal() && a.refreshToken?.reveal() == b.refreshToken?.reveal()
            && a.apiKey?.reveal() == b.apiKey?.reveal()
    }
}
