import LogRedaction
import Synchronization

/// The shared, persistent per-account state: tokens, expiry, status, cooldown and last quota.
///
/// Backed by `<stateDir>/accounts.json` (mode 0600, written with `AtomicFile`). `open` loads the file,
/// merges it with the configuration (`AccountStoreMerge` documents which side wins) and writes the
/// result back if it differs. Every mutation first takes in what another process changed in the file since
/// (`AccountStoreExternalChanges`: an `accounts import` while `serve` runs), then applies itself to a copy,
/// rewrites the whole file from that copy, and only then makes the copy what readers see, before returning.
/// Mutations run one at a time (`writing`), so the file order matches the memory order; in particular a
/// rotated refresh token is on disk before `recordRotation` returns, and before anyone can read the new
/// access token.
/// If a write fails, the in-memory change is kept (a rotated token must not be forgotten while the
/// process can still use it) and the error is thrown so the caller can log and count it.
/// A corrupt state file is refused (`corrupt_state`) rather than overwritten: it may hold the only copy
/// of a rotated refresh token.
/// It does not log, emit metrics or refresh tokens (`TokenRefresher` does). Entries are never removed.
/// Concurrency: `Sendable`. Readers (`entry(named:)`, `entries()`) take only `state`, a `Mutex` never held
/// across I/O, so an event loop reading credentials never waits for a disk. Mutations do blocking file I/O
/// under `writing` (and the cross-process `FileLock`): call them off event-loop threads (refresh completions,
/// `AccountStateWriter`'s queue, a periodic saver).
public final class AccountStore: Sendable {
    public static let fileName = "accounts.json"

    private struct State {
        var entries: [AccountStoreEntry]
        var indexByName: [String: Int]
    }

    /// The state file, or nil for a memory-only store (tests, `--no-state`).
    public let path: String?
    /// What readers see. Held only to copy or replace it, never across I/O: until 2026-12-07 every mutation held
    /// it around its `flock`, read, write and `fsync`, so each request's credential read on an event loop waited
    /// for the disk while any write ran (a rotation, the continuity timer's quota write, a cooldown).
    private let state: Mutex<State>
    /// Held around each whole read-merge-write (and the periodic read of external changes): the only place
    /// `state` changes, one at a time, so a mutation built on a copy never overwrites another's.
    private let writing = Mutex<Void>(())
    /// A write failed since the last one that succeeded: memory holds changes the file does not
    /// (`hasUnwrittenChanges`, `ContinuitySnapshots` writes them again).
    private let behind = Atomic<Bool>(false)
    /// Called, outside the lock, with the names of the entries taken in from another process's changes to the
    /// file (`AccountStoreExternalChanges`); the proxy logs them. The store itself never logs.
    private let onExternalChanges: (@Sendable ([String]) -> Void)?

    /// A store over `entries` that writes to `path` on every change (nil: never writes). No I/O here.
    public init(
        path: String?,
        entries: [AccountStoreEntry],
        onExternalChanges: (@Sendable ([String]) -> Void)? = nil
    ) {
        self.path = path
        self.onExternalChanges = onExternalChanges
        var index: [String: Int] = [:]
        var unique: [AccountStoreEntry] = []
        for entry in entries where index[entry.name] == nil {
            index[entry.name] = unique.count
            unique.append(entry)
        }
        self.state = Mutex(State(entries: unique, indexByName: index))
    }

    /// Loads `<stateDirectory>/accounts.json` (creating the directory 0700 if needed), merges it with
    /// `seeds` and writes the merged file when it changed. An absent file is an empty state.
    public static func open(
        stateDirectory: String,
        seeds: [AccountStoreSeed],
        onExternalChanges: (@Sendable ([String]) -> Void)? = nil
    ) throws(AccountStoreError) -> AccountStore {
        let path = stateDirectory + "/" + fileName
        do { try AtomicFile.ensureDirectory(stateDirectory) } catch { throw AccountStoreError(error) }
        // One read-merge-write under the cross-process lock, as every later mutation is: an `accounts import`
        // written between this read and this write was lost without a word.
        let opened = FileLock.exclusive(path + ".lock") {
            Result { () throws(AccountStoreError) -> AccountStore in
                try openLocked(path: path, seeds: seeds, onExternalChanges: onExternalChanges)
            }
        }
        return try opened.get()
    }

    /// `open`'s read-merge-write, under the file lock.
    private static func openLocked(
        path: String,
        seeds: [AccountStoreSeed],
        onExternalChanges: (@Sendable ([String]) -> Void)?
    ) throws(AccountStoreError) -> AccountStore {
        let existing: [UInt8]?
        do { existing = try AtomicFile.readIfExists(path) } catch { throw AccountStoreError(error) }
        let stateEntries =
            try existing.map { bytes throws(AccountStoreError) in try AccountStoreCodec.decode(bytes) } ?? []
        let merged = AccountStoreMerge.merge(state: stateEntries, seeds: seeds)
        let store = AccountStore(path: path, entries: merged, onExternalChanges: onExternalChanges)
        let encoded = AccountStoreCodec.encode(store.entries())
        if encoded != existing {
            do { try AtomicFile.write(encoded, to: path) } catch { throw AccountStoreError(error) }
        }
        return store
    }

