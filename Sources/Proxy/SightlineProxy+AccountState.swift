import Glibc

extension SightlineProxy {
    /// The state files that describe the upstream accounts and the conversations on them: `accounts.json` (tokens,
    /// cooldowns, quota), `sticky.json` and `affinity.json`. Not the pseudonym key, the log or the lock files.
    public static let accountStateFileNames = [
        AccountStore.fileName, ContinuitySnapshots.stickyFileName, AffinityMap.snapshotFileName,
    ]

    /// Removes `accountStateFileNames` from `stateDirectory` (a missing one is fine), for a proxy put in front of an
    /// upstream that remembers nothing, as `sightline demo`'s new simulator. Not for `serve`: its accounts.json holds
    /// the only copy of each rotated refresh token.
    public static func discardAccountState(stateDirectory: String) throws(AtomicFileError) {
        for name in accountStateFileNames {
            let path = stateDirectory + "/" + name
            if unlink(path) != 0 && errno != ENOENT { throw .system("unlink", path, errno) }
        }
    }
}
