import Dispatch
import Foundation
import Synchronization

/// SIGINT and SIGTERM for a command that drains before it exits (`serve`, `demo`).
///
/// `init` takes both signals over at once: create it before any start-up work. A signal that arrives while the
/// proxy still loads its state or binds is kept, and `wait()` returns at once, so the process still drains and
/// saves its state. Until 2026-12-07 the signals were taken over only after start-up, and one arriving during it
/// killed the process with the default action, saving nothing.
///
/// The first signal ends `wait()`; the caller drains. A second one ends the process at once, with a line on
/// standard error and status 128 + the signal (130 for SIGINT, as a shell reports death by it): whoever presses
/// Ctrl-C twice wants out, not the rest of a drain of up to `limits.shutdownDrainSeconds`. That exit skips what the
/// drain had left to do, the final continuity snapshot included (the periodic one is at most
/// `continuity.snapshotSeconds` old), but not what `beforeImmediateExit` names. Both signals were ignored after the first, so nothing but SIGKILL ended a slow
/// drain.
///
/// The dispatch sources are created in this nonisolated initialiser, so their handlers are not inferred
/// `@MainActor` (which crashes when they fire on the signal queue).
/// Concurrency: owned by the thread that created it, which calls `wait()`; the handlers run on the serial queue
/// `sightline.signals` and share only `Received` (an `Atomic` and a semaphore) with it.
public final class TerminationSignal {
    private let received = Received()
    private let sources: [any DispatchSourceSignal]

    public init() {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let queue = DispatchQueue(label: "sightline.signals")
        let received = self.received
        let registered = DispatchGroup()
        sources = [SIGINT, SIGTERM].map { sig in
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { @Sendable in
                guard received.first.compareExchange(expected: 0, desired: sig, ordering: .relaxed).exchanged else {
                    FileHandle.standardError.write(Data("sightline: second signal, exiting without finishing\n".utf8))
                    // What must not be lost is still waited for (a token refresh in flight: its rotated token).
                    received.beforeImmediateExit.withLock { $0 }?()
                    // `_exit`, not `exit`: the drain's threads are still running, and atexit handlers could race them.
                    _exit(128 + sig)
                }
                received.semaphore.signal()
            }
            registered.enter()
            source.setRegistrationHandler { registered.leave() }
            source.resume()
            return source
        }
        // libdispatch installs its handler when a source is registered, on its own thread, after `resume`: until then
        // the signal is ignored, and one arriving in that window (a SIGTERM right at start-up) was lost.
        _ = registered.wait(timeout: .now() + 2)
    }

    /// Runs `body` on a second signal, before the immediate exit: what must be waited for even then, bounded by
    /// `body` itself.
    public func beforeImmediateExit(_ body: @escaping @Sendable () -> Void) {
        received.beforeImmediateExit.withLock { $0 = body }
    }

    /// Blocks until the first SIGINT or SIGTERM since `init` (at once if one came already) and returns its number.
    public func wait() -> Int32 {
        received.semaphore.wait()
        return received.first.load(ordering: .relaxed)
    }
}

@available(*, unavailable) extension TerminationSignal: Sendable {}

/// The first signal received (0 until then) and the semaphore `wait()` blocks on; written on the signal queue.
private final class Received: Sendable {
    let first = Atomic<Int32>(0)
    let semaphore = DispatchSemaphore(value: 0)
    let beforeImmediateExit = Mutex<(@Sendable () -> Void)?>(nil)
}