    /// Every entry, configured accounts first.
    public func entries() -> [AccountStoreEntry] { state.withLock { $0.entries } }

    public func entry(named name: String) -> AccountStoreEntry? {
        state.withLock { state in state.indexByName[name].map { state.entries[$0] } }
    }

    /// Applies `change` to the named entry and persists. Throws `unknown_account`, or a file reason
    /// (the change is then kept in memory). `change` runs under the file lock: keep it short, no I/O.
    @discardableResult
    public func update(
        _ name: String,
        _ change: (inout AccountStoreEntry) -> Void
    ) throws(AccountStoreError) -> AccountStoreEntry {
        try readMergeWrite { state in
            guard let index = state.indexByName[name] else {
                return .failure(AccountStoreError(reason: AccountStoreError.unknownAccount, detail: name))
            }
            change(&state.entries[index])
            state.entries[index].name = name  // the key cannot change through an update
            return .success(state.entries[index])
        }
    }

    /// Adds `entry`, or replaces the entry of the same name, and persists.
    public func upsert(_ entry: AccountStoreEntry) throws(AccountStoreError) {
        try readMergeWrite { state in
            if let index = state.indexByName[entry.name] {
                state.entries[index] = entry
            } else {
                state.indexByName[entry.name] = state.entries.count
                state.entries.append(entry)
            }
            return .success(())
        }
    }

    /// Stores the tokens of a successful refresh: new access token, the rotated refresh token (kept when
    /// the reply had none), id token, expiry; `lastRefresh = now`, generation + 1, status `active`.
    /// Returns once the file is written.
    @discardableResult
    /// With `spent` (the refresh token the refresh used), nothing changes if the entry no longer holds it: an
    /// import replaced the login meanwhile (`AccountStoreExternalChanges`), and the operator's login wins over
    /// the rotation of the one it replaced. The entry returned is then the imported one.
    public func recordRotation(
        _ name: String,
        tokens: TokenRefreshTokens,
        now: Int64,
        spent: Secret<String>? = nil
    ) throws(AccountStoreError) -> AccountStoreEntry {
        try update(name) { entry in
            guard Self.stillHolds(entry, spent) else { return }
            entry.accessToken = tokens.accessToken
            if let refresh = tokens.refreshToken { entry.refreshToken = refresh }
            if let id = tokens.idToken { entry.idToken = id }
            entry.expiresAt = tokens.expiresAt(now: now)
            if let claims = tokens.idToken.flatMap({ AuthJSONClaims.decode(jwt: $0.reveal()) }) {
                entry.planType = claims.planType ?? entry.planType
            }
            entry.lastRefresh = now
            entry.refreshGeneration += 1
            entry.status = .active
        }
    }

    /// Marks the account `reauth_required` (a terminal refresh failure); it leaves the pool until new
    /// credentials arrive. With `spent` (the refresh token that failed), only while the entry still holds it:
    /// an import that replaced the login meanwhile is not marked for the old login's failure.
    public func markReauthRequired(_ name: String, spent: Secret<String>? = nil) throws(AccountStoreError) {
        try update(name) { entry in
            guard Self.stillHolds(entry, spent) else { return }
            entry.status = .reauthRequired
        }
    }

    private static func stillHolds(_ entry: AccountStoreEntry, _ spent: Secret<String>?) -> Bool {
        guard let spent else { return true }
        return entry.refreshToken?.reveal() == spent.reveal()
    }

    /// The cooldown rule: the later of the two ends (a later, shorter signal must not erase a longer lock); nil
    /// clears.
    private static func cooldown(_ current: Int64?, setTo until: Int64?) -> Int64? {
        until.map { max(current ?? $0, $0) }
    }

    /// Sets the cooldown end of each change in order (`cooldown(_:setTo:)`), in one write of the file (names it does
    /// not hold are skipped): what `AccountStateWriter` writes for the pool, off the event loops.
    public func setCooldowns(_ changes: [(name: String, until: Int64?)]) throws(AccountStoreError) {
        guard !changes.isEmpty else { return }
        try readMergeWrite { state in
            for (name, until) in changes {
                guard let index = state.indexByName[name] else { continue }
                state.entries[index].cooldownUntil = Self.cooldown(state.entries[index].cooldownUntil, setTo: until)
            }
            return .success(())
        }
    }

