import CCurl
import Glibc
import Synchronization

/// A `CURLM *` handed between threads. Only the loop thread drives it; other threads may only call
/// `curl_multi_wakeup` (documented thread-safe), and only through `CurlMultiInbox.post`.
struct CurlMultiPointer: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer
}

/// The mailbox between callers on any thread and the curl loop thread of one `UpstreamClient`.
///
/// Commands queue under a `Mutex`; posting to an empty queue wakes the loop with `curl_multi_wakeup`. It does
/// no transfer work itself. Concurrency: `Sendable`; all state is behind `state`. The wakeup happens under the
/// lock, and the loop closes the inbox under the same lock before it frees the multi handle, so a late post can
/// never touch a freed handle.
final class CurlMultiInbox: Sendable {
    enum Command: Sendable {
        case start(UpstreamTransfer, UpstreamRequest, any UpstreamDelegate)
        case cancel(UInt64)
        case resume(UInt64)
        case shutdown
    }

    private struct State {
        var commands: [Command] = []
        var closed = false
    }

    let multi: CurlMultiPointer
    private let state = Mutex(State())
    /// Bumped (release) as a command is posted and read (acquire) as commands are taken, both under `state`'s
    /// lock: it orders nothing the lock does not, but ThreadSanitizer cannot see `Mutex`'s own happens-before
    /// edge and would report every value handed to the curl thread in a command.
    private let handOff = Atomic<UInt64>(0)
    /// `pthread_self()` of the loop thread once it runs, so `close()` can refuse to wait on itself.
    private let loopThread = Atomic<UInt>(0)

    init(multi: CurlMultiPointer) {
        self.multi = multi
    }

    /// Queues a command. Returns `false` when the loop has already shut down (the command is dropped).
    @discardableResult
    func post(_ command: Command) -> Bool {
        let multi = self.multi
        return state.withLock { state -> Bool in
            guard !state.closed else { return false }
            let wasEmpty = state.commands.isEmpty
            state.commands.append(command)
            handOff.add(1, ordering: .releasing)
            // A non-empty queue already has a wakeup pending since the loop's last `takeAll`.
            if wasEmpty { _ = curl_multi_wakeup(multi.raw) }
            return true
        }
    }

    /// Loop thread: takes every queued command, oldest first.
    func takeAll() -> [Command] {
        state.withLock { state in
            _ = handOff.load(ordering: .acquiring)
            let commands = state.commands
            state.commands = []
            return commands
        }
    }

    /// Loop thread: refuses further posts and returns what was still queued.
    func close() -> [Command] {
        state.withLock { state in
            _ = handOff.load(ordering: .acquiring)
            state.closed = true
            let commands = state.commands
            state.commands = []
            return commands
        }
    }

    func markLoopThread() { loopThread.store(UInt(pthread_self()), ordering: .releasing) }

    var isOnLoopThread: Bool { loopThread.load(ordering: .acquiring) == UInt(pthread_self()) }
}
