import Synchronization

/// The conversations whose history an account has refused for content another account sealed
/// (`invalid_encrypted_content`, `EncryptedReasoning`), and the sealed reasoning that account produced itself in
/// them since.
///
/// After a conversation moves accounts, every later turn resends the same history. Without this memory each
/// turn would be refused once more and then sent without any reasoning, the new account's own included. With
/// it, a turn of such a conversation on that account goes at once without the reasoning it did not produce, and
/// keeps what it did (`reasoning_strip`, reason `sealed_elsewhere`). Only reasoning is stripped ahead: a
/// compaction item is produced outside the conversation's turns, so it is left to the refusal.
///
/// Bounded: `maximumConversations` (session, account) pairs, oldest first out, each with at most
/// `maximumDigests` digests; an evicted pair only costs one refusal again. Digests are keyed (`TranscriptDigest`),
/// so a client cannot make another account's content pass for this one's. Memory only: a restart costs one
/// refusal per conversation. Concurrency: `Sendable`, one `Mutex`.
final class SealedContentMemory: Sendable {
    static let maximumConversations = 10_000
    static let maximumDigests = 512

    private let table = Mutex(AffinityBoundedTable<[Int]>())
    /// Set by the first refusal: until then every request skips the memory with one atomic load.
    private let used = Atomic<Bool>(false)

    /// Whether any account ever refused sealed content (the hot path's only cost while none has).
    var isUsed: Bool { used.load(ordering: .relaxed) }

    private static func key(_ session: String, _ account: Int) -> String { "\(session)|\(account)" }

    static func digest(_ blob: ArraySlice<UInt8>) -> Int {
        var d = TranscriptDigest()
        blob.withUnsafeBytes { d.combine($0) }
        return d.value
    }

    /// The account refused sealed content in the conversation: from now on it is sent only what it produced.
    func refused(session: String, account: Int) {
        let key = Self.key(session, account)
        table.withLock { t in
            if t[key] == nil { t.insert(key, [], limit: Self.maximumConversations) }
        }
        used.store(true, ordering: .relaxed)
    }

    /// Sealed reasoning the account produced in a conversation it refused content in (ignored otherwise).
    func produced(session: String, account: Int, blobs: [ArraySlice<UInt8>]) {
        guard isUsed, !blobs.isEmpty else { return }
        let key = Self.key(session, account)
        table.withLock { t in
            guard var known = t[key] else { return }
            known.append(contentsOf: blobs.map(Self.digest))
            if known.count > Self.maximumDigests { known.removeFirst(known.count - Self.maximumDigests) }
            t.insert(key, known, limit: Self.maximumConversations)
        }
    }

    /// What the account can read in the conversation, when it refused content there; nil otherwise.
    func readable(session: String, account: Int) -> Set<Int>? {
        guard isUsed else { return nil }
        return table.withLock { t in t[Self.key(session, account)].map(Set.init) }
    }
}