    /// Replaces the cooldown end, shorter or not: for the start-up cap (`AccountPool`), where `setCooldowns`'s
    /// never-shorten rule would keep the far value.
    public func replaceCooldown(_ name: String, until: Int64) throws(AccountStoreError) {
        try update(name) { $0.cooldownUntil = until }
    }

    /// Sets the last quota of every named account in one write of the file (names it does not hold are skipped).
    public func setQuotas(_ quotas: [(name: String, quota: AccountStoreEntry.Quota)]) throws(AccountStoreError) {
        guard !quotas.isEmpty else { return }
        try readMergeWrite { state in
            for (name, quota) in quotas {
                if let index = state.indexByName[name] { state.entries[index].quota = quota }
            }
            return .success(())
        }
    }

    /// Writes the current state (e.g. at shutdown). No-op for a memory-only store.
    public func save() throws(AccountStoreError) {
        try readMergeWrite { _ in .success(()) }
    }

    /// Whether memory holds changes a failed write left out of the file (a cooldown, a rotated token, quotas) that
    /// no write has carried since. Nothing else would write them on a proxy with nothing new to write, and a restart
    /// would lose them: the continuity timer and shutdown call `save()` while this holds.
    public var hasUnwrittenChanges: Bool { behind.load(ordering: .acquiring) }

    /// One read-merge-write of the file, the step every mutation is: under `writing` and the cross-process
    /// `FileLock`, takes in what another process wrote, applies `change` to a copy of the state, writes the file
    /// from the copy unless `change` failed, then installs the copy (a failed write keeps the change in memory and
    /// throws its reason). The file is read and written outside `state`: readers never wait for the disk.
    private func readMergeWrite<T: Sendable>(
        _ change: (inout State) -> Result<T, AccountStoreError>
    ) throws(AccountStoreError) -> T {
        var taken: [String] = []
        let result: Result<T, AccountStoreError> = writing.withLock { _ in
            FileLock.exclusive(lockPath) {
                let file = readFile()
                // A copy: only this function and `absorbExternalChanges` change `state`, both under `writing`.
                var next = state.withLock { $0 }
                taken = Self.absorb(file, into: &next)
                let changed = change(&next)
                var written = changed
                if case .success = changed {
                    let error = write(next)
                    if let error { written = .failure(error) }
                    behind.store(error != nil && path != nil, ordering: .releasing)
                }
                // After the write: a rotated refresh token is on disk before any reader can see its access token.
                state.withLock { $0 = next }
                return written
            }
        }
        report(taken)
        return try result.get()
    }

    /// Takes in, without writing, what another process changed in the file (an `accounts import`): called
    /// periodically, so imported tokens are used even while the proxy has nothing of its own to write.
    public func absorbExternalChanges() {
        let taken = writing.withLock { _ -> [String] in
            let file = readFile()
            var next = state.withLock { $0 }
            let taken = Self.absorb(file, into: &next)
            if !taken.isEmpty { state.withLock { $0 = next } }
            return taken
        }
        report(taken)
    }

    /// The entries of the file, or nil when it is absent, unreadable or undecodable: such a file is left to be
    /// overwritten with what this store holds (as before: its copy is then the only good one).
    private func readFile() -> [AccountStoreEntry]? {
        guard let path, let bytes = try? AtomicFile.readIfExists(path) else { return nil }
        return try? AccountStoreCodec.decode(bytes)
    }

    /// Takes in what another process changed in the file since this store last wrote it
    /// (`AccountStoreExternalChanges`), before a mutation is applied: every writer's change lands on the
    /// latest file, so an import's own entry is what it writes, and the proxy's next change keeps the import.
    /// Returns the names of the entries it took in (added, or whose login it adopted).
    private static func absorb(_ file: [AccountStoreEntry]?, into state: inout State) -> [String] {
        guard let file else { return [] }
        let before = state.entries
        state.entries = AccountStoreExternalChanges.merge(memory: before, file: file)
        for (i, entry) in state.entries.enumerated() { state.indexByName[entry.name] = i }
        return state.entries.enumerated().compactMap { i, entry in
            guard i < before.count else { return entry.name }
            let kept =
                AccountStoreExternalChanges.sameCredentials(before[i], entry)
                && before[i].refreshGeneration == entry.refreshGeneration
            return kept ? nil : entry.name
        }
    }

    /// `<path>.lock`: held around each read-merge-write of the file (`FileLock`), by this process and any other
    /// (`accounts import`), so neither writes over a change the other made between its read and its write.
    private var lockPath: String? { path.map { $0 + ".lock" } }

    private func report(_ taken: [String]) {
        if !taken.isEmpty { onExternalChanges?(taken) }
    }

    private func write(_ state: State) -> AccountStoreError? {
        guard let path else { return nil }
        do {
            try AtomicFile.write(AccountStoreCodec.encode(state.entries), to: path)
            return nil
        } catch {
            return AccountStoreError(error)
        }
    }
}
